package teamsapp

import (
	"errors"
	"testing"
	"time"
)

// A signature is accepted only in the form sign wrote it: FuzzSignedLink found
// that "0<exp>.<mac>" and "+<exp>.<mac>" passed too, so that one media link or
// ticket had many spellings.
func TestSignerAcceptsOnlyTheFormItWrote(t *testing.T) {
	s := signer{key: []byte("k")}
	exp := time.Unix(1780000000, 0)
	tok := s.sign(mediaPurpose, "ref", exp)
	if err := s.verify(mediaPurpose, "ref", tok, exp); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	for _, bad := range []string{"0" + tok, "+" + tok, "00" + tok} {
		if err := s.verify(mediaPurpose, "ref", bad, exp); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%q: %v, want ErrBadSignature", bad, err)
		}
		if _, err := s.open(ticketPurpose, "emp~"+bad, exp); !errors.Is(err, ErrBadSignature) {
			t.Errorf("ticket %q: %v, want ErrBadSignature", bad, err)
		}
	}
	if err := s.verify(mediaPurpose, "ref", tok, exp.Add(time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("after expiry: %v", err)
	}
}
