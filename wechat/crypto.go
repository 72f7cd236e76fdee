package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Crypto errors. Callers (the callback handler) map all of them to a 4xx answer.
var (
	// ErrInvalidAESKey means the EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
	ErrInvalidAESKey = errors.New("wechat: invalid EncodingAESKey")
	// ErrBadSignature means a signature did not match.
	ErrBadSignature = errors.New("wechat: signature mismatch")
	// ErrBadCiphertext means the payload is not valid base64, not block aligned,
	// badly padded or structurally broken after decryption.
	ErrBadCiphertext = errors.New("wechat: malformed ciphertext")
	// ErrReceiveIDMismatch means the payload decrypted but was meant for another corp or app.
	ErrReceiveIDMismatch = errors.New("wechat: receive id mismatch")
)

// blockSize is WeChat's PKCS#7 block: 32 bytes, not AES's 16.
const blockSize = 32

// Cipher signs, verifies, encrypts and decrypts WeChat callback payloads
// (WeCom callbacks and Official Account "safe mode").
type Cipher struct {
	token     string
	key       []byte
	receiveID string
	// Rand supplies the 16 random prefix bytes on Encrypt. Nil means crypto/rand;
	// tests set a fixed reader for golden ciphertexts.
	Rand io.Reader
}

// NewCipher builds a Cipher from the console settings: the callback Token, the
// 43-character EncodingAESKey, and the receive id (corp id for WeCom, app id for an
// Official Account).
func NewCipher(token, encodingAESKey, receiveID string) (*Cipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("%w: want 43 characters, got %d", ErrInvalidAESKey, len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: not base64 of 32 bytes", ErrInvalidAESKey)
	}
	if token == "" || receiveID == "" {
		return nil, errors.New("wechat: cipher needs a token and a receive id")
	}
	return &Cipher{token: token, key: key, receiveID: receiveID}, nil
}

// ReceiveID returns the corp id or app id this cipher checks.
func (c *Cipher) ReceiveID() string { return c.receiveID }

// Signature is sha1 over the lexically sorted, concatenated parts, in hex.
// WeCom signs {token, timestamp, nonce, encrypted}; Official Account plaintext mode
// signs {token, timestamp, nonce}.
func Signature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// Sign returns msg_signature for an encrypted payload.
func (c *Cipher) Sign(timestamp, nonce, encrypted string) string {
	return Signature(c.token, timestamp, nonce, encrypted)
}

// Verify checks msg_signature in constant time.
func (c *Cipher) Verify(signature, timestamp, nonce, encrypted string) error {
	return verifySignature(signature, c.Sign(timestamp, nonce, encrypted))
}

func verifySignature(got, want string) error {
	// Compare lower-case hex; the length check leaks only the (public) length.
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Decrypt opens a base64 payload and returns the message after checking strict
// PKCS#7 padding, the length prefix and the receive id.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	msg, id, err := openPayload(c.key, encrypted)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(id, []byte(c.receiveID)) != 1 {
		return nil, fmt.Errorf("%w: got %q", ErrReceiveIDMismatch, id)
	}
	return msg, nil
}

// openPayload decrypts and splits random(16) ‖ len(4) ‖ msg ‖ receiveid.
func openPayload(key []byte, encrypted string) (msg, receiveID []byte, err error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encrypted))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base64: %v", ErrBadCiphertext, err)
	}
	if len(raw) == 0 || len(raw)%blockSize != 0 {
		return nil, nil, fmt.Errorf("%w: length %d is not a multiple of %d", ErrBadCiphertext, len(raw), blockSize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidAESKey, err)
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, raw)
	plain, err = unpad(plain)
	if err != nil {
		return nil, nil, err
	}
	if len(plain) < 20 {
		return nil, nil, fmt.Errorf("%w: plaintext too short", ErrBadCiphertext)
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	rest := plain[20:]
	if uint64(n) > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("%w: length prefix %d exceeds payload", ErrBadCiphertext, n)
	}
	return rest[:n], rest[n:], nil
}

// unpad removes PKCS#7 padding to 32-byte blocks; every pad byte must match.
func unpad(b []byte) ([]byte, error) {
	p := int(b[len(b)-1])
	if p < 1 || p > blockSize || p > len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
	}
	for _, v := range b[len(b)-p:] {
		if int(v) != p {
			return nil, fmt.Errorf("%w: bad padding", ErrBadCiphertext)
		}
	}
	return b[:len(b)-p], nil
}

// Encrypt seals msg for this cipher's receive id and returns base64 text.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	var buf bytes.Buffer
	prefix := make([]byte, 16)
	if _, err := io.ReadFull(r, prefix); err != nil {
		return "", fmt.Errorf("wechat: random prefix: %w", err)
	}
	buf.Write(prefix)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	buf.Write(n[:])
	buf.Write(msg)
	buf.WriteString(c.receiveID)
	p := blockSize - buf.Len()%blockSize
	buf.Write(bytes.Repeat([]byte{byte(p)}, p))

	block, err := aes.NewCipher(c.key)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidAESKey, err)
	}
	out := buf.Bytes()
	cipher.NewCBCEncrypter(block, c.key[:aes.BlockSize]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out), nil
}
