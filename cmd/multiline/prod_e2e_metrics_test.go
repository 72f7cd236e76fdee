package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// TestProductionMetrics is issue 10's "/metrics is scraped in a production-mode
// test": the real binary without --dev (the harness of prod_e2e_harness_test.go),
// MULTILINE_METRICS_ADDR on a port of its own and MULTILINE_LOG_FORMAT=json. It
// scrapes /metrics before and after a run that sends messages both ways, has a
// WeChat send's connection dropped (a retry) and an access token expire (42001),
// has Teams answer 429 once (a wait for a limit) and 400 forever to one card (a
// dead job), and queues an employee's message; then every family of issue 10
// item 5 is there, with the values that run must have moved.
func TestProductionMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	buildBinary(t)
	run := newProdRun(t)
	maddr := freeAddr(t)
	w := run.world(t, prodOptions{name: "metrics", env: map[string]string{
		"MULTILINE_METRICS_ADDR": maddr,
		"MULTILINE_LOG_FORMAT":   "json",
	}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log (last 6000 bytes):\n%s", tail(w.proc.log.String(), 6000))
		}
	})
	scrape := func() promScrape {
		t.Helper()
		s, err := scrapeMetrics("http://" + maddr + "/metrics")
		if err != nil {
			t.Fatalf("scrape %s: %v", maddr, err)
		}
		return s
	}
	before := scrape()

	t.Run("metrics_only_on_their_own_listener", func(t *testing.T) {
		w := w.in(t)
		if st, b := w.do("GET", "/metrics", "", "", nil, nil); st != http.StatusNotFound {
			t.Fatalf("public listener /metrics: %d %.200s, want 404", st, b)
		}
		st, b := w.do("GET", "/readyz", "", "", nil, nil)
		if st != 200 || !strings.Contains(string(b), `"status":"ready"`) {
			t.Fatalf("/readyz: %d %s", st, b)
		}
	})

	ann := w.install("ann", "Ann Lee", true)
	consumer := "wmMetrics"
	post := func(threadID, text string) {
		t.Helper()
		w.apiJSON(w.sso(ann), "POST", "/api/v1/threads/"+threadID+"/messages", map[string]any{"text": text}, 201, nil)
	}

	// Messages both ways.
	w.consumerSends(consumer, "hello metrics")
	w.waitChat(ann, prodSoon, "hello metrics")
	w.waitInbox(consumer, prodSoon, "Thank you! You can now start messaging")
	th := w.threadWith(ann, "hello metrics")
	reply := "metrics reply " + randHex(3)
	post(th.ID, reply)
	w.waitInbox(consumer, prodSoon, reply)

	// A send whose connection drops: a transport error, and a retry.
	w.consumerSends(consumer, "and a second question")
	w.waitChat(ann, prodSoon, "and a second question")
	dropped := "DROPPED" + randHex(4)
	w.wx.dropSend(dropped)
	post(th.ID, dropped+" answer")
	w.waitInbox(consumer, prodSoon, dropped)

	// WeChat's access token expires: 42001, renewed.
	w.fake.Advance(fakewechat.DefaultTokenTTL + time.Minute)
	w.consumerSends(consumer, "after the token expired")
	w.waitChat(ann, prodSoon, "after the token expired")

	// Teams throttles one card: a wait for a limit.
	w.conn.Fail(fakeconnector.Failure{Op: "send", Conversation: ann.conv, Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	w.consumerSends(consumer, "a throttled card")
	w.waitChat(ann, prodSoon, "a throttled card")

	// Teams refuses one card for good: a dead job.
	poison := "POISON400x" + randHex(4)
	w.cw.poisonWith(poison)
	w.consumerSends(consumer, poison+" is refused")
	waitFor(t, prodSoon, "the refused card's job dead", func() bool {
		out, _ := w.cli("admin", "jobs", "--dead")
		return strings.Contains(out, "teams.deliver")
	})

	// The employee writes four times in a row: three are sent, the fourth queued.
	w.consumerSends(consumer, "tell me everything")
	w.waitChat(ann, prodSoon, "tell me everything")
	for i := range 4 {
		post(th.ID, fmt.Sprintf("part %d %s", i+1, randHex(2)))
	}
	waitShow(t, prodSoon, "the fourth message queued", func() bool {
		for _, m := range w.thread(ann, th.ID).Messages {
			if strings.HasPrefix(m.Text, "part 4 ") {
				return m.Status == "queued"
			}
		}
		return false
	}, func() string { return w.showThread(ann, th.ID) })

	// A request with the caller's request id, for the log check below.
	a := w.activity(ann, "message", map[string]any{"text": "help", "textFormat": "plain"})
	body, _ := json.Marshal(a)
	if st, b := w.do("POST", "/api/messages", "Bearer "+run.bf.ChannelToken(run.appID, w.serviceURL()), "application/json",
		bytes.NewReader(body), http.Header{"X-Request-Id": {"e2e-metrics-1"}}); st/100 != 2 {
		t.Fatalf("activity with a request id: %d %s", st, b)
	}

	// Every family of issue 10 item 5, and how the run above moved it. `by` says
	// whose code feeds it.
	type expect struct {
		what, family, series string // series: the sample name (family, or family_count for a histogram)
		labels               map[string]string
		ok                   func(before, after float64) bool
		by                   string
	}
	grew := func(b, a float64) bool { return a > b }
	there := func(float64, float64) bool { return true }
	positive := func(_, a float64) bool { return a > 0 }
	expects := []expect{
		{"messages by direction, kind and status: consumer text", "multiline_messages", "", map[string]string{"direction": "inbound", "kind": "text", "status": "received"}, grew, "metrics state"},
		{"messages: employee text sent", "multiline_messages", "", map[string]string{"direction": "outbound", "kind": "text", "status": "sent"}, grew, "metrics state"},
		{"messages: notices sent", "multiline_messages", "", map[string]string{"direction": "outbound", "kind": "notice", "status": "sent"}, grew, "metrics state"},
		{"messages: the refused card's notice in Teams", "multiline_messages", "", map[string]string{"direction": "internal", "kind": "notice"}, grew, "metrics state"},
		{"queue depth by kind: timers scheduled", "multiline_job_queue_depth", "", map[string]string{"kind": "thread.timer", "state": "scheduled"}, grew, "metrics state"},
		{"queue depth by kind: deliveries", "multiline_job_queue_depth", "", map[string]string{"kind": "teams.deliver"}, there, "metrics state"},
		{"oldest job age by kind", "multiline_job_oldest_age_seconds", "", map[string]string{"kind": "thread.timer"}, positive, "metrics state"},
		{"oldest claimable job's wait by kind", "multiline_job_oldest_due_wait_seconds", "", map[string]string{"kind": "wechat.send"}, there, "metrics state"},
		{"dead jobs stored, by kind", "multiline_dead_jobs", "", map[string]string{"kind": "teams.deliver"}, grew, "metrics state"},
		{"policy outcomes: sent", "multiline_policy_outcomes", "", map[string]string{"outcome": "sent"}, grew, "metrics state"},
		{"policy outcomes: queued", "multiline_policy_outcomes", "", map[string]string{"outcome": "queued"}, grew, "metrics state"},
		{"policy outcomes: not queued", "multiline_policy_outcomes", "", map[string]string{"outcome": "not_queued"}, there, "metrics state"},
		{"policy outcomes: blocked", "multiline_policy_outcomes", "", map[string]string{"outcome": "blocked"}, there, "metrics state"},
		{"job run time by kind: deliveries", "multiline_job_run_seconds", "multiline_job_run_seconds_count", map[string]string{"kind": "teams.deliver"}, grew, "storage (metrics.JobRan)"},
		{"job run time by kind: sends", "multiline_job_run_seconds", "multiline_job_run_seconds_count", map[string]string{"kind": "wechat.send"}, grew, "storage (metrics.JobRan)"},
		{"job retries by kind: the dropped send", "multiline_job_retries_total", "", map[string]string{"kind": "wechat.send"}, grew, "storage (metrics.JobRan)"},
		{"waits for a rate limit by kind: the 429", "multiline_job_rate_limit_waits_total", "", map[string]string{"kind": "teams.deliver"}, grew, "storage (metrics.JobRan) and bot (RetryAfterError)"},
		{"dead jobs by kind", "multiline_jobs_dead_total", "", map[string]string{"kind": "teams.deliver"}, grew, "storage (metrics.JobRan)"},
		{"WeChat API errors: the expired token", "multiline_wechat_api_errors_total", "", map[string]string{"errcode": "42001"}, grew, "wechat"},
		{"WeChat API errors: the dropped send", "multiline_wechat_api_errors_total", "", map[string]string{"api": "kf/send_msg", "errcode": "transport"}, grew, "wechat"},
		{"WeChat responses", "multiline_http_client_responses_total", "", map[string]string{"service": "wechat", "status": "200"}, grew, "wechat"},
		{"Bot Connector responses: posted", "multiline_http_client_responses_total", "", map[string]string{"service": "botconnector", "status": "201"}, grew, "bot (connector)"},
		{"Bot Connector responses: 429", "multiline_http_client_responses_total", "", map[string]string{"service": "botconnector", "status": "429"}, grew, "bot (connector)"},
		{"Bot Connector responses: 400", "multiline_http_client_responses_total", "", map[string]string{"service": "botconnector", "status": "400"}, grew, "bot (connector)"},
		{"Graph responses (the app install)", "multiline_http_client_responses_total", "", map[string]string{"service": "graph"}, grew, "graph"},
		{"Entra responses (Graph's token)", "multiline_http_client_responses_total", "", map[string]string{"service": "entra", "status": "200"}, grew, "graph"},
		{"callback to Teams post time", "multiline_callback_to_teams_post_seconds", "multiline_callback_to_teams_post_seconds_count", nil, grew, "bot (metrics.PostedToTeams)"},
		{"database transaction time", "multiline_db_transaction_seconds", "multiline_db_transaction_seconds_count", map[string]string{"outcome": "commit"}, grew, "storage (metrics.Transaction)"},
		{"database deadlocks and serialization retries (none on SQLite)", "multiline_db_conflicts_total", "", map[string]string{"kind": "deadlock"}, there, "storage (metrics.Conflict)"},
		{"Go runtime: goroutines", "go_goroutines", "", nil, positive, "client_golang"},
		{"Go runtime: GC", "go_gc_duration_seconds", "go_gc_duration_seconds_count", nil, there, "client_golang"},
		{"Go runtime: heap", "go_memstats_heap_alloc_bytes", "", nil, positive, "client_golang"},
		{"process CPU", "process_cpu_seconds_total", "", nil, there, "client_golang"},
		{"state read succeeded", "multiline_state_up", "", nil, positive, "metrics state"},
	}
	var after promScrape
	var failing []string
	check := func() bool {
		after = scrape()
		failing = failing[:0]
		for _, e := range expects {
			series := e.series
			if series == "" {
				series = e.family
			}
			if !after.families[e.family] {
				failing = append(failing, fmt.Sprintf("%s: family %s missing [fed by %s]", e.what, e.family, e.by))
				continue
			}
			b, _ := before.sum(series, e.labels)
			a, found := after.sum(series, e.labels)
			if !found || !e.ok(b, a) {
				failing = append(failing, fmt.Sprintf("%s: %s%v went %v -> %v (found %v) [fed by %s]", e.what, series, e.labels, b, a, found, e.by))
			}
		}
		return len(failing) == 0
	}
	// The state is read at most every 5 s; the counters of the last jobs land
	// when those jobs finish.
	waitShow(t, 2*prodSoon, "every family of issue 10 item 5, moved by the run", check, func() string { return strings.Join(failing, "\n") })
	for _, e := range expects {
		series := e.series
		if series == "" {
			series = e.family
		}
		b, _ := before.sum(series, e.labels)
		a, _ := after.sum(series, e.labels)
		t.Logf("%-62s %s %v: %v -> %v", e.what, series, e.labels, b, a)
	}

	t.Run("json_logs_with_request_ids", func(t *testing.T) {
		var ids, withID, jobLines int
		found := false
		for _, line := range strings.Split(strings.TrimSpace(w.proc.log.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("a log line is not JSON (MULTILINE_LOG_FORMAT=json): %q", line)
			}
			if m["msg"] == "http request" {
				ids++
				if id, _ := m["request_id"].(string); id != "" {
					withID++
				}
				if m["request_id"] == "e2e-metrics-1" && m["route"] == "/api/messages" {
					found = true
				}
			}
			if m["job"] != nil && m["kind"] != nil {
				jobLines++
			}
		}
		if !found {
			t.Error("no request line carries the caller's X-Request-Id e2e-metrics-1")
		}
		if ids == 0 || withID != ids {
			t.Errorf("%d of %d request lines carry a request id", withID, ids)
		}
		if jobLines == 0 {
			t.Error("no log line names a job (the dropped send's retry and the dead card must)")
		}
	})

	t.Run("no_secret_in_any_log", func(t *testing.T) { prodNoSecrets(t, run) })
}

// promScrape is one /metrics answer: the families and every sample.
type promScrape struct {
	families map[string]bool
	samples  []promSample
}

type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// sum adds the samples called name whose labels include match.
func (s promScrape) sum(name string, match map[string]string) (float64, bool) {
	total, found := 0.0, false
samples:
	for _, x := range s.samples {
		if x.name != name {
			continue
		}
		for k, v := range match {
			if x.labels[k] != v {
				continue samples
			}
		}
		total += x.value
		found = true
	}
	return total, found
}

func (s promScrape) names() []string {
	var out []string
	for f := range s.families {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// scrapeMetrics reads the Prometheus text format at url.
func scrapeMetrics(url string) (promScrape, error) {
	c := &http.Client{Timeout: prodSoon}
	resp, err := c.Get(url)
	if err != nil {
		return promScrape{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return promScrape{}, err
	}
	if resp.StatusCode != 200 {
		return promScrape{}, fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	return parseProm(string(b))
}

func parseProm(text string) (promScrape, error) {
	s := promScrape{families: map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			s.families[strings.Fields(rest)[0]] = true
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		x := promSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			x.name = line[:i]
			rest = line[i+1:]
			for !strings.HasPrefix(rest, "}") {
				eq := strings.Index(rest, `="`)
				if eq < 0 {
					return s, fmt.Errorf("bad labels: %q", line)
				}
				key := strings.TrimPrefix(rest[:eq], ",")
				rest = rest[eq+2:]
				var v strings.Builder
				for len(rest) > 0 && rest[0] != '"' {
					if rest[0] == '\\' && len(rest) > 1 {
						switch rest[1] {
						case 'n':
							v.WriteByte('\n')
						default:
							v.WriteByte(rest[1])
						}
						rest = rest[2:]
						continue
					}
					v.WriteByte(rest[0])
					rest = rest[1:]
				}
				if len(rest) == 0 {
					return s, fmt.Errorf("bad labels: %q", line)
				}
				rest = strings.TrimPrefix(rest[1:], ",")
				x.labels[key] = v.String()
			}
			rest = strings.TrimSpace(rest[1:])
		} else {
			name, r, _ := strings.Cut(line, " ")
			x.name, rest = name, r
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return s, fmt.Errorf("no value: %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return s, fmt.Errorf("bad value: %q", line)
		}
		x.value = v
		s.samples = append(s.samples, x)
	}
	return s, nil
}

func TestParseProm(t *testing.T) {
	s, err := parseProm(`# HELP a_total A.
# TYPE a_total counter
a_total{api="kf/send_msg",errcode="42001"} 3
a_total{api="x\"y",errcode="transport"} 1
# TYPE g gauge
g 2.5
`)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.sum("a_total", map[string]string{"errcode": "42001"}); !ok || v != 3 {
		t.Errorf("a_total 42001: %v %v", v, ok)
	}
	if v, _ := s.sum("a_total", nil); v != 4 {
		t.Errorf("a_total: %v", v)
	}
	if v, _ := s.sum("a_total", map[string]string{"api": `x"y`}); v != 1 {
		t.Errorf("escaped label: %v", v)
	}
	if v, ok := s.sum("g", nil); !ok || v != 2.5 || strings.Join(s.names(), ",") != "a_total,g" {
		t.Errorf("g: %v %v %v", v, ok, s.names())
	}
}
