package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// buildLocal is the application in local mode without its job runner and
// without a listener: requests go straight to its routes.
func buildLocal(t *testing.T, log *slog.Logger, extra ...string) (*application, http.Handler) {
	t.Helper()
	env := map[string]string{"MULTILINE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "multiline.db")}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] }, true)
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	app, e, err := newServer(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	return app, e
}

func get(t *testing.T, h http.Handler, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonLines decodes a JSON log, one object a line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// Issue 10, item 5: every request has an id (the caller's X-Request-Id, else a new
// one), echoed in the answer, and the request's log lines carry it: the access
// line and the lines the handler logs with the request's context.
func TestRequestIDsInAnswersAndLogs(t *testing.T) {
	var logs syncBuffer
	_, h := buildLocal(t, newLogger("json", &logs))

	// A WeChat callback without a signature is refused and logged by its handler.
	rec := get(t, h, "/wechat/callback", http.Header{"X-Request-Id": {"trace-abc.1"}})
	if rec.Code != 400 || rec.Header().Get("X-Request-Id") != "trace-abc.1" {
		t.Fatalf("callback: %d, X-Request-Id %q", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	var handlerLine, accessLine map[string]any
	for _, l := range jsonLines(t, logs.String()) {
		switch l["msg"] {
		case "wechat callback rejected":
			handlerLine = l
		case "http request":
			accessLine = l
		}
	}
	if handlerLine["request_id"] != "trace-abc.1" {
		t.Errorf("the handler's line does not carry the request id: %v", handlerLine)
	}
	if accessLine["request_id"] != "trace-abc.1" || accessLine["route"] != "/wechat/callback" || accessLine["status"] != float64(400) {
		t.Errorf("access line: %v", accessLine)
	}

	// No id, or one that is not id-shaped: a new one.
	for _, given := range []string{"", strings.Repeat("x", 65), "a b"} {
		rec := get(t, h, "/healthz", http.Header{"X-Request-Id": {given}})
		id := rec.Header().Get("X-Request-Id")
		if len(id) != 32 || id == given {
			t.Errorf("given %q, the answer's X-Request-Id is %q", given, id)
		}
	}
}

// Issue 10, item 5: /metrics is never served on the public listener.
func TestNoMetricsOnThePublicListener(t *testing.T) {
	_, h := buildLocal(t, nil)
	if rec := get(t, h, "/metrics", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("public /metrics: %d %s, want 404", rec.Code, rec.Body)
	}
}

// serve runs /metrics on MULTILINE_METRICS_ADDR, and only there, and stops it
// with the service.
func TestServeRunsMetricsOnItsOwnListener(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	addr, maddr := freeAddr(t), freeAddr(t)
	env := map[string]string{"MULTILINE_ADDR": addr, "MULTILINE_METRICS_ADDR": maddr,
		"MULTILINE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "multiline.db")}
	cfg, err := LoadConfig(func(k string) string { return env[k] }, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg) }()
	status := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually(t, "the service ready", func() bool { st, _ := status("http://" + addr + "/readyz"); return st == 200 })
	if st, _ := status("http://" + addr + "/metrics"); st != 404 {
		t.Errorf("public listener /metrics: %d, want 404", st)
	}
	st, body := status("http://" + maddr + "/metrics")
	if st != 200 {
		t.Fatalf("metrics listener /metrics: %d %s", st, body)
	}
	for _, want := range []string{"multiline_state_up 1", `multiline_job_queue_depth{kind="wechat.send",state="due"}`,
		`multiline_policy_outcomes{outcome="blocked",reason=""} 0`, "go_goroutines", "process_cpu_seconds_total",
		`multiline_archive_journal_deliveries_total{outcome="retried"} 0`, "multiline_archive_journal_pending 0",
		"multiline_archive_journal_oldest_pending_seconds 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if st, _ := status("http://" + maddr + "/readyz"); st != 404 {
		t.Errorf("metrics listener /readyz: %d: it serves /metrics only", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := net.Dial("tcp", maddr); err == nil {
		t.Error("the metrics listener is still open after serve returned")
	}
}

func TestListenMetrics(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	// An address the operator chose that cannot be used stops start-up, naming the setting.
	_, err = listenMetrics(Config{MetricsAddr: busy.Addr().String(), MetricsAddrSet: true}, log)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Name != "MULTILINE_METRICS_ADDR" || strings.Contains(err.Error(), "\n") {
		t.Fatalf("busy explicit address: %v", err)
	}
	// The default, busy (another replica on the host): a warning, and no /metrics.
	ln, err := listenMetrics(Config{MetricsAddr: busy.Addr().String()}, log)
	if err != nil || ln != nil || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("busy default: %v %v\n%s", ln, err, logs.String())
	}
	// Off.
	if ln, err := listenMetrics(Config{}, log); ln != nil || err != nil {
		t.Fatalf("off: %v %v", ln, err)
	}
}

// Issue 10, item 5: /readyz says not ready, and why, when jobs are due but
// nothing was claimed for a minute, and when the database is down. The state is
// set, not waited for: no runner runs, and the application's clock (local mode:
// the simulator's) is moved on.
func TestReadyzSaysWhyNotReady(t *testing.T) {
	app, h := buildLocal(t, nil)
	ready := func() (int, map[string]string) {
		rec := get(t, h, "/readyz", nil)
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("/readyz: %d %q is not JSON", rec.Code, rec.Body)
		}
		return rec.Code, body
	}
	if st, body := ready(); st != 200 || body["status"] != "ready" {
		t.Fatalf("fresh service: %d %v", st, body)
	}
	ctx := context.Background()
	if err := app.db.Tx(ctx, func(tx bridge.Tx) error {
		return tx.Enqueue(ctx, bridge.Job{Lane: "send:t-ready", Kind: bridge.JobSend, Payload: []byte(`{"thread":"t-ready"}`)})
	}); err != nil {
		t.Fatal(err)
	}
	if st, body := ready(); st != 200 {
		t.Fatalf("a job just due: %d %v", st, body)
	}
	app.fake.Advance(2 * time.Minute)
	st, body := ready()
	if st != 503 || body["status"] != "not ready" || !strings.Contains(body["reason"], "none was claimed") || !strings.Contains(body["reason"], bridge.JobSend) {
		t.Fatalf("due for 2 minutes, nothing claimed: %d %v", st, body)
	}
	t.Logf("/readyz: %d %v", st, body)
	// A runner that claims (all its workers busy with older work) is not stuck.
	app.lastClaim.Store(app.now().UnixMicro())
	if st, body := ready(); st != 200 {
		t.Fatalf("claimed just now: %d %v", st, body)
	}
	app.db.Close()
	st, body = ready()
	if st != 503 || !strings.Contains(body["reason"], "database unreachable") {
		t.Fatalf("database closed: %d %v", st, body)
	}
	t.Logf("/readyz: %d %v", st, body)
}

func TestJobLogAttrs(t *testing.T) {
	j := bridge.Job{ID: 42, Kind: bridge.JobDeliver, Lane: "teams:e1", Payload: []byte(`{"employee":"e1","thread":"t9","kind":"notice","params":{}}`)}
	got := jobLogAttrs(j)
	want := []any{"job", int64(42), "kind", bridge.JobDeliver, "lane", "teams:e1", "thread", "t9", "employee", "e1"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	// A pull job's payload carries a callback token: it is never logged.
	pull := jobLogAttrs(bridge.Job{ID: 1, Kind: bridge.JobPull, Lane: "pull:wk1", Payload: []byte(`{"account":"wk1","token":"SECRET"}`)})
	for _, v := range pull {
		if v == "SECRET" {
			t.Fatalf("%v", pull)
		}
	}
}

// gathered is the value of the first series of family name with labels in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	found := metrics.Find(reg, name, labels)
	if len(found) == 0 {
		return 0, false
	}
	return found[0].GetGauge().GetValue(), true
}

func pngBytes() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2)))
	return b.Bytes()
}

// The state collector's queries (storage/stats.go) on both databases: messages by
// direction, kind and status, policy outcomes, and jobs by kind.
func TestStateCollector(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testStateCollector(t, startLocal(t)) })
	t.Run("postgres", func(t *testing.T) { testStateCollector(t, startLocal(t, "MULTILINE_DATABASE_URL", pgtest.Schema(t))) })
}

func testStateCollector(t *testing.T, l *local) {
	ctx := context.Background()
	l.conn.AddConversation("a:ann", "tenant-1", "29:ann")
	l.post("/api/messages", l.activity("installationUpdate", "29:ann", "a:ann", map[string]any{"action": "add"}))
	eventually(t, "welcome card", func() bool { return len(l.conn.Activities("a:ann")) > 0 })
	l.post("/fake/consumer/send", map[string]any{"consumer": "wmStat", "text": "hello"})
	eventually(t, "the initial auto message", func() bool { return len(l.inbox("wmStat")) == 1 })
	if _, err := l.app.fake.ConsumerSendsImage(ctx, "wmStat", "dot.png", pngBytes()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the image as a card", func() bool {
		return strings.Contains(l.cardsIn("a:ann"), "dot.png") || strings.Count(l.cardsIn("a:ann"), "wmStat") > 1
	})
	l.post("/api/messages", l.activity("message", "29:ann", "a:ann", map[string]any{"text": "thanks"}))
	eventually(t, "the reply in WeChat", func() bool { return len(l.inbox("wmStat")) == 2 })

	// A job waiting for its time, and a dead one, of kinds no handler runs.
	if err := l.app.db.Tx(ctx, func(tx bridge.Tx) error {
		for _, k := range []string{"stats.scheduled", "stats.dead"} {
			if err := tx.Enqueue(ctx, bridge.Job{Lane: "stats:" + k, Kind: k, RunAt: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all, err := l.app.db.Jobs(ctx, storage.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range all {
		if j.Kind == "stats.dead" {
			if err := l.app.db.Tx(ctx, func(tx bridge.Tx) error { return tx.BuryJob(ctx, j.ID, 1, "test") }); err != nil {
				t.Fatal(err)
			}
		}
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(l.app.stateCollector())
	eventuallyValue := func(name string, labels map[string]string, ok func(float64) bool) {
		t.Helper()
		var last float64
		deadline := time.Now().Add(15 * time.Second)
		for {
			v, found := gathered(t, reg, name, labels)
			if found && ok(v) {
				return
			}
			last = v
			if time.Now().After(deadline) {
				t.Fatalf("%s%v = %v (found %v)", name, labels, last, found)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	atLeast1 := func(v float64) bool { return v >= 1 }
	eventuallyValue("multiline_messages", map[string]string{"direction": "inbound", "kind": "text", "status": "received"}, atLeast1)
	eventuallyValue("multiline_messages", map[string]string{"direction": "inbound", "kind": "image", "status": "received"}, atLeast1)
	eventuallyValue("multiline_messages", map[string]string{"direction": "outbound", "kind": "notice", "status": "sent"}, atLeast1)
	eventuallyValue("multiline_messages", map[string]string{"direction": "outbound", "kind": "text", "status": "sent"}, atLeast1)
	eventuallyValue("multiline_policy_outcomes", map[string]string{"outcome": "sent", "reason": ""}, atLeast1)
	eventuallyValue("multiline_policy_outcomes", map[string]string{"outcome": "blocked"}, func(v float64) bool { return v == 0 })
	eventuallyValue("multiline_job_queue_depth", map[string]string{"kind": "stats.scheduled", "state": "scheduled"}, func(v float64) bool { return v == 1 })
	eventuallyValue("multiline_job_oldest_age_seconds", map[string]string{"kind": "stats.scheduled"}, func(v float64) bool { return v >= 0 })
	eventuallyValue("multiline_dead_jobs", map[string]string{"kind": "stats.dead"}, func(v float64) bool { return v == 1 })
	eventuallyValue("multiline_job_queue_depth", map[string]string{"kind": "stats.dead", "state": "scheduled"}, func(v float64) bool { return v == 0 })
	eventuallyValue("multiline_state_up", nil, func(v float64) bool { return v == 1 })
}
