package testenv

// ChangeByte returns one of tokens, picked by pos, with its byte pos/2 counted
// from its end (where a JWT's signature is) replaced by b; ok is false when
// that byte is b already. The fuzz targets of token checks use it so that the
// fuzzer changes genuine tokens one byte at a time: a token it made up would
// hardly ever get as far as the signature check.
func ChangeByte(tokens []string, pos uint16, b byte) (changed string, ok bool) {
	tok := []byte(tokens[int(pos)%len(tokens)])
	i := len(tok) - 1 - int(pos/2)%len(tok)
	if tok[i] == b {
		return "", false
	}
	tok[i] = b
	return string(tok), true
}
