package teamsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadSignature: a signed value (media URL, events ticket, dev session) was
// forged, altered, or made for another purpose.
var ErrBadSignature = errors.New("bad signature")

// ErrExpired: a signed value was genuine but is past its expiry.
var ErrExpired = errors.New("signature expired")

// signer makes short, expiring HMAC-SHA256 tokens. The purpose is part of the MAC so a
// media signature cannot be replayed as a session, and so on.
type signer struct{ key []byte }

func (s signer) mac(purpose, value string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s\x00%s\x00%d", purpose, value, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sign returns "<exp>.<mac>" for value.
func (s signer) sign(purpose, value string, exp time.Time) string {
	e := exp.Unix()
	return strconv.FormatInt(e, 10) + "." + s.mac(purpose, value, e)
}

// verify checks a token made by sign for value.
func (s signer) verify(purpose, value, token string, now time.Time) error {
	es, mac, ok := strings.Cut(token, ".")
	if !ok {
		return ErrBadSignature
	}
	e, err := strconv.ParseInt(es, 10, 64)
	if err != nil || strconv.FormatInt(e, 10) != es {
		// Only the form sign writes: "0…" or "+…" would make one signature
		// many different links (the MAC covers the number, not its text).
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(mac), []byte(s.mac(purpose, value, e))) {
		return ErrBadSignature
	}
	if now.Unix() > e {
		return ErrExpired
	}
	return nil
}

// sealed packs value with its signature ("<value>~<exp>.<mac>") for cookies and
// tickets, where the value travels with the token. Values must not contain "~".
func (s signer) seal(purpose, value string, exp time.Time) string {
	return value + "~" + s.sign(purpose, value, exp)
}

// open returns the value of a sealed token after checking it.
func (s signer) open(purpose, token string, now time.Time) (string, error) {
	value, sig, ok := strings.Cut(token, "~")
	if !ok {
		return "", ErrBadSignature
	}
	if err := s.verify(purpose, value, sig, now); err != nil {
		return "", err
	}
	return value, nil
}
