package prodfakes

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// GraphRequest is one call Graph received.
type GraphRequest struct {
	At     time.Time
	Method string
	Path   string
	Status int
}

// Graph is graph.microsoft.com for an app that has not been granted any
// permission: every call with a valid app token gets Graph's documented 403
// Authorization_RequestDenied body; a missing or foreign token gets 401
// InvalidAuthenticationToken. App installs and activity feed notifications are
// thus refused the way a tenant without admin consent refuses them; they are not
// under test in the end-to-end test, only that refusing them harms nothing.
type Graph struct {
	entra *Entra
	srv   *httptest.Server

	mu       sync.Mutex
	requests []GraphRequest
}

// NewGraph starts the fake; tokens are checked against entra.
func NewGraph(ca *CA, entra *Entra) (*Graph, error) {
	g := &Graph{entra: entra}
	var err error
	g.srv, err = ca.StartTLS(http.HandlerFunc(g.serve), GraphHost)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Addr is the local address to route GraphHost:443 to.
func (g *Graph) Addr() string { return g.srv.Listener.Addr().String() }

// Close stops the fake.
func (g *Graph) Close() { g.srv.Close() }

// Requests returns every call so far.
func (g *Graph) Requests() []GraphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	rec := GraphRequest{At: time.Now(), Method: r.Method, Path: r.URL.Path}
	reply := func(status int, code, msg string) {
		rec.Status = status
		g.mu.Lock()
		g.requests = append(g.requests, rec)
		g.mu.Unlock()
		w.Header().Set("request-id", uuid())
		writeJSON(w, status, map[string]any{"error": map[string]any{
			"code": code, "message": msg,
			"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": uuid(), "client-request-id": r.Header.Get("client-request-id")},
		}})
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		reply(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	case !g.entra.Valid(tok, GraphScope):
		reply(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	default:
		reply(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
}
