package graph

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTenant = "11111111-2222-3333-4444-555555555555"
	testClient = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	testSecret = "s3cret~value"
	testToken  = "app-only-token-for-graph"
)

// tokenServer is a local Entra ID: OpenID discovery plus the OAuth2
// client-credentials grant, answering as login.microsoftonline.com does.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []url.Values
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant")
		base := ts.URL + "/" + tenant
		writeJSON(w, 200, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                ts.URL + "/" + tenant + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code", "id_token", "token"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		ts.mu.Lock()
		ts.requests = append(ts.requests, r.PostForm)
		ts.mu.Unlock()
		f := r.PostForm
		switch {
		case r.PathValue("tenant") != testTenant:
			writeJSON(w, 400, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."})
		case f.Get("grant_type") != "client_credentials":
			writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
		case f.Get("client_id") != testClient || f.Get("client_secret") != testSecret:
			writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
		case !graphDefaultScope(f.Get("scope")):
			writeJSON(w, 400, map[string]any{"error": "invalid_scope", "error_description": "AADSTS1002012: scope " + f.Get("scope") + " is not valid."})
		default:
			writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": testToken})
		}
	})
	ts.Server = httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.requests)
}

// graphRequest is one request as the fake Graph received it.
type graphRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeGraph is a local Microsoft Graph. It rejects requests without the
// token from tokenServer the way Graph does, records every request and
// answers from a script of responses, one per request in order.
type fakeGraph struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	requests []graphRequest
	script   []response
}

type response struct {
	status int
	header map[string]string
	body   any // marshalled as JSON unless nil
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{t: t}
	g.Server = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

// graphError is Graph's error body.
func graphError(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": "2025-01-01T00:00:00", "request-id": "r-1", "client-request-id": "c-1"},
	}}
}

func (g *fakeGraph) respond(rs ...response) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.script = append(g.script, rs...)
}

func (g *fakeGraph) got() []graphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]graphRequest(nil), g.requests...)
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		g.t.Errorf("fake graph: read body: %v", err)
	}
	// The SDK gzips request bodies by default, as Graph accepts.
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			g.t.Errorf("fake graph: gzip body: %v", err)
		} else if body, err = io.ReadAll(zr); err != nil {
			g.t.Errorf("fake graph: gunzip: %v", err)
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeJSON(w, 401, graphError("InvalidAuthenticationToken", "Access token is empty."))
		return
	}
	g.mu.Lock()
	g.requests = append(g.requests, graphRequest{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
	var rs response
	if len(g.script) == 0 {
		rs = response{status: 500, body: graphError("InternalServerError", "fake graph: no scripted response")}
	} else {
		rs, g.script = g.script[0], g.script[1:]
	}
	g.mu.Unlock()
	for k, v := range rs.header {
		w.Header().Set(k, v)
	}
	if rs.body == nil {
		w.WriteHeader(rs.status)
		return
	}
	writeJSON(w, rs.status, rs.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// testEnv is a Client wired to the fakes, with waits recorded, not slept.
type testEnv struct {
	client *Client
	graph  *fakeGraph
	tokens *tokenServer
	mu     sync.Mutex
	sleeps []time.Duration
}

func newTestEnv(t *testing.T, edit func(*Config)) *testEnv {
	t.Helper()
	tokens := newTokenServer(t)
	graph := newFakeGraph(t)
	pool := x509.NewCertPool()
	pool.AddCert(tokens.Certificate())
	pool.AddCert(graph.Certificate())
	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	cfg := Config{
		TenantID:      testTenant,
		ClientID:      testClient,
		ClientSecret:  testSecret,
		GraphBaseURL:  graph.URL + "/v1.0",
		AuthorityHost: tokens.URL + "/",
		HTTPClient:    hc,
		TeamsAppID:    "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21",
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env := &testEnv{client: c, graph: graph, tokens: tokens}
	c.sleep = func(_ context.Context, d time.Duration) error {
		env.mu.Lock()
		defer env.mu.Unlock()
		env.sleeps = append(env.sleeps, d)
		return nil
	}
	return env
}

func (e *testEnv) waits() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprint(e.sleeps)
}

// jsonEqual compares JSON documents structurally.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	// UseNumber keeps 64-bit ids such as chainId exact.
	decode := func(b []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		return v, d.Decode(&v)
	}
	g, err := decode(got)
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	w, err := decode([]byte(want))
	if err != nil {
		t.Fatalf("test's want is not JSON: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("body\n got %s\nwant %s", gb, wb)
	}
}

func strconvFormat(n int64) string { return fmt.Sprint(n) }

// graphDefaultScope accepts what Entra accepts for this grant: the Graph
// .default scope, plus the OpenID scopes MSAL always adds.
func graphDefaultScope(scope string) bool {
	found := false
	for _, s := range strings.Fields(scope) {
		switch s {
		case "https://graph.microsoft.com/.default":
			found = true
		case "openid", "offline_access", "profile":
		default:
			return false
		}
	}
	return found
}
