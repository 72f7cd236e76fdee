package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest. It is its own type so that a chain link, a body hash
// and a media hash cannot be confused with other byte slices, and so that it
// prints and marshals as lower-case hex, as archives and people read it.
type Hash [sha256.Size]byte

// Sum is SHA-256 of b, as a Hash; media and bodies are hashed with it.
func Sum(b []byte) Hash { return Hash(sha256.Sum256(b)) }

// IsZero reports whether h is all zeros: the Prev of a chain's first event.
func (h Hash) IsZero() bool { return h == Hash{} }

// String is the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes the lower-case hex form, so JSON carries hashes readably.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads the hex form (either case).
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash reads a 64-digit hex SHA-256, as found in an export or a header.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("archive: a hash has %d hex digits, not %d", 2*len(h), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("archive: hash %q: %w", s, err)
	}
	return h, nil
}
