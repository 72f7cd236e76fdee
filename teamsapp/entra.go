package teamsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// EntraConfig configures EntraAuthenticator.
type EntraConfig struct {
	TenantID string // the only tenant whose users may sign in
	AppID    string // the app registration that Teams requests the SSO token for
	// MetadataURL is the OpenID configuration (TAB_OPENID_METADATA_URL), so that
	// sovereign clouds and tests can point it elsewhere; "{tenant}" in it is
	// replaced by TenantID. Default
	// https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration.
	MetadataURL string
	// Issuers overrides the accepted issuers; default the tenant's v2.0 and v1
	// issuers of Microsoft's public cloud, and the issuer the metadata names.
	Issuers []string
	Client  *http.Client
	Now     func() time.Time
	// Log receives the failures of the background key refresh (the keys held
	// stay in use).
	Log *slog.Logger
}

// Clock skew tolerated on exp and nbf, and how keys are kept fresh.
const (
	tokenSkew       = 5 * time.Minute
	keysMaxAge      = 24 * time.Hour   // the key set is refreshed daily
	keysMinInterval = time.Minute      // at most one refresh a minute for unknown kids
	keysFetchWait   = 10 * time.Second // one metadata or key set request
	// keysRetryWait keeps a sign-in storm from hammering Entra while no key set
	// could be fetched at all.
	keysRetryWait = 5 * time.Second
)

// EntraAuthenticator validates Teams SSO tokens (Entra ID access tokens): RS256 with
// a key from the tenant's JWKS, issuer and tenant pinned, audience the app's.
//
// Keys come from github.com/MicahParks/keyfunc over github.com/MicahParks/jwkset,
// the JWKS companion of golang-jwt: the set is refreshed daily in the background,
// and again when a token names an unknown kid (Entra rolls keys without notice),
// at most once a minute. When a refresh fails, the keys held stay in use.
type EntraAuthenticator struct {
	cfg     EntraConfig
	metaURL string

	mu       sync.Mutex
	kf       keyfunc.Keyfunc // nil until the first key set was fetched
	issuers  []string
	failedAt time.Time // of the last failed first fetch
	stop     context.CancelFunc
}

// NewEntraAuthenticator returns an authenticator; keys are fetched on first use.
func NewEntraAuthenticator(cfg EntraConfig) (*EntraAuthenticator, error) {
	if cfg.TenantID == "" || cfg.AppID == "" {
		return nil, errors.New("entra authenticator: tenant id and app id are required")
	}
	meta := cfg.MetadataURL
	if meta == "" {
		meta = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
	}
	meta = strings.NewReplacer("{tenant}", cfg.TenantID, "{tenantid}", cfg.TenantID).Replace(meta)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: keysFetchWait}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &EntraAuthenticator{cfg: cfg, metaURL: meta}, nil
}

// Close stops the background key refresh.
func (a *EntraAuthenticator) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stop != nil {
		a.stop()
	}
}

// ssoClaims are the claims of an Entra access token the tab relies on.
type ssoClaims struct {
	jwt.RegisteredClaims
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	// UPN is in v1 tokens; v2 tokens carry preferred_username, which for a
	// work account is the same user principal name.
	UPN               string `json:"upn"`
	PreferredUsername string `json:"preferred_username"`
}

// Authenticate implements Authenticator.
func (a *EntraAuthenticator) Authenticate(ctx context.Context, token string) (Identity, error) {
	kf, issuers, err := a.keys(ctx)
	if err != nil {
		return Identity{}, err
	}
	var c ssoClaims
	_, err = jwt.ParseWithClaims(token, &c, kf.KeyfuncCtx(ctx),
		// Strict base64: otherwise the unused low bits of the signature's last
		// character are ignored, and one token has many spellings that all pass.
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(tokenSkew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.cfg.Now),
	)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !slices.Contains(issuers, c.Issuer) {
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
	upn := c.UPN
	if upn == "" {
		upn = c.PreferredUsername
	}
	return Identity{TenantID: c.TenantID, ObjectID: c.ObjectID, Name: c.Name, Roles: c.Roles, UPN: upn}, nil
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

// keys returns the key source and the accepted issuers, fetching the metadata
// and the first key set on first use. Until that succeeds every sign-in answers
// ErrKeysUnavailable; afterwards the key set refreshes itself.
func (a *EntraAuthenticator) keys(ctx context.Context) (keyfunc.Keyfunc, []string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kf != nil {
		return a.kf, a.issuers, nil
	}
	if !a.failedAt.IsZero() && time.Since(a.failedAt) < keysRetryWait {
		return nil, nil, fmt.Errorf("%w: the last fetch failed moments ago", ErrKeysUnavailable)
	}
	if err := a.start(ctx); err != nil {
		a.failedAt = time.Now()
		return nil, nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return a.kf, a.issuers, nil
}

// start reads the OpenID metadata and sets up the refreshing key set (a.mu held).
func (a *EntraAuthenticator) start(ctx context.Context) error {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := a.getJSON(ctx, a.metaURL, &meta); err != nil {
		return fmt.Errorf("openid metadata: %w", err)
	}
	if meta.JWKSURI == "" {
		return errors.New("openid metadata has no jwks_uri")
	}
	// The refresh goroutine outlives the request that started it.
	bg, stop := context.WithCancel(context.Background())
	store, err := jwkset.NewStorageFromHTTP(meta.JWKSURI, jwkset.HTTPClientStorageOptions{
		Client:          a.cfg.Client,
		Ctx:             bg,
		HTTPTimeout:     keysFetchWait,
		RefreshInterval: keysMaxAge,
		RefreshErrorHandler: func(_ context.Context, err error) {
			a.cfg.Log.Warn("tab sign-in: key refresh failed; the keys held stay in use", "err", err)
		},
	})
	if err != nil {
		stop()
		return fmt.Errorf("jwks: %w", err)
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{meta.JWKSURI: store},
		// An unknown kid refreshes the set when the limiter allows it within
		// keysFetchWait, and is refused at once otherwise.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(keysMinInterval), 1),
		RateLimitWaitMax:  keysFetchWait,
	})
	if err != nil {
		stop()
		return fmt.Errorf("jwks: %w", err)
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: bg, Storage: client, UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		stop()
		return fmt.Errorf("jwks: %w", err)
	}
	iss := a.cfg.Issuers
	if len(iss) == 0 {
		iss = []string{
			"https://login.microsoftonline.com/" + a.cfg.TenantID + "/v2.0",
			"https://sts.windows.net/" + a.cfg.TenantID + "/",
		}
		if m := strings.ReplaceAll(meta.Issuer, "{tenantid}", a.cfg.TenantID); m != "" && !slices.Contains(iss, m) {
			iss = append(iss, m) // a sovereign cloud's issuer
		}
	}
	a.kf, a.issuers, a.stop = kf, iss, stop
	return nil
}

func (a *EntraAuthenticator) getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, keysFetchWait)
	defer cancel()
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
