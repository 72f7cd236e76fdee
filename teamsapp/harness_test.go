package teamsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
)

const testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// tokenAuth is an Authenticator over a fixed table of opaque tokens: the API tests
// are about what happens after sign-in; entra_test.go tests real tokens.
type tokenAuth map[string]Identity

func (a tokenAuth) Authenticate(_ context.Context, tok string) (Identity, error) {
	id, ok := a[tok]
	if !ok {
		return Identity{}, ErrInvalidToken
	}
	return id, nil
}

// testClock is a settable clock shared by the app and the bridge.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	b     *memBridge
	media *memMedia
	jobs  *memJobs
	app   *App
	srv   *httptest.Server
	clock *testClock
}

// newFixture serves an App over a memBridge with four employees, two threads and
// two dead jobs (7 and 8) besides a pending one (9).
// Tokens: "alice" (admin by object id), "bob", "carol" (disabled), "dave" (a
// compliance reviewer by role), "stranger" (no employee), "rolly" (admin by
// role, no employee).
func newFixture(t *testing.T, dev bool) *fixture {
	return newFixtureWith(t, dev, nil)
}

// newFixtureWith is newFixture with a change to the tab's Config.
func newFixtureWith(t *testing.T, dev bool, change func(*Config)) *fixture {
	t.Helper()
	return newFixtureRoutes(t, dev, change, nil)
}

// newFixtureRoutes is newFixtureWith that also mounts routes of the test's own
// (set before the server starts, so no request races them).
func newFixtureRoutes(t *testing.T, dev bool, change func(*Config), routes func(*fixture, *echo.Echo)) *fixture {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 6, 2, 10, 15, 0, 0, time.UTC)}
	b := newMemBridge(clock.Now)
	b.addEmployee("alice", "Alice Chen", "oid-alice", true)
	b.addEmployee("bob", "Bob Wang", "oid-bob", true)
	b.addEmployee("carol", "Carol Li", "oid-carol", false)
	b.addEmployee("dave", "Dave Zhou", "oid-dave", true)
	b.addThread("t1", "Emiliano Ceballos", "alice")
	clock.Add(time.Minute)
	b.addThread("t2", "Li Wei", "bob")
	auth := tokenAuth{}
	for _, n := range []string{"alice", "bob", "carol", "stranger"} {
		auth[n] = Identity{TenantID: testTenant, ObjectID: "oid-" + n, Name: n}
	}
	auth["dave"] = Identity{TenantID: testTenant, ObjectID: "oid-dave", Name: "dave", Roles: []string{RoleComplianceReview}}
	auth["rolly"] = Identity{TenantID: testTenant, ObjectID: "oid-rolly", Name: "rolly", Roles: []string{"Some.Other", RoleAdmin}}
	media := &memMedia{}
	jobs := &memJobs{jobs: []bridge.Job{
		{ID: 7, Lane: "send:t1", Kind: bridge.JobSend, Attempts: 8, Created: clock.Now().Add(-3 * time.Hour), Dead: true,
			LastError: "wechat refused the send (rejected): errcode 95018"},
		{ID: 8, Lane: "teams:bob", Kind: bridge.JobDeliver, Attempts: 2, Created: clock.Now().Add(-26 * time.Hour), Dead: true,
			LastError: "bot: 400 BadArgument"},
		{ID: 9, Lane: "timer:t2:", Kind: bridge.JobTimer, Created: clock.Now()},
	}}
	audit := memAudit{entries: []bridge.AuditEntry{
		{ID: 1, AuditRecord: bridge.AuditRecord{Thread: "t1", At: clock.Now().Add(-2 * time.Minute), Event: "ConsumerMessage",
			Detail: []byte(`{"Consumer":"wm1"}`), Actions: []byte(`[{"type":"RecordMessage","data":{}},{"type":"Send","data":{}}]`)}},
		{ID: 2, AuditRecord: bridge.AuditRecord{Thread: "t2", At: clock.Now(), Event: "EmployeeSend",
			Detail: []byte(`{}`), Actions: []byte(`[{"type":"RecordMessage","data":{}}]`)}},
	}}
	cfg := Config{Bridge: b, Media: media, Jobs: jobs, Audit: audit, Journal: journalStub{}, Auth: auth, AppID: "app", TenantID: testTenant, Admins: []string{"oid-alice"},
		Dev: dev, PollInterval: 20 * time.Millisecond, Heartbeat: 50 * time.Millisecond, Now: clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if change != nil {
		change(&cfg)
	}
	app := New(cfg)
	app.wall = clock.Now
	e := echo.New()
	app.Routes(e)
	f := &fixture{b: b, media: media, jobs: jobs, app: app, clock: clock}
	if routes != nil {
		routes(f, e)
	}
	f.srv = httptest.NewServer(e)
	t.Cleanup(f.srv.Close)
	return f
}

// call makes a request as the holder of token ("" for none) and decodes a JSON answer into out.
func (f *fixture) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}
