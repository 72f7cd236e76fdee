package prodfakes

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// EntraConfig is the app registration the fake knows.
type EntraConfig struct {
	TenantID     string // a GUID
	ClientID     string // the bot's app id
	ClientSecret string
	// Scopes are the .default scopes the app may get a token for; default
	// BotFrameworkScope and GraphScope.
	Scopes []string
	// TokenTTL is the lifetime of issued tokens (default 3599 s, as Entra).
	TokenTTL time.Duration
}

// EntraRequest is one request the fake received; the client secret is never kept.
type EntraRequest struct {
	At     time.Time
	Method string
	Path   string
	Query  url.Values
	// Form is the token request's form without client_secret.
	Form   url.Values
	Status int
	Error  string // Entra's error code when refused
}

// IssuedToken is an access token the fake issued.
type IssuedToken struct {
	Token    string
	Scope    string
	ClientID string
	Expires  time.Time
}

// Entra is Microsoft Entra ID's login.microsoftonline.com for one tenant and one
// app: instance discovery, OpenID configuration, keys, and the v2.0 token endpoint
// with the client credentials grant. It runs over TLS with a certificate of the
// test CA for login.microsoftonline.com; reach it through Proxy.
type Entra struct {
	cfg EntraConfig
	key signer
	srv *httptest.Server

	mu       sync.Mutex
	requests []EntraRequest
	issued   []IssuedToken
}

// NewEntra starts the fake.
func NewEntra(ca *CA, cfg EntraConfig) (*Entra, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fmt.Errorf("prodfakes: entra needs a tenant, a client id and a secret")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{BotFrameworkScope, GraphScope}
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 3599 * time.Second
	}
	k, err := newSigner()
	if err != nil {
		return nil, err
	}
	e := &Entra{cfg: cfg, key: k}
	e.srv, err = ca.StartTLS(http.HandlerFunc(e.serve), EntraHost)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Addr is the local address to route EntraHost:443 to.
func (e *Entra) Addr() string { return e.srv.Listener.Addr().String() }

// Close stops the fake.
func (e *Entra) Close() { e.srv.Close() }

// Requests returns every request so far.
func (e *Entra) Requests() []EntraRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// Issued returns every token issued so far.
func (e *Entra) Issued() []IssuedToken {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.issued)
}

// Valid reports whether token was issued by this fake for scope and has not expired.
func (e *Entra) Valid(token, scope string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.issued {
		if subtle.ConstantTimeCompare([]byte(t.Token), []byte(token)) == 1 {
			return t.Scope == scope && time.Now().Before(t.Expires)
		}
	}
	return false
}

func (e *Entra) base() string { return "https://" + EntraHost + "/" + e.cfg.TenantID }

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	rec := EntraRequest{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	reply := func(status int, v any) {
		rec.Status = status
		e.mu.Lock()
		e.requests = append(e.requests, rec)
		e.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store, no-cache")
		writeJSON(w, status, v)
	}
	fail := func(status int, code string, aadsts int, desc string) {
		rec.Error = code
		reply(status, entraError(code, aadsts, desc))
	}
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/common/discovery/instance":
		q := r.URL.Query()
		if q.Get("api-version") == "" {
			fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'api-version'.")
			return
		}
		ae, err := url.Parse(q.Get("authorization_endpoint"))
		if err != nil || ae.Scheme != "https" || ae.Host == "" {
			fail(400, "invalid_instance", 50049, "Unknown or invalid instance.")
			return
		}
		if !strings.EqualFold(ae.Host, EntraHost) {
			fail(400, "invalid_instance", 50049, "Unknown or invalid instance.")
			return
		}
		atenant, _, _ := strings.Cut(strings.TrimPrefix(ae.Path, "/"), "/")
		reply(http.StatusOK, map[string]any{
			"tenant_discovery_endpoint": "https://" + EntraHost + "/" + atenant + "/v2.0/.well-known/openid-configuration",
			"api-version":               "1.1",
			"metadata": []any{
				map[string]any{"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
					"aliases": []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}},
				map[string]any{"preferred_network": "login.partner.microsoftonline.cn", "preferred_cache": "login.partner.microsoftonline.cn",
					"aliases": []string{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}},
				map[string]any{"preferred_network": "login.microsoftonline.us", "preferred_cache": "login.microsoftonline.us",
					"aliases": []string{"login.microsoftonline.us", "login.usgovcloudapi.net"}},
			},
		})
	case tenant != e.cfg.TenantID && tenant != "common":
		fail(400, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
	case r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		b := e.base()
		reply(http.StatusOK, map[string]any{
			"token_endpoint":                        b + "/oauth2/v2.0/token",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"jwks_uri":                              b + "/discovery/v2.0/keys",
			"response_modes_supported":              []string{"query", "fragment", "form_post"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"issuer":                                b + "/v2.0",
			"request_uri_parameter_supported":       false,
			"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
			"authorization_endpoint":                b + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         b + "/oauth2/v2.0/devicecode",
			"http_logout_supported":                 true,
			"frontchannel_logout_supported":         true,
			"end_session_endpoint":                  b + "/oauth2/v2.0/logout",
			"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
			"kerberos_endpoint":                     b + "/kerberos",
			"tenant_region_scope":                   "EU",
			"cloud_instance_name":                   "microsoftonline.com",
			"cloud_graph_host_name":                 "graph.windows.net",
			"msgraph_host":                          "graph.microsoft.com",
			"rbac_url":                              "https://pas.windows.net",
		})
	case r.Method == http.MethodGet && rest == "discovery/v2.0/keys":
		reply(http.StatusOK, map[string]any{"keys": []any{e.key.jwk(nil)}})
	case rest == "oauth2/v2.0/token":
		if r.Method != http.MethodPost {
			fail(405, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
			return
		}
		e.token(r, &rec, reply, fail)
	default:
		rec.Status = 404
		e.mu.Lock()
		e.requests = append(e.requests, rec)
		e.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (e *Entra) token(r *http.Request, rec *EntraRequest, reply func(int, any), fail func(int, string, int, string)) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(400, "invalid_request", 900144, "The request body could not be parsed.")
		return
	}
	form := r.PostForm
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok { // client_secret_basic
		clientID, secret = u, p
	}
	rec.Form = url.Values{}
	for k, v := range form {
		if k != "client_secret" && k != "client_assertion" {
			rec.Form[k] = v
		}
	}
	grant := form.Get("grant_type")
	switch {
	case grant == "":
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	case grant != "client_credentials":
		fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+grant+"'.")
		return
	case clientID == "":
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	case clientID != e.cfg.ClientID:
		fail(400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, e.cfg.TenantID))
		return
	case secret == "":
		fail(401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(e.cfg.ClientSecret)) != 1:
		fail(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+e.cfg.ClientID+"'.")
		return
	}
	// MSAL adds the OpenID scopes to every request; Entra ignores them for
	// client credentials. Exactly one resource's .default must remain.
	var resource []string
	for _, s := range strings.Fields(form.Get("scope")) {
		switch s {
		case "openid", "profile", "offline_access":
		default:
			resource = append(resource, s)
		}
	}
	switch {
	case len(resource) == 0:
		fail(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	case len(resource) > 1:
		fail(400, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope "+strings.Join(resource, " ")+" is not valid.")
		return
	case !strings.HasSuffix(resource[0], "/.default"):
		fail(400, "invalid_scope", 1002012, "The provided value for scope "+resource[0]+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	case !slices.Contains(e.cfg.Scopes, resource[0]):
		fail(400, "invalid_resource", 500011, "The resource principal named "+strings.TrimSuffix(resource[0], "/.default")+" was not found in the tenant named "+e.cfg.TenantID+". This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.")
		return
	}
	tok, _ := e.issue(clientID, resource[0])
	secs := int(e.cfg.TokenTTL / time.Second)
	reply(http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
}

// issue signs and records an app token of clientID for scope (a resource's
// .default), valid for TokenTTL.
func (e *Entra) issue(clientID, scope string) (token string, expires time.Time) {
	now := time.Now()
	exp := now.Add(e.cfg.TokenTTL)
	tok := e.key.sign(jwt.MapClaims{
		"aud": strings.TrimSuffix(scope, "/.default"), "iss": "https://sts.windows.net/" + e.cfg.TenantID + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "appid": clientID, "appidacr": "1",
		"idtyp": "app", "tid": e.cfg.TenantID, "oid": clientID, "sub": clientID, "ver": "1.0", "uti": randomHex(11),
	})
	e.mu.Lock()
	e.issued = append(e.issued, IssuedToken{Token: tok, Scope: scope, ClientID: clientID, Expires: exp})
	e.mu.Unlock()
	return tok, exp
}

// entraError is Entra's error body.
func entraError(code string, aadsts int, desc string) map[string]any {
	trace, corr := uuid(), uuid()
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	return map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, corr, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
