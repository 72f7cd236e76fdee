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

// Graph is graph.microsoft.com for an app that, unless a test grants it one
// (Grant), has no permission: every call with a valid app token gets Graph's
// documented 403 Authorization_RequestDenied body; a missing or foreign token
// gets 401 InvalidAuthenticationToken. App installs and directory searches are
// thus always refused the way a tenant without admin consent refuses them.
//
// Once TeamsActivity.Send is granted, activity feed notifications
// (POST /v1.0/users/{id}/teamwork/sendActivityNotification) are checked as
// Graph documents them (activity.go) and recorded (Notifications).
type Graph struct {
	entra *Entra
	srv   *httptest.Server

	mu       sync.Mutex
	requests []GraphRequest
	feed     activityFeed
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
	case r.Method == http.MethodPost && activityPath.MatchString(r.URL.Path) && g.granted(PermissionSendActivity):
		g.sendActivity(w, r, &rec, reply)
	default:
		reply(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
}
