package teamsapp

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EntraConfig configures EntraAuthenticator.
type EntraConfig struct {
	TenantID string // the only tenant whose users may sign in
	AppID    string // the app registration that Teams requests the SSO token for
	// MetadataURL is the OpenID configuration; default
	// https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration.
	MetadataURL string
	// Issuers overrides the accepted issuers (tests with a local issuer); default
	// the tenant's v2.0 and v1 Entra issuers.
	Issuers []string
	Client  *http.Client
	Now     func() time.Time
}

// Clock skew tolerated on exp and nbf, and how often keys are refreshed.
const (
	tokenSkew       = 5 * time.Minute
	keysMaxAge      = 24 * time.Hour
	keysMinInterval = time.Minute // at most one refresh a minute for unknown kids
)

// EntraAuthenticator validates Teams SSO tokens (Entra ID access tokens): RS256 with
// a key from the tenant's JWKS, issuer and tenant pinned, audience the app's.
type EntraAuthenticator struct {
	cfg     EntraConfig
	issuers []string

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// NewEntraAuthenticator returns an authenticator; keys are fetched on first use.
func NewEntraAuthenticator(cfg EntraConfig) (*EntraAuthenticator, error) {
	if cfg.TenantID == "" || cfg.AppID == "" {
		return nil, errors.New("entra authenticator: tenant id and app id are required")
	}
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = "https://login.microsoftonline.com/" + cfg.TenantID + "/v2.0/.well-known/openid-configuration"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	iss := cfg.Issuers
	if len(iss) == 0 {
		iss = []string{
			"https://login.microsoftonline.com/" + cfg.TenantID + "/v2.0",
			"https://sts.windows.net/" + cfg.TenantID + "/",
		}
	}
	return &EntraAuthenticator{cfg: cfg, issuers: iss}, nil
}

// ssoClaims are the claims of an Entra access token the tab relies on.
type ssoClaims struct {
	jwt.RegisteredClaims
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	Name     string `json:"name"`
}

// Authenticate implements Authenticator.
func (a *EntraAuthenticator) Authenticate(ctx context.Context, token string) (Identity, error) {
	var c ssoClaims
	var keyErr error
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := a.key(ctx, kid)
		keyErr = err
		return k, err
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(tokenSkew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.cfg.Now),
	)
	if errors.Is(keyErr, ErrKeysUnavailable) {
		return Identity{}, keyErr
	}
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !slices.Contains(a.issuers, c.Issuer) {
		return Identity{}, fmt.Errorf("%w: issuer %q is not this tenant's", ErrInvalidToken, c.Issuer)
	}
	if c.TenantID != a.cfg.TenantID {
		return Identity{}, fmt.Errorf("%w: tenant %q is not %q", ErrInvalidToken, c.TenantID, a.cfg.TenantID)
	}
	if !slices.ContainsFunc(c.Audience, a.audienceOK) {
		return Identity{}, fmt.Errorf("%w: audience %v is not this app", ErrInvalidToken, c.Audience)
	}
	if c.ObjectID == "" {
		return Identity{}, fmt.Errorf("%w: no oid claim", ErrInvalidToken)
	}
	return Identity{TenantID: c.TenantID, ObjectID: c.ObjectID, Name: c.Name}, nil
}

// audienceOK accepts the app id itself (v2 tokens) and the application ID URI
// api://<domain>/<appId> or api://<appId> (v1 tokens). Any domain is fine: Entra only issues a token
// for a URI that is registered on the app, and the app id pins the app.
func (a *EntraAuthenticator) audienceOK(aud string) bool {
	if aud == a.cfg.AppID {
		return true
	}
	rest, ok := strings.CutPrefix(aud, "api://")
	return ok && (rest == a.cfg.AppID || strings.HasSuffix(rest, "/"+a.cfg.AppID) && len(rest) > len(a.cfg.AppID)+1)
}

// key returns the signing key kid, refreshing the key set when it is stale or
// does not know kid (Entra rolls keys without notice).
func (a *EntraAuthenticator) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	k, ok := a.keys[kid]
	stale := now.Sub(a.fetched) > keysMaxAge
	if ok && !stale {
		return k, nil
	}
	if !ok && !stale && now.Sub(a.fetched) < keysMinInterval {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	keys, err := a.fetchKeys(ctx)
	if err != nil {
		if ok { // a stale key is better than no sign-in while Entra is unreachable
			return k, nil
		}
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	a.keys, a.fetched = keys, now
	if k, ok = keys[kid]; !ok {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	return k, nil
}

func (a *EntraAuthenticator) fetchKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := a.getJSON(ctx, a.cfg.MetadataURL, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("openid metadata has no jwks_uri")
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := a.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue // one malformed key must not lock everyone out
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks has no usable RSA keys")
	}
	return keys, nil
}

func (a *EntraAuthenticator) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}
