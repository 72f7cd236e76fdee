package teamsapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testAppID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

// issuer is a local Entra stand-in: OpenID metadata and a JWKS with the keys in
// keys (which a test may change to roll keys).
type issuer struct {
	srv       *httptest.Server
	keys      atomic.Pointer[map[string]*rsa.PrivateKey]
	jwksCalls atomic.Int32
	down      atomic.Bool // the JWKS answers 503
}

func newIssuer(t testing.TB, kids ...string) *issuer {
	t.Helper()
	is := &issuer{}
	m := map[string]*rsa.PrivateKey{}
	for _, k := range kids {
		m[k] = newRSAKey(t)
	}
	is.keys.Store(&m)
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
			"jwks_uri": is.srv.URL + "/discovery/v2.0/keys"})
	})
	// A sovereign cloud: another host, its own issuer.
	mux.HandleFunc("/sovereign/{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://login.microsoftonline.us/{tenantid}/v2.0",
			"jwks_uri": is.srv.URL + "/discovery/v2.0/keys"})
	})
	mux.HandleFunc("/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwksCalls.Add(1)
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var set []map[string]string
		for kid, k := range *is.keys.Load() {
			set = append(set, map[string]string{"kty": "RSA", "use": "sig", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": set})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (is *issuer) authenticator(t testing.TB, now func() time.Time) *EntraAuthenticator {
	t.Helper()
	a, err := NewEntraAuthenticator(EntraConfig{TenantID: testTenant, AppID: testAppID, Now: now,
		MetadataURL: is.srv.URL + "/" + testTenant + "/v2.0/.well-known/openid-configuration",
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func goodClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"aud": "api://multiline.example.com/" + testAppID,
		"iss": "https://sts.windows.net/" + testTenant + "/",
		"tid": testTenant, "oid": "oid-alice", "name": "Alice Chen",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func (is *issuer) sign(t testing.TB, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString((*is.keys.Load())[kid])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEntraTokenMatrix(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	is := newIssuer(t, "k1")
	other := newRSAKey(t)
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := goodClaims(now)
		change(c)
		return c
	}
	tests := []struct {
		name  string
		token func() string
		ok    bool
	}{
		{"valid v1 token, api:// audience", func() string { return is.sign(t, "k1", goodClaims(now)) }, true},
		{"valid v2 token, app id audience", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) {
				c["aud"], c["iss"] = testAppID, "https://login.microsoftonline.com/"+testTenant+"/v2.0"
			}))
		}, true},
		{"expired 4 minutes ago: within skew", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-4 * time.Minute).Unix() }))
		}, true},
		{"expired 6 minutes ago", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["exp"] = now.Add(-6 * time.Minute).Unix() }))
		}, false},
		{"no exp", func() string { return is.sign(t, "k1", with(func(c jwt.MapClaims) { delete(c, "exp") })) }, false},
		{"not yet valid", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))
		}, false},
		{"wrong audience", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["aud"] = "api://multiline.example.com/00000000-0000-0000-0000-000000000000" }))
		}, false},
		{"graph audience", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["aud"] = "https://graph.microsoft.com" }))
		}, false},
		{"api://<appId>, Entra's default URI", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["aud"] = "api://" + testAppID }))
		}, true},
		{"api:/// with empty domain", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["aud"] = "api:///" + testAppID }))
		}, false},
		{"app id as a prefix only", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["aud"] = "api://x/" + testAppID + "-evil" }))
		}, false},
		{"wrong issuer", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" }))
		}, false},
		{"other tenant's issuer and tid", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) {
				c["iss"], c["tid"] = "https://sts.windows.net/11111111-1111-1111-1111-111111111111/", "11111111-1111-1111-1111-111111111111"
			}))
		}, false},
		{"our issuer, other tid", func() string {
			return is.sign(t, "k1", with(func(c jwt.MapClaims) { c["tid"] = "11111111-1111-1111-1111-111111111111" }))
		}, false},
		{"no oid", func() string { return is.sign(t, "k1", with(func(c jwt.MapClaims) { delete(c, "oid") })) }, false},
		{"alg none", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, goodClaims(now))
			tok.Header["kid"] = "k1"
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}, false},
		{"HS256 with the public key as secret", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, goodClaims(now))
			tok.Header["kid"] = "k1"
			pub := (*is.keys.Load())["k1"].PublicKey
			s, _ := tok.SignedString(pub.N.Bytes())
			return s
		}, false},
		{"unknown kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, goodClaims(now))
			tok.Header["kid"] = "k9"
			s, _ := tok.SignedString(other)
			return s
		}, false},
		{"known kid, other key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, goodClaims(now))
			tok.Header["kid"] = "k1"
			s, _ := tok.SignedString(other)
			return s
		}, false},
		{"garbage", func() string { return "not.a.jwt" }, false},
	}
	a := is.authenticator(t, func() time.Time { return now })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Authenticate(t.Context(), tt.token())
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.ObjectID != "oid-alice" || id.TenantID != testTenant {
					t.Fatalf("identity %+v", id)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestEntraKeyRollover(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	is := newIssuer(t, "k1")
	a := is.authenticator(t, clock)
	if _, err := a.Authenticate(t.Context(), is.sign(t, "k1", goodClaims(now))); err != nil {
		t.Fatal(err)
	}
	// Entra adds a key; the first token signed with it arrives 2 minutes later.
	m := map[string]*rsa.PrivateKey{"k1": (*is.keys.Load())["k1"], "k2": newRSAKey(t)}
	is.keys.Store(&m)
	now = now.Add(2 * time.Minute)
	if _, err := a.Authenticate(t.Context(), is.sign(t, "k2", goodClaims(now))); err != nil {
		t.Fatalf("new key not picked up: %v", err)
	}
	calls := is.jwksCalls.Load()
	// A flood of unknown kids must not hammer Entra: at most one fetch a minute.
	for range 5 {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, goodClaims(now))
		tok.Header["kid"] = "bogus"
		s, _ := tok.SignedString(m["k1"])
		if _, err := a.Authenticate(t.Context(), s); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("bogus kid: %v", err)
		}
	}
	if got := is.jwksCalls.Load() - calls; got > 0 {
		t.Fatalf("%d JWKS fetches for unknown kids within a minute, want 0", got)
	}
}

func TestEntraKeysUnavailable(t *testing.T) {
	now := time.Now()
	is := newIssuer(t, "k1")
	tok := is.sign(t, "k1", goodClaims(now))
	is.srv.Close()
	a := is.authenticator(t, func() time.Time { return now })
	if _, err := a.Authenticate(t.Context(), tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
}

// TestSSOThroughTheAPI signs in with a real token end to end.
func TestSSOThroughTheAPI(t *testing.T) {
	f := newFixture(t, false)
	is := newIssuer(t, "k1")
	f.app.auth = is.authenticator(t, time.Now)
	var me meJSON
	if code := f.call(t, "GET", "/api/v1/me", is.sign(t, "k1", goodClaims(time.Now())), nil, &me); code != 200 || me.ID != "alice" {
		t.Fatalf("me = %d %+v", code, me)
	}
	c := goodClaims(time.Now())
	c["oid"] = "oid-carol"
	var e apiError
	if code := f.call(t, "GET", "/api/v1/threads", is.sign(t, "k1", c), nil, &e); code != 403 || e.Error != msgDisabled {
		t.Fatalf("disabled = %d %q", code, e.Error)
	}
	c["exp"] = time.Now().Add(-time.Hour).Unix()
	if code := f.call(t, "GET", "/api/v1/threads", is.sign(t, "k1", c), nil, &e); code != 401 {
		t.Fatalf("expired = %d %q", code, e.Error)
	}
	is.srv.Close()
	f.app.auth = is.authenticator(t, time.Now) // no cached keys, issuer down
	if code := f.call(t, "GET", "/api/v1/threads", is.sign(t, "k1", goodClaims(time.Now())), nil, &e); code != 503 {
		t.Fatalf("keys unavailable = %d %q", code, e.Error)
	}
}

func TestEntraKeepsKeysWhenARefreshFails(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	is := newIssuer(t, "k1")
	a := is.authenticator(t, func() time.Time { return now })
	if _, err := a.Authenticate(t.Context(), is.sign(t, "k1", goodClaims(now))); err != nil {
		t.Fatal(err)
	}
	is.down.Store(true)
	// An unknown kid makes it refresh, which fails: the token is refused, not the
	// service, and the keys it holds still sign people in.
	m := map[string]*rsa.PrivateKey{"k1": (*is.keys.Load())["k1"], "k2": newRSAKey(t)}
	is.keys.Store(&m)
	calls := is.jwksCalls.Load()
	if _, err := a.Authenticate(t.Context(), is.sign(t, "k2", goodClaims(now))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid while the JWKS is down: %v", err)
	}
	if is.jwksCalls.Load() == calls {
		t.Fatal("an unknown kid did not refresh the key set")
	}
	if _, err := a.Authenticate(t.Context(), is.sign(t, "k1", goodClaims(now))); err != nil {
		t.Fatalf("a known key stopped working while the JWKS is down: %v", err)
	}
}

func TestEntraRolesClaim(t *testing.T) {
	now := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	is := newIssuer(t, "k1")
	a := is.authenticator(t, func() time.Time { return now })
	c := goodClaims(now)
	c["roles"] = []string{RoleAdmin, RoleComplianceReview}
	id, err := a.Authenticate(t.Context(), is.sign(t, "k1", c))
	if err != nil || len(id.Roles) != 2 || id.Roles[0] != RoleAdmin || id.Roles[1] != RoleComplianceReview {
		t.Fatalf("roles = %v, %v", id.Roles, err)
	}
}

// TestTabMetadataURL points the tab's own authenticator (Config.OpenIDMetadataURL,
// TAB_OPENID_METADATA_URL) at a sovereign cloud's metadata, whose issuer it then
// accepts, and lets an admin by app role in.
func TestTabMetadataURL(t *testing.T) {
	is := newIssuer(t, "k1")
	f := newFixtureWith(t, false, func(c *Config) {
		c.Auth, c.AppID, c.TenantID = nil, testAppID, testTenant
		c.OpenIDMetadataURL = is.srv.URL + "/sovereign/{tenant}/v2.0/.well-known/openid-configuration"
		c.Now = time.Now
	})
	claims := func(iss string, roles ...string) jwt.MapClaims {
		c := goodClaims(time.Now())
		c["iss"], c["aud"], c["oid"] = iss, testAppID, "oid-itadmin"
		if roles != nil {
			c["roles"] = roles
		}
		return c
	}
	sovereign := "https://login.microsoftonline.us/" + testTenant + "/v2.0"
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{"sovereign issuer, admin role", is.sign(t, "k1", claims(sovereign, RoleAdmin)), 200},
		{"sovereign issuer, no role", is.sign(t, "k1", claims(sovereign)), 403},
		{"another cloud's issuer", is.sign(t, "k1", claims("https://login.partner.microsoftonline.cn/"+testTenant+"/v2.0", RoleAdmin)), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			if code := f.call(t, "GET", "/api/v1/admin/policy", tt.tok, nil, &e); code != tt.want {
				t.Fatalf("status %d %q, want %d", code, e.Error, tt.want)
			}
		})
	}
}

// A token with its last character changed is refused, whatever the change:
// as FuzzValidate found for the bot's tokens, the unused low bits of the
// signature's last character were ignored, so that one token had many
// spellings.
func TestEntraTokenWithAnyCharacterChangedIsRefused(t *testing.T) {
	is := newIssuer(t, "k1")
	a := is.authenticator(t, time.Now)
	tok := is.sign(t, "k1", goodClaims(time.Now()))
	if _, err := a.Authenticate(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{len(tok) - 1, len(tok) - 2} {
		for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
			if c == tok[i] {
				continue
			}
			if _, err := a.Authenticate(context.Background(), tok[:i]+string(c)+tok[i+1:]); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("byte %d changed to %q: %v, want ErrInvalidToken", i, c, err)
			}
		}
	}
}
