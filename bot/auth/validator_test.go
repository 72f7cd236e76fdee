package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	appID      = "11111111-2222-3333-4444-555555555555"
	tenant     = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	serviceURL = "https://smba.trafficmanager.net/amer/"
)

// issuer is a local OpenID issuer: metadata and JWKS for the Bot Framework keys
// (with endorsements) and for the tenant's Entra keys (without).
type issuer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	bfKeys   map[string]*rsa.PrivateKey
	endorse  map[string][]string
	entra    *rsa.PrivateKey
	metaHits atomic.Int32
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	is := &issuer{bfKeys: map[string]*rsa.PrivateKey{}, endorse: map[string][]string{}}
	is.addKey(t, "bf1", "msteams", "webchat")
	is.addKey(t, "bf-noendorse")
	is.entra = genKey(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/bf/metadata", func(w http.ResponseWriter, r *http.Request) {
		is.metaHits.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"issuer": BotFrameworkIssuer, "jwks_uri": is.srv.URL + "/bf/keys"})
	})
	mux.HandleFunc("/bf/keys", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		defer is.mu.Unlock()
		var keys []any
		for kid, k := range is.bfKeys {
			keys = append(keys, jwk(kid, &k.PublicKey, is.endorse[kid]))
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	mux.HandleFunc("/entra/metadata", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": "https://login.microsoftonline.com/" + tenant + "/v2.0", "jwks_uri": is.srv.URL + "/entra/keys"})
	})
	mux.HandleFunc("/entra/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk("entra1", &is.entra.PublicKey, nil)}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func genKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (is *issuer) addKey(t testing.TB, kid string, endorsements ...string) {
	k := genKey(t)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.bfKeys[kid] = k
	is.endorse[kid] = endorsements
}

func jwk(kid string, pub *rsa.PublicKey, endorsements []string) map[string]any {
	m := map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	if endorsements != nil {
		m["endorsements"] = endorsements
	}
	return m
}

func (is *issuer) validator(t testing.TB, appType AppType) *Validator {
	t.Helper()
	v, err := New(Config{AppID: appID, AppType: appType, TenantID: tenant,
		MetadataURL: is.srv.URL + "/bf/metadata", EntraMetadataURL: is.srv.URL + "/entra/metadata"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tok describes a token to mint; the zero value plus defaults() is a valid one.
type tok struct {
	kid, iss, aud, svc, tid string
	exp, nbf                time.Duration // relative to now
	method                  jwt.SigningMethod
	key                     any
	noServiceURL            bool
}

func (is *issuer) sign(t testing.TB, o tok) string {
	t.Helper()
	if o.kid == "" {
		o.kid = "bf1"
	}
	if o.iss == "" {
		o.iss = BotFrameworkIssuer
	}
	if o.aud == "" {
		o.aud = appID
	}
	if o.svc == "" && !o.noServiceURL {
		o.svc = serviceURL
	}
	if o.exp == 0 {
		o.exp = time.Hour
	}
	if o.nbf == 0 {
		o.nbf = -time.Minute
	}
	if o.method == nil {
		o.method = jwt.SigningMethodRS256
	}
	if o.key == nil {
		is.mu.Lock()
		if k, ok := is.bfKeys[o.kid]; ok {
			o.key = k
		} else if o.kid == "entra1" {
			o.key = is.entra
		} else {
			o.key = genKey(t) // a key nobody published
		}
		is.mu.Unlock()
	}
	now := time.Now()
	claims := jwt.MapClaims{"iss": o.iss, "aud": o.aud, "exp": now.Add(o.exp).Unix(), "nbf": now.Add(o.nbf).Unix()}
	if o.svc != "" {
		claims["serviceurl"] = o.svc
	}
	if o.tid != "" {
		claims["tid"] = o.tid
	}
	token := jwt.NewWithClaims(o.method, claims)
	token.Header["kid"] = o.kid
	s, err := token.SignedString(o.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenMatrix(t *testing.T) {
	is := newIssuer(t)
	pubPEM := func() []byte {
		der, _ := x509.MarshalPKIXPublicKey(&is.bfKeys["bf1"].PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	// alg none, built by hand: golang-jwt refuses to sign it without a magic constant.
	noneToken := func() string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
			"iss": BotFrameworkIssuer, "aud": appID, "exp": time.Now().Add(time.Hour).Unix(), "serviceurl": serviceURL,
		}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	cases := []struct {
		name    string
		appType AppType
		header  func() string
		channel string
		svc     string
		want    error // nil: accepted
		status  int
	}{
		{name: "valid", header: func() string { return "Bearer " + is.sign(t, tok{}) }},
		{name: "valid, lower-case scheme", header: func() string { return "bearer " + is.sign(t, tok{}) }},
		{name: "service url differs only by trailing slash and case", svc: "https://SMBA.trafficmanager.net/amer", header: func() string { return "Bearer " + is.sign(t, tok{}) }},
		{name: "wrong audience", header: func() string { return "Bearer " + is.sign(t, tok{aud: "someone-else"}) }, want: ErrInvalidToken, status: 401},
		{name: "wrong issuer", header: func() string { return "Bearer " + is.sign(t, tok{iss: "https://evil.example"}) }, want: ErrInvalidToken, status: 401},
		{name: "entra issuer on a multi-tenant bot", header: func() string {
			return "Bearer " + is.sign(t, tok{kid: "entra1", iss: "https://sts.windows.net/" + tenant + "/", noServiceURL: true})
		}, want: ErrInvalidToken, status: 401},
		{name: "single tenant: own tenant (sts)", appType: SingleTenant, header: func() string {
			return "Bearer " + is.sign(t, tok{kid: "entra1", iss: "https://sts.windows.net/" + tenant + "/", tid: tenant, noServiceURL: true})
		}},
		{name: "single tenant: own tenant (v2.0)", appType: SingleTenant, header: func() string {
			return "Bearer " + is.sign(t, tok{kid: "entra1", iss: "https://login.microsoftonline.com/" + tenant + "/v2.0", tid: tenant})
		}},
		{name: "single tenant: Bot Framework issuer still accepted", appType: SingleTenant, header: func() string { return "Bearer " + is.sign(t, tok{}) }},
		{name: "single tenant: wrong tenant issuer", appType: SingleTenant, header: func() string {
			return "Bearer " + is.sign(t, tok{kid: "entra1", iss: "https://sts.windows.net/99999999-0000-0000-0000-000000000000/", noServiceURL: true})
		}, want: ErrInvalidToken, status: 401},
		{name: "single tenant: our issuer, other tid", appType: SingleTenant, header: func() string {
			return "Bearer " + is.sign(t, tok{kid: "entra1", iss: "https://sts.windows.net/" + tenant + "/", tid: "99999999-0000-0000-0000-000000000000", noServiceURL: true})
		}, want: ErrForbidden, status: 403},
		{name: "expired beyond skew", header: func() string { return "Bearer " + is.sign(t, tok{exp: -6 * time.Minute, nbf: -time.Hour}) }, want: ErrInvalidToken, status: 401},
		{name: "expired within skew", header: func() string { return "Bearer " + is.sign(t, tok{exp: -4 * time.Minute, nbf: -time.Hour}) }},
		{name: "not yet valid beyond skew", header: func() string { return "Bearer " + is.sign(t, tok{nbf: 6 * time.Minute}) }, want: ErrInvalidToken, status: 401},
		{name: "not yet valid within skew", header: func() string { return "Bearer " + is.sign(t, tok{nbf: 4 * time.Minute}) }},
		{name: "alg none", header: func() string { return "Bearer " + noneToken() }, want: ErrInvalidToken, status: 401},
		{name: "HS256 with the public key as secret", header: func() string {
			return "Bearer " + is.sign(t, tok{method: jwt.SigningMethodHS256, key: pubPEM})
		}, want: ErrInvalidToken, status: 401},
		{name: "RS384", header: func() string { return "Bearer " + is.sign(t, tok{method: jwt.SigningMethodRS384}) }, want: ErrInvalidToken, status: 401},
		{name: "unknown kid", header: func() string { return "Bearer " + is.sign(t, tok{kid: "never-published"}) }, want: ErrInvalidToken, status: 401},
		{name: "signed by another key under a known kid", header: func() string { return "Bearer " + is.sign(t, tok{key: genKey(t)}) }, want: ErrInvalidToken, status: 401},
		{name: "serviceUrl mismatch", svc: "https://evil.example/", header: func() string { return "Bearer " + is.sign(t, tok{}) }, want: ErrForbidden, status: 403},
		{name: "no serviceurl claim", header: func() string { return "Bearer " + is.sign(t, tok{noServiceURL: true}) }, want: ErrForbidden, status: 403},
		{name: "channel not endorsed", channel: "slack", header: func() string { return "Bearer " + is.sign(t, tok{}) }, want: ErrForbidden, status: 403},
		{name: "key without endorsements", header: func() string { return "Bearer " + is.sign(t, tok{kid: "bf-noendorse"}) }, want: ErrForbidden, status: 403},
		{name: "no header", header: func() string { return "" }, want: ErrNoToken, status: 401},
		{name: "basic auth", header: func() string { return "Basic dXNlcjpwYXNz" }, want: ErrNoToken, status: 401},
		{name: "garbled token", header: func() string { return "Bearer not.a.jwt" }, want: ErrInvalidToken, status: 401},
		{name: "bearer without token", header: func() string { return "Bearer " }, want: ErrNoToken, status: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := is.validator(t, tc.appType)
			channel, svc := tc.channel, tc.svc
			if channel == "" {
				channel = "msteams"
			}
			if svc == "" {
				svc = serviceURL
			}
			c, err := v.Validate(context.Background(), tc.header(), svc, channel)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected a valid token: %v", err)
				}
				if c.AppID != appID {
					t.Errorf("claims app id %q", c.AppID)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := StatusCode(err); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
		})
	}
}

func TestUnknownKidRefreshesOnceThenRejects(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, MultiTenant)
	ctx := context.Background()
	if _, err := v.Validate(ctx, "Bearer "+is.sign(t, tok{}), serviceURL, "msteams"); err != nil {
		t.Fatal(err)
	}
	if n := is.metaHits.Load(); n != 1 {
		t.Fatalf("initial fetches = %d, want 1", n)
	}
	for i := 0; i < 5; i++ {
		if _, err := v.Validate(ctx, "Bearer "+is.sign(t, tok{kid: "rogue"}), serviceURL, "msteams"); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("unknown kid accepted or wrong error: %v", err)
		}
	}
	if n := is.metaHits.Load(); n != 2 {
		t.Fatalf("fetches after unknown kids = %d, want 2 (one rate-limited refresh)", n)
	}
}

func TestRotationPickedUpOnUnknownKid(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, MultiTenant)
	ctx := context.Background()
	if _, err := v.Validate(ctx, "Bearer "+is.sign(t, tok{}), serviceURL, "msteams"); err != nil {
		t.Fatal(err)
	}
	is.addKey(t, "bf2", "msteams")
	if _, err := v.Validate(ctx, "Bearer "+is.sign(t, tok{kid: "bf2"}), serviceURL, "msteams"); err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
}

func TestDailyRefresh(t *testing.T) {
	is := newIssuer(t)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v, err := New(Config{AppID: appID, MetadataURL: is.srv.URL + "/bf/metadata", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if _, err := v.Validate(ctx, "Bearer "+is.sign(t, tok{}), serviceURL, "msteams"); err != nil {
			t.Fatal(err)
		}
	}
	if n := is.metaHits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	// The token is checked against the fake clock too, so mint it for that time.
	claims := jwt.MapClaims{"iss": BotFrameworkIssuer, "aud": appID, "exp": now.Add(time.Hour).Unix(), "serviceurl": serviceURL}
	tk := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tk.Header["kid"] = "bf1"
	s, _ := tk.SignedString(is.bfKeys["bf1"])
	if _, err := v.Validate(ctx, "Bearer "+s, serviceURL, "msteams"); err != nil {
		t.Fatal(err)
	}
	if n := is.metaHits.Load(); n != 2 {
		t.Fatalf("fetches after a day = %d, want 2", n)
	}
}

func TestConcurrentValidationFetchesOnce(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, MultiTenant)
	token := "Bearer " + is.sign(t, tok{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Validate(context.Background(), token, serviceURL, "msteams"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := is.metaHits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestMetadataDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer srv.Close()
	v, err := New(Config{AppID: appID, MetadataURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t)
	_, err = v.Validate(context.Background(), "Bearer "+is.sign(t, tok{}), serviceURL, "msteams")
	if !errors.Is(err, ErrKeysUnavailable) || StatusCode(err) != 401 {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{}, {AppID: appID, AppType: SingleTenant}, {AppID: appID, AppType: "Weird"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// A token with its last character changed is refused, whatever the change:
// FuzzValidate found that the unused low bits of the signature's last
// character were ignored, so that one token had many spellings.
func TestTokenWithAnyCharacterChangedIsRefused(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, MultiTenant)
	tok := is.sign(t, tok{})
	for _, i := range []int{len(tok) - 1, len(tok) - 2, strings.LastIndexByte(tok, '.') + 1, 0} {
		for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
			if c == tok[i] {
				continue
			}
			m := tok[:i] + string(c) + tok[i+1:]
			if _, err := v.Validate(context.Background(), "Bearer "+m, serviceURL, "msteams"); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("byte %d changed to %q: %v, want ErrInvalidToken", i, c, err)
			}
		}
	}
}
