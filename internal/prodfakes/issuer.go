package prodfakes

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Well-known values of Microsoft's clouds that the fakes sign with.
const (
	// BotFrameworkIssuer is the issuer of the tokens the Bot Connector sends.
	BotFrameworkIssuer = "https://api.botframework.com"
	// BotFrameworkScope is the scope of the bot's outbound token.
	BotFrameworkScope = "https://api.botframework.com/.default"
	// GraphScope is the app-only scope of Microsoft Graph.
	GraphScope = "https://graph.microsoft.com/.default"
	// EntraHost and GraphHost are the public hosts the proxy routes to the fakes.
	EntraHost = "login.microsoftonline.com"
	GraphHost = "graph.microsoft.com"
	// TeamsClientID is the Teams client app that requests tab SSO tokens (azp).
	TeamsClientID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
)

// signer is an RS256 key with its kid.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

func newSigner() (signer, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signer{}, err
	}
	var b [8]byte
	rand.Read(b[:])
	return signer{key: k, kid: hex.EncodeToString(b[:])}, nil
}

func (s signer) sign(claims jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.kid
	t.Header["x5t"] = s.kid
	out, err := t.SignedString(s.key)
	if err != nil {
		panic(err) // an RSA key that cannot sign is a broken test machine
	}
	return out
}

// jwk is the JSON Web Key of s, as Microsoft publishes them.
func (s signer) jwk(endorsements []string) map[string]any {
	k := map[string]any{
		"kty": "RSA", "use": "sig", "kid": s.kid, "x5t": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(s.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
	}
	if endorsements != nil {
		k["endorsements"] = endorsements
	}
	return k
}

// IssuerConfig describes an OpenID issuer.
type IssuerConfig struct {
	// Issuer is the iss claim and the metadata's issuer.
	Issuer string
	// MetadataPath and KeysPath are where the OpenID configuration and the JWKS
	// are served.
	MetadataPath, KeysPath string
	// Endorsements, when set, are published with the key (Bot Framework: the
	// channels the key may sign for).
	Endorsements []string
}

// Issuer is an OpenID issuer over plain HTTP on 127.0.0.1 (the service is told
// where it is with BOT_OPENID_METADATA_URL or TAB_OPENID_METADATA_URL). It counts
// the fetches of its metadata and keys.
type Issuer struct {
	cfg IssuerConfig
	key signer
	srv *httptest.Server

	mu      sync.Mutex
	fetches map[string]int
	signed  []string
}

// NewIssuer starts an issuer.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	k, err := newSigner()
	if err != nil {
		return nil, err
	}
	i := &Issuer{cfg: cfg, key: k, fetches: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+cfg.MetadataPath, func(w http.ResponseWriter, r *http.Request) {
		i.count(cfg.MetadataPath)
		writeJSON(w, http.StatusOK, i.metadata())
	})
	mux.HandleFunc("GET "+cfg.KeysPath, func(w http.ResponseWriter, r *http.Request) {
		i.count(cfg.KeysPath)
		writeJSON(w, http.StatusOK, map[string]any{"keys": []any{i.key.jwk(cfg.Endorsements)}})
	})
	i.srv = httptest.NewServer(mux)
	return i, nil
}

// NewBotFrameworkIssuer is the Bot Framework channel issuer with keys endorsed for
// msteams, at the paths login.botframework.com uses.
func NewBotFrameworkIssuer() (*Issuer, error) {
	return NewIssuer(IssuerConfig{
		Issuer:       BotFrameworkIssuer,
		MetadataPath: "/v1/.well-known/openidconfiguration",
		KeysPath:     "/v1/.well-known/keys",
		Endorsements: []string{"msteams"},
	})
}

// NewTenantIssuer is a tenant's Entra v2.0 issuer (the tab's SSO tokens), at the
// paths login.microsoftonline.com uses.
func NewTenantIssuer(tenantID string) (*Issuer, error) {
	return NewIssuer(IssuerConfig{
		Issuer:       "https://login.microsoftonline.com/" + tenantID + "/v2.0",
		MetadataPath: "/" + tenantID + "/v2.0/.well-known/openid-configuration",
		KeysPath:     "/" + tenantID + "/discovery/v2.0/keys",
	})
}

func (i *Issuer) count(path string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.fetches[path]++
}

func (i *Issuer) metadata() map[string]any {
	md := map[string]any{
		"issuer":                                i.cfg.Issuer,
		"jwks_uri":                              i.srv.URL + i.cfg.KeysPath,
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	}
	if i.cfg.Issuer == BotFrameworkIssuer {
		md["authorization_endpoint"] = "https://invalid.botframework.com"
	} else {
		base := strings.TrimSuffix(i.cfg.Issuer, "/v2.0")
		md["authorization_endpoint"] = base + "/oauth2/v2.0/authorize"
		md["token_endpoint"] = base + "/oauth2/v2.0/token"
		md["response_types_supported"] = []string{"code", "id_token", "code id_token", "id_token token"}
		md["subject_types_supported"] = []string{"pairwise"}
	}
	return md
}

// MetadataURL is the issuer's OpenID configuration.
func (i *Issuer) MetadataURL() string { return i.srv.URL + i.cfg.MetadataPath }

// Fetches says how often the metadata and the keys were fetched.
func (i *Issuer) Fetches() (metadata, keys int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fetches[i.cfg.MetadataPath], i.fetches[i.cfg.KeysPath]
}

// Signed returns every token this issuer signed (for the log's secret scan).
func (i *Issuer) Signed() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.signed...)
}

// Close stops the issuer.
func (i *Issuer) Close() { i.srv.Close() }

// Sign signs claims with the issuer's key; iss, iat, nbf and exp (one hour) are
// added when missing.
func (i *Issuer) Sign(claims jwt.MapClaims) string {
	now := time.Now()
	c := jwt.MapClaims{"iss": i.cfg.Issuer, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok := i.key.sign(c)
	i.mu.Lock()
	i.signed = append(i.signed, tok)
	i.mu.Unlock()
	return tok
}

// ChannelToken is what the Bot Connector puts in the Authorization header of an
// activity it posts to the bot: audience the bot's app id, serviceurl the
// activity's serviceUrl.
func (i *Issuer) ChannelToken(appID, serviceURL string) string {
	return i.Sign(jwt.MapClaims{"aud": appID, "serviceurl": serviceURL})
}

// SSOUser is whom a tab SSO token names.
type SSOUser struct {
	ObjectID string // oid
	Name     string
	UPN      string
	Roles    []string // app roles, e.g. MultiLine.Admin
	// Audience defaults to the app id itself (a v2.0 token); set it to
	// api://<host>/<app id> for a v1 token's application ID URI.
	Audience string
	TenantID string // defaults to the issuer's tenant
}

// SSOToken is the access token Teams hands the tab (getAuthToken): issued by
// the tenant for the app, with the user's oid, tid and roles.
func (i *Issuer) SSOToken(appID string, u SSOUser) string {
	tenant := u.TenantID
	if tenant == "" {
		tenant = strings.TrimSuffix(strings.TrimPrefix(i.cfg.Issuer, "https://login.microsoftonline.com/"), "/v2.0")
	}
	aud := u.Audience
	if aud == "" {
		aud = appID
	}
	c := jwt.MapClaims{
		"aud": aud, "tid": tenant, "oid": u.ObjectID, "sub": u.ObjectID, "name": u.Name,
		"preferred_username": u.UPN, "azp": TeamsClientID, "scp": "access_as_user", "ver": "2.0",
	}
	if len(u.Roles) > 0 {
		c["roles"] = u.Roles
	}
	return i.Sign(c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
