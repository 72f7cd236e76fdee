package prodfakes

import (
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ManagedIdentity is Azure App Service's local managed identity endpoint, for
// a service that has one user-assigned identity: the host sets
// IDENTITY_ENDPOINT and IDENTITY_HEADER in the app's environment, and the app
// asks GET IDENTITY_ENDPOINT?resource=…&api-version=2019-08-01&client_id=…
// with the header X-IDENTITY-HEADER (Microsoft's "Managed identities for App
// Service", REST endpoint reference). The tokens are Entra's (Entra.Valid
// accepts them). It serves plain HTTP on 127.0.0.1, as App Service's endpoint
// is local to the app, and Go never proxies it.
type ManagedIdentity struct {
	entra    *Entra
	clientID string // the user-assigned identity's client id
	header   string // IDENTITY_HEADER, the endpoint's secret
	srv      *httptest.Server

	mu       sync.Mutex
	requests []ManagedIdentityRequest
}

// ManagedIdentityRequest is one token request the endpoint received.
type ManagedIdentityRequest struct {
	At     time.Time
	Query  url.Values
	Status int
}

// managedIdentityAPIVersion is the one version of the protocol served.
const managedIdentityAPIVersion = "2019-08-01"

// NewManagedIdentity starts the endpoint of the identity clientID, whose
// tokens entra issues (for the resources of its EntraConfig.Scopes).
func NewManagedIdentity(entra *Entra, clientID string) *ManagedIdentity {
	m := &ManagedIdentity{entra: entra, clientID: clientID, header: randomHex(16)}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// Env is what App Service puts in the app's environment.
func (m *ManagedIdentity) Env() map[string]string {
	return map[string]string{"IDENTITY_ENDPOINT": m.srv.URL + "/msi/token", "IDENTITY_HEADER": m.header}
}

// Header is the endpoint's secret (IDENTITY_HEADER), for secret scans.
func (m *ManagedIdentity) Header() string { return m.header }

// Close stops the endpoint.
func (m *ManagedIdentity) Close() { m.srv.Close() }

// Requests returns every token request so far.
func (m *ManagedIdentity) Requests() []ManagedIdentityRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

func (m *ManagedIdentity) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rec := ManagedIdentityRequest{At: time.Now(), Query: q}
	reply := func(status int, v any) {
		rec.Status = status
		m.mu.Lock()
		m.requests = append(m.requests, rec)
		m.mu.Unlock()
		writeJSON(w, status, v)
	}
	fail := func(status int, msg string) {
		reply(status, map[string]any{"statusCode": status, "message": msg, "correlationId": uuid()})
	}
	resource := q.Get("resource")
	scope := strings.TrimSuffix(resource, "/") + "/.default"
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/msi/token":
		fail(http.StatusNotFound, "Not found.")
	case subtle.ConstantTimeCompare([]byte(r.Header.Get("X-IDENTITY-HEADER")), []byte(m.header)) != 1:
		fail(http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or not valid.")
	case q.Get("api-version") != managedIdentityAPIVersion:
		fail(http.StatusBadRequest, "The api-version is missing or not supported; use "+managedIdentityAPIVersion+".")
	case resource == "":
		fail(http.StatusBadRequest, "The resource parameter is required.")
	case q.Get("client_id") == "":
		// Without client_id App Service uses the system-assigned identity, which
		// this app does not have (nor one found by principal_id or mi_res_id).
		fail(http.StatusBadRequest, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
	case !strings.EqualFold(q.Get("client_id"), m.clientID):
		fail(http.StatusBadRequest, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
	case !slices.Contains(m.entra.cfg.Scopes, scope):
		fail(http.StatusBadRequest, "The resource "+resource+" is not a resource this identity can get a token for.")
	default:
		tok, exp := m.entra.issue(m.clientID, scope)
		reply(http.StatusOK, map[string]any{"access_token": tok, "expires_on": strconv.FormatInt(exp.Unix(), 10),
			"resource": resource, "token_type": "Bearer", "client_id": m.clientID})
	}
}
