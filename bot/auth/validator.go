package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Well-known values of the Bot Framework public cloud.
const (
	// DefaultMetadataURL is the Bot Framework's OpenID metadata for channel tokens.
	DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// BotFrameworkIssuer is the issuer of tokens the Bot Connector sends.
	BotFrameworkIssuer = "https://api.botframework.com"
)

// AppType is the bot's Azure registration type (the MicrosoftAppType setting).
type AppType string

// App types of an Azure Bot registration.
const (
	MultiTenant     AppType = "MultiTenant"
	SingleTenant    AppType = "SingleTenant"
	UserAssignedMSI AppType = "UserAssignedMSI"
)

// Config says which tokens to accept.
type Config struct {
	// AppID is the bot's Microsoft app id: the audience tokens must carry.
	AppID string
	// AppType and TenantID: a SingleTenant (or UserAssignedMSI) bot also accepts
	// tokens issued by its own Entra tenant TenantID.
	AppType  AppType
	TenantID string
	// MetadataURL is the Bot Framework OpenID metadata (BOT_OPENID_METADATA_URL);
	// DefaultMetadataURL if empty.
	MetadataURL string
	// EntraMetadataURL is where the tenant's Entra keys are described; by default
	// https://login.microsoftonline.com/{TenantID}/v2.0/.well-known/openid-configuration.
	EntraMetadataURL string
	// HTTPClient fetches metadata and keys; http.DefaultClient if nil.
	HTTPClient *http.Client
	// KeyMaxAge is how long keys are used before a refresh (default 24 h);
	// MinRefresh is the least time between refreshes caused by unknown kids
	// (default 5 min).
	KeyMaxAge  time.Duration
	MinRefresh time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Claims are what a valid token says about the caller.
type Claims struct {
	Issuer     string
	AppID      string // the audience, our app id
	ServiceURL string
	TenantID   string // for Entra-issued tokens
}

// Validator checks inbound Bot Framework tokens. It is safe for concurrent use.
type Validator struct {
	cfg    Config
	issuer map[string]*keySet // accepted issuer → where its keys come from
	now    func() time.Time
}

// Leeway is the clock skew allowed on exp and nbf.
const Leeway = 5 * time.Minute

// New returns a Validator for cfg. It does not fetch anything yet.
func New(cfg Config) (*Validator, error) {
	if cfg.AppID == "" {
		return nil, errors.New("auth: the bot's app id (MicrosoftAppId) is required")
	}
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultMetadataURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.KeyMaxAge <= 0 {
		cfg.KeyMaxAge = 24 * time.Hour
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	newSet := func(url string) *keySet {
		return &keySet{metadataURL: url, client: cfg.HTTPClient, maxAge: cfg.KeyMaxAge, minRefresh: cfg.MinRefresh, now: cfg.Now}
	}
	v := &Validator{cfg: cfg, now: cfg.Now, issuer: map[string]*keySet{BotFrameworkIssuer: newSet(cfg.MetadataURL)}}
	switch cfg.AppType {
	case "", MultiTenant:
	case SingleTenant, UserAssignedMSI:
		if cfg.TenantID == "" {
			return nil, fmt.Errorf("auth: MicrosoftAppTenantId is required for a %s bot", cfg.AppType)
		}
		url := cfg.EntraMetadataURL
		if url == "" {
			url = "https://login.microsoftonline.com/" + cfg.TenantID + "/v2.0/.well-known/openid-configuration"
		}
		entra := newSet(url)
		v.issuer["https://sts.windows.net/"+cfg.TenantID+"/"] = entra
		v.issuer["https://login.microsoftonline.com/"+cfg.TenantID+"/v2.0"] = entra
	default:
		return nil, fmt.Errorf("auth: unknown MicrosoftAppType %q (MultiTenant, SingleTenant or UserAssignedMSI)", cfg.AppType)
	}
	return v, nil
}

type tokenClaims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
	TenantID   string `json:"tid"`
}

// Validate checks the Authorization header of a request carrying an activity with
// the given serviceUrl and channelId. The error wraps ErrNoToken, ErrInvalidToken,
// ErrForbidden or ErrKeysUnavailable.
func (v *Validator) Validate(ctx context.Context, authorization, serviceURL, channelID string) (Claims, error) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return Claims{}, ErrNoToken
	}
	var key signingKey
	var keyErr error
	var set *keySet
	parser := jwt.NewParser(
		// Strict base64: otherwise the unused low bits of the signature's last
		// character are ignored, and one token has many spellings that all
		// pass (FuzzValidate found them).
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(Leeway),
		jwt.WithAudience(v.cfg.AppID),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
	)
	var tc tokenClaims
	_, err := parser.ParseWithClaims(strings.TrimSpace(raw), &tc, func(t *jwt.Token) (any, error) {
		// The issuer decides where the keys come from; it is checked before any
		// fetch so that a token naming a foreign issuer costs us nothing.
		iss, _ := t.Claims.GetIssuer()
		set = v.issuer[iss]
		if set == nil {
			return nil, fmt.Errorf("issuer %q not accepted", iss)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no key")
		}
		key, keyErr = set.lookup(ctx, kid)
		if keyErr != nil {
			return nil, keyErr
		}
		return key.pub, nil
	})
	if err != nil {
		if errors.Is(keyErr, ErrKeysUnavailable) {
			return Claims{}, keyErr
		}
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	c := Claims{Issuer: tc.Issuer, AppID: v.cfg.AppID, ServiceURL: tc.ServiceURL, TenantID: tc.TenantID}
	if tc.Issuer == BotFrameworkIssuer {
		// The Bot Connector always says which service URL it speaks for; a token
		// without it could be replayed against another one.
		if tc.ServiceURL == "" {
			return Claims{}, fmt.Errorf("%w: no serviceurl claim", ErrForbidden)
		}
		if len(key.endorsements) == 0 {
			return Claims{}, fmt.Errorf("%w: signing key has no endorsements", ErrForbidden)
		}
	} else if tc.TenantID != "" && !strings.EqualFold(tc.TenantID, v.cfg.TenantID) {
		return Claims{}, fmt.Errorf("%w: tenant %q is not ours", ErrForbidden, tc.TenantID)
	}
	if tc.ServiceURL != "" && !strings.EqualFold(strings.TrimSuffix(tc.ServiceURL, "/"), strings.TrimSuffix(serviceURL, "/")) {
		return Claims{}, fmt.Errorf("%w: serviceurl claim %q differs from the activity's %q", ErrForbidden, tc.ServiceURL, serviceURL)
	}
	// Entra's keys carry no endorsements; those tokens are pinned to our tenant
	// instead. Bot Framework keys must endorse the channel.
	if len(key.endorsements) > 0 && !slices.Contains(key.endorsements, channelID) {
		return Claims{}, fmt.Errorf("%w: key not endorsed for channel %q", ErrForbidden, channelID)
	}
	return c, nil
}

// StatusCode maps an error of Validate to the HTTP status to answer with.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	default:
		return http.StatusUnauthorized
	}
}
