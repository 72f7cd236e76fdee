package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/multiline/multiline/internal/testenv"
)

// FuzzValidate: whatever Authorization header, serviceUrl and channelId an
// activity comes with, Validate either refuses it with one of its errors (401
// or 403), or it carried, unchanged, one of the tokens the issuer signed, for
// the service URL that token names and a channel its key endorses. A token
// with any one byte changed is never accepted, nor a header of another scheme.
func FuzzValidate(f *testing.F) {
	is := newIssuer(f)
	v := is.validator(f, SingleTenant)
	bf := is.sign(f, tok{})
	entra := is.sign(f, tok{kid: "entra1", iss: "https://login.microsoftonline.com/" + tenant + "/v2.0", tid: tenant})
	genuine := map[string]string{bf: serviceURL, entra: serviceURL}
	tokens := []string{bf, entra}
	for _, s := range []struct{ header, svc, channel string }{
		{"Bearer " + bf, serviceURL, "msteams"},
		{"bearer  " + bf + " ", "https://SMBA.trafficmanager.net/amer", "webchat"},
		{"Bearer " + entra, serviceURL, "msteams"},
		{"Bearer " + bf, "https://evil.example/", "msteams"},
		{"Bearer " + bf, serviceURL, "slack"},
		{"Bearer " + is.sign(f, tok{kid: "bf-noendorse"}), serviceURL, "msteams"},
		{"Bearer " + is.sign(f, tok{kid: "never-published"}), serviceURL, "msteams"},
		{"Bearer " + is.sign(f, tok{noServiceURL: true}), serviceURL, "msteams"},
		{"Basic " + bf, serviceURL, "msteams"},
		{"Bearer eyJhbGciOiJub25lIn0.e30.", serviceURL, "msteams"},
		{"", serviceURL, "msteams"},
	} {
		f.Add(s.header, s.svc, s.channel, uint16(0), byte(0))
	}
	f.Add("", serviceURL, "msteams", uint16(2*len(bf)/3), byte('A'))
	f.Fuzz(func(t *testing.T, header, svc, channel string, pos uint16, b byte) {
		if b != 0 {
			// One byte of a genuine token changed: the check must catch it
			// wherever it is.
			tok, ok := testenv.ChangeByte(tokens, pos, b)
			if !ok {
				return
			}
			header = "Bearer " + tok
		}
		c, err := v.Validate(context.Background(), header, svc, channel)
		if err != nil {
			if !errors.Is(err, ErrNoToken) && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrKeysUnavailable) {
				t.Fatalf("untyped refusal: %v", err)
			}
			if s := StatusCode(err); s != http.StatusUnauthorized && s != http.StatusForbidden {
				t.Fatalf("refusal answered %d: %v", s, err)
			}
			return
		}
		scheme, raw, _ := strings.Cut(strings.TrimSpace(header), " ")
		token := strings.TrimSpace(raw)
		want, ok := genuine[token]
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("accepted a token nobody signed: %q", header)
		}
		if !strings.EqualFold(strings.TrimSuffix(svc, "/"), strings.TrimSuffix(want, "/")) || c.ServiceURL != want {
			t.Fatalf("token for %s accepted for service URL %q", want, svc)
		}
		if token == bf && channel != "msteams" && channel != "webchat" {
			t.Fatalf("accepted for channel %q, which the key does not endorse", channel)
		}
	})
}

// staticAnswers serves fixed bodies by URL path, in the process.
type staticAnswers map[string][]byte

func (a staticAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	body, ok := a[r.URL.Path]
	status := http.StatusOK
	if !ok {
		status = http.StatusNotFound
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
		Body: io.NopCloser(bytes.NewReader(body))}, nil
}

// FuzzSigningKeys: whatever the OpenID metadata and the key set say, the key
// set read from them holds only RSA signing keys of 2048 bits or more with a
// sane exponent, each under a kid the key set names, or the fetch fails.
func FuzzSigningKeys(f *testing.F) {
	is := newIssuer(f)
	var keys bytes.Buffer
	is.mu.Lock()
	json.NewEncoder(&keys).Encode(map[string]any{"keys": []any{jwk("bf1", &is.bfKeys["bf1"].PublicKey, []string{"msteams"}),
		jwk("small", &genKey(f).PublicKey, nil)}})
	is.mu.Unlock()
	meta := []byte(`{"issuer":"https://api.botframework.com","authorization_endpoint":"https://invalid.botframework.com","jwks_uri":"https://login.botframework.com/v1/.well-known/keys",` +
		`"id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["private_key_jwt"]}`)
	f.Add(meta, keys.Bytes())
	f.Add(meta, []byte(`{"keys":[{"kty":"RSA","use":"sig","kid":"k","n":"AQAB","e":"AQAB"}]}`))
	f.Add(meta, []byte(`{"keys":[{"kty":"RSA","use":"enc","kid":"k","n":"`+strings.Repeat("A", 400)+`","e":"AQAB"},{"kty":"EC","kid":"e"}]}`))
	f.Add([]byte(`{"jwks_uri":""}`), []byte(`{}`))
	f.Add([]byte(`{"jwks_uri":"https://login.botframework.com/v1/.well-known/keys"}`), []byte(`{"keys":[{"kty":"RSA","kid":"k","n":"_w","e":"AAAAAAAAAAAB"}]}`))
	f.Fuzz(func(t *testing.T, metadata, jwksBody []byte) {
		s := &keySet{metadataURL: "https://login.botframework.com/v1/.well-known/openidconfiguration",
			client: &http.Client{Transport: staticAnswers{"/v1/.well-known/openidconfiguration": metadata, "/v1/.well-known/keys": jwksBody}}}
		got, err := s.fetch(context.Background())
		if err != nil {
			return
		}
		var set jwks
		if err := json.Unmarshal(jwksBody, &set); err != nil {
			t.Fatalf("keys read from a key set that is not JSON: %v", err)
		}
		if len(got) == 0 {
			t.Fatal("a key set without keys accepted")
		}
		for kid, k := range got {
			named := false
			for _, x := range set.Keys {
				named = named || x.Kid == kid && x.Kty == "RSA" && (x.Use == "" || x.Use == "sig")
			}
			if !named || kid == "" {
				t.Fatalf("key %q is not an RSA signing key of the set", kid)
			}
			if k.pub.N.BitLen() < 2048 || k.pub.E < 3 {
				t.Fatalf("key %q: %d bits, exponent %d", kid, k.pub.N.BitLen(), k.pub.E)
			}
		}
	})
}
