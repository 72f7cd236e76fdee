package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// canonicalMagic opens every event's canonical bytes: a change of format changes
// the name, so an old hash can never be read with new rules.
const canonicalMagic = "multiline.archive.v1\n"

// maxBodyDepth bounds nesting in a body, so a hostile body cannot exhaust the stack.
const maxBodyDepth = 64

// CanonicalBytes is the byte string an event's hash covers (see the package
// documentation): everything but Body itself, which it covers by BodyHash.
func CanonicalBytes(e Event) []byte {
	var b bytes.Buffer
	b.WriteString(canonicalMagic)
	putString(&b, e.Company)
	putString(&b, e.Thread)
	putInt64(&b, e.Seq)
	putInt64(&b, e.Time.UnixMicro())
	putString(&b, string(e.Kind))
	b.Write(e.BodyHash[:])
	return b.Bytes()
}

// ChainHash is SHA-256(prev ‖ CanonicalBytes(e)): the Hash e must carry when
// prev is the hash of the event before it.
func ChainHash(prev Hash, e Event) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(CanonicalBytes(e))
	var out Hash
	h.Sum(out[:0])
	return out
}

func putString(b *bytes.Buffer, s string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(s)))
	b.Write(n[:])
	b.WriteString(s)
}

func putInt64(b *bytes.Buffer, v int64) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(v))
	b.Write(n[:])
}

// CanonicalJSON rewrites a JSON value in the canonical form the body hash is
// taken over (see the package documentation), so the same content always has the
// same hash whatever the database did to its spelling. It refuses invalid JSON,
// duplicate object names and nesting deeper than 64.
func CanonicalJSON(in []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	var out bytes.Buffer
	if err := canonValue(d, &out, 0); err != nil {
		return nil, fmt.Errorf("archive: canonical JSON: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("archive: canonical JSON: text after the value")
	}
	return out.Bytes(), nil
}

// BodyHash is SHA-256 of the canonical form of body.
func BodyHash(body []byte) (Hash, error) {
	c, err := CanonicalJSON(body)
	if err != nil {
		return Hash{}, err
	}
	return Sum(c), nil
}

func canonValue(d *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxBodyDepth {
		return fmt.Errorf("nested deeper than %d", maxBodyDepth)
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return canonObject(d, out, depth)
		case '[':
			out.WriteByte('[')
			for i := 0; d.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(d, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := d.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
			return nil
		}
		return fmt.Errorf("unexpected %q", t)
	case string:
		writeCanonString(out, t)
	case json.Number:
		s, err := canonNumber(string(t))
		if err != nil {
			return err
		}
		out.WriteString(s)
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %v", tok)
	}
	return nil
}

func canonObject(d *json.Decoder, out *bytes.Buffer, depth int) error {
	type member struct {
		name  string
		value []byte
	}
	var members []member
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object name %v is not a string", tok)
		}
		if seen[name] {
			return fmt.Errorf("duplicate object name %q", name)
		}
		seen[name] = true
		var v bytes.Buffer
		if err := canonValue(d, &v, depth+1); err != nil {
			return err
		}
		members = append(members, member{name, v.Bytes()})
	}
	if _, err := d.Token(); err != nil {
		return err
	}
	sort.Slice(members, func(i, j int) bool { return members[i].name < members[j].name })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeCanonString(out, m.name)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// writeCanonString escapes only what JSON requires: '"', '\' and control characters.
func writeCanonString(out *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	out.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hexDigits[r>>4])
			out.WriteByte(hexDigits[r&0xf])
		default:
			// An invalid byte decodes as utf8.RuneError, written as U+FFFD.
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}

// canonNumber writes integers exactly and other numbers as the shortest form
// that reads back as the same float64.
func canonNumber(lit string) (string, error) {
	if !strings.ContainsAny(lit, ".eE") {
		var n big.Int
		if _, ok := n.SetString(lit, 10); !ok {
			return "", fmt.Errorf("bad number %q", lit)
		}
		return n.String(), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return "", fmt.Errorf("number %q: %w", lit, err)
	}
	switch {
	case f == 0:
		return "0", nil
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', 0, 64), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}
