package teamsapp

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/multiline/multiline/internal/testenv"
)

// FuzzSignIn: whatever Authorization header reaches the tab's API, /me
// answers 200 only for the Teams SSO token Entra (the local issuer) signed,
// as it was signed, and 401 with a JSON error for anything else: a token with
// any one byte changed, another scheme, another tenant, audience or key.
func FuzzSignIn(f *testing.F) {
	is := newIssuer(f, "k1", "k2")
	auth := is.authenticator(f, time.Now)
	w := newTabWorld(f, func(c *Config) { c.Auth = auth; c.AppID = testAppID })
	now := time.Now()
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := goodClaims(now)
		c["oid"] = "oid-ann"
		if change != nil {
			change(c)
		}
		return c
	}
	good := is.sign(f, "k1", claims(nil))
	v2 := is.sign(f, "k2", claims(func(c jwt.MapClaims) {
		c["iss"] = "https://login.microsoftonline.com/" + testTenant + "/v2.0"
		c["aud"] = testAppID
	}))
	genuine := map[string]bool{good: true, v2: true}
	tokens := []string{good, v2}
	for _, h := range []string{
		"Bearer " + good, "bearer " + v2, "Bearer  " + good + " ", "Bearer " + good + "x", "Basic " + good, "Bearer", "",
		"Bearer " + is.sign(f, "k1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"Bearer " + is.sign(f, "k1", claims(func(c jwt.MapClaims) { c["aud"] = "api://someone-else" })),
		"Bearer " + is.sign(f, "k1", claims(func(c jwt.MapClaims) { c["tid"] = "00000000-0000-0000-0000-000000000000" })),
		"Bearer " + is.sign(f, "k1", claims(func(c jwt.MapClaims) { c["oid"] = "oid-nobody" })),
		"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJvaWQiOiJvaWQtYW5uIn0.",
	} {
		f.Add(h, uint16(0), byte(0))
	}
	f.Add("", uint16(2*len(good)/3), byte('A'))
	f.Fuzz(func(t *testing.T, header string, pos uint16, b byte) {
		if b != 0 {
			// One byte of a genuine token changed: the check must catch it
			// wherever it is.
			tok, ok := testenv.ChangeByte(tokens, pos, b)
			if !ok {
				return
			}
			header = "Bearer " + tok
		}
		rec := serveRaw(w.e, http.MethodGet, "/api/v1/me", header, "", nil)
		switch rec.Code {
		case http.StatusOK:
			scheme, tok, _ := strings.Cut(header, " ")
			var me meJSON
			if !strings.EqualFold(scheme, "Bearer") || !genuine[strings.TrimSpace(tok)] {
				t.Fatalf("signed in with a token nobody signed: %q", header)
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil || me.ID != w.ann {
				t.Fatalf("signed in as %+v (%v)", me, err)
			}
		case http.StatusUnauthorized, http.StatusForbidden:
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("status %d without a JSON error: %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzSignedLink: a media link's signature and a live-update ticket are
// accepted only as they were made, for the purpose and value they were made
// for and until they expire; anything else is ErrBadSignature or ErrExpired.
// Opening a sealed ticket gives back its value.
func FuzzSignedLink(f *testing.F) {
	s := signer{key: []byte("0123456789abcdef0123456789abcdef")}
	exp := time.Unix(1780000000, 0)
	made := map[[2]string]string{} // purpose, value → token
	for _, pv := range [][2]string{{mediaPurpose, "cisouVn2Gtr4lyrWV9k5vg"}, {ticketPurpose, "WP1yaioLu2"}} {
		made[pv] = s.sign(pv[0], pv[1], exp)
		f.Add(pv[0] == mediaPurpose, pv[1], made[pv], int64(-60))
		f.Add(pv[0] == mediaPurpose, pv[1], made[pv], int64(60))
		f.Add(pv[0] != mediaPurpose, pv[1], made[pv], int64(-60))
		f.Add(pv[0] == mediaPurpose, pv[1]+"x", made[pv], int64(-60))
		f.Add(pv[0] == mediaPurpose, pv[1], pv[1]+"~"+made[pv], int64(-60))
	}
	// testdata/fuzz/FuzzSignedLink holds what the target found.
	f.Add(true, "", "", int64(0))
	f.Add(false, "a~b", "1.x", int64(0))
	f.Fuzz(func(t *testing.T, media bool, value, token string, offset int64) {
		purpose := ticketPurpose
		if media {
			purpose = mediaPurpose
		}
		now := exp.Add(time.Duration(offset%(1<<40)) * time.Second)
		err := s.verify(purpose, value, token, now)
		want, ok := made[[2]string{purpose, value}]
		switch {
		case err == nil && (!ok || token != want || now.After(exp)):
			t.Fatalf("verify(%q, %q, %q) accepted at %v", purpose, value, token, now)
		case err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired):
			t.Fatalf("untyped refusal: %v", err)
		case errors.Is(err, ErrExpired) && (!ok || token != want):
			t.Fatalf("a forged token reported as expired")
		}
		got, err := s.open(purpose, token, now)
		if err == nil {
			v, sig, _ := strings.Cut(token, "~")
			if got != v || made[[2]string{purpose, v}] != sig || now.After(exp) {
				t.Fatalf("open(%q) = %q at %v", token, got, now)
			}
		}
		if !strings.Contains(value, "~") {
			sealed := s.seal(purpose, value, exp)
			if got, err := s.open(purpose, sealed, exp); err != nil || got != value {
				t.Fatalf("open(seal(%q)) = %q, %v", value, got, err)
			}
		}
	})
}
