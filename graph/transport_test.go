package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/multiline/multiline/metrics"
)

// Graph's and Entra's answers are counted by status, the 403 of a missing
// permission included (an operator alerts on it).
func TestResponsesAreCounted(t *testing.T) {
	count := func(service, status string) float64 {
		return metrics.Sum("multiline_http_client_responses_total", map[string]string{"service": service, "status": status})
	}
	g201, g403, e200 := count("graph", "201"), count("graph", "403"), count("entra", "200")
	env := newTestEnv(t, nil)
	env.graph.respond(response{status: 201})
	if err := env.client.InstallAppForUser(context.Background(), "user-1", "cat-app-1"); err != nil {
		t.Fatal(err)
	}
	env.graph.respond(response{status: 403, body: graphError("Forbidden", "Missing role permissions on the request.")})
	if err := env.client.InstallAppForUser(context.Background(), "user-2", "cat-app-1"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("install: %v, want ErrForbidden", err)
	}
	if d := count("graph", "201") - g201; d != 1 {
		t.Errorf("graph 201 counted %v times, want 1", d)
	}
	if d := count("graph", "403") - g403; d != 1 {
		t.Errorf("graph 403 counted %v times, want 1", d)
	}
	if d := count("entra", "200") - e200; d < 1 {
		t.Errorf("the token endpoint's answer was not counted (entra 200: +%v)", d)
	}
}

func TestDefaultClientIsTuned(t *testing.T) {
	hc := NewHTTPClient(0)
	tr, ok := hc.Transport.(*http.Transport)
	if !ok || hc.Timeout != 30*time.Second || tr.MaxIdleConnsPerHost != DefaultMaxIdleConnsPerHost || tr.Proxy == nil ||
		tr.ResponseHeaderTimeout == 0 || tr.TLSHandshakeTimeout == 0 || tr.DialContext == nil {
		t.Fatalf("client %+v, transport %+v", hc, tr)
	}
}
