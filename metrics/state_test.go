package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/multiline/multiline/metrics"
)

type fakeSource struct {
	state metrics.State
	err   error
	reads atomic.Int32
}

func (f *fakeSource) Snapshot(ctx context.Context) (metrics.State, error) {
	f.reads.Add(1)
	return f.state, f.err
}

func TestStateCollectorReportsTheSnapshot(t *testing.T) {
	src := &fakeSource{state: metrics.State{
		Messages: []metrics.MessageCount{
			{Direction: "inbound", Kind: "text", Status: "received", N: 3},
			{Direction: "outbound", Kind: "notice", Status: "sent", N: 2},
			// Values that are not label-shaped fold into "other", and are summed.
			{Direction: "outbound", Kind: "te xt", Status: "sent", N: 1},
			{Direction: "outbound", Kind: "\n", Status: "sent", N: 1},
		},
		Outcomes: []metrics.OutcomeCount{{Outcome: "queued", N: 4}, {Outcome: "not_queued", Reason: "queue_full", N: 1}},
		Jobs: []metrics.JobState{{Kind: "wechat.send", Due: 2, Running: 1, Scheduled: 5, Dead: 1,
			OldestAge: 90 * time.Second, OldestDueWait: 70 * time.Second}},
	}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewStateCollector(src, metrics.StateOptions{Kinds: []string{"teams.deliver", "wechat.send"},
		Outcomes: []string{"sent", "queued", "not_queued", "blocked"}}))
	want := `
# HELP multiline_dead_jobs Dead jobs kept for an operator (multiline admin jobs --dead), by kind.
# TYPE multiline_dead_jobs gauge
multiline_dead_jobs{kind="teams.deliver"} 0
multiline_dead_jobs{kind="wechat.send"} 1
# HELP multiline_job_oldest_due_wait_seconds How long the oldest claimable job (due, first of its lane, held by no runner) has waited to be claimed, by kind (0 when none waits).
# TYPE multiline_job_oldest_due_wait_seconds gauge
multiline_job_oldest_due_wait_seconds{kind="teams.deliver"} 0
multiline_job_oldest_due_wait_seconds{kind="wechat.send"} 70
# HELP multiline_job_queue_depth Live jobs by kind and state: due (their time has come; they run in their lane's order as workers free up), running (held by a runner) and scheduled (waiting for their time: timers, backoff, rate limits).
# TYPE multiline_job_queue_depth gauge
multiline_job_queue_depth{kind="teams.deliver",state="due"} 0
multiline_job_queue_depth{kind="teams.deliver",state="running"} 0
multiline_job_queue_depth{kind="teams.deliver",state="scheduled"} 0
multiline_job_queue_depth{kind="wechat.send",state="due"} 2
multiline_job_queue_depth{kind="wechat.send",state="running"} 1
multiline_job_queue_depth{kind="wechat.send",state="scheduled"} 5
# HELP multiline_messages Stored messages by direction (inbound from a consumer, outbound to a consumer, internal: shown in Teams only), kind (text, image, voice, video, file, notice) and status.
# TYPE multiline_messages gauge
multiline_messages{direction="inbound",kind="text",status="received"} 3
multiline_messages{direction="outbound",kind="notice",status="sent"} 2
multiline_messages{direction="outbound",kind="other",status="sent"} 2
# HELP multiline_policy_outcomes Employee messages by the thread policy's outcome (sent, sending, queued, not_queued, failed, blocked) and the reason for not_queued, failed and blocked.
# TYPE multiline_policy_outcomes gauge
multiline_policy_outcomes{outcome="blocked",reason=""} 0
multiline_policy_outcomes{outcome="not_queued",reason="queue_full"} 1
multiline_policy_outcomes{outcome="queued",reason=""} 4
multiline_policy_outcomes{outcome="sent",reason=""} 0
# HELP multiline_state_up 1 when the last read of the stored state (messages, jobs) succeeded, 0 when it failed.
# TYPE multiline_state_up gauge
multiline_state_up 1
`
	names := []string{"multiline_dead_jobs", "multiline_job_oldest_due_wait_seconds", "multiline_job_queue_depth",
		"multiline_messages", "multiline_policy_outcomes", "multiline_state_up"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// A second scrape within MaxAge reads nothing.
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("%d reads for two scrapes within MaxAge, want 1", n)
	}
}

func TestStateCollectorSaysWhenTheDatabaseFails(t *testing.T) {
	var told error
	src := &fakeSource{err: errors.New("database unreachable")}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewStateCollector(src, metrics.StateOptions{Kinds: []string{"k"}, OnError: func(err error) { told = err }}))
	want := `
# HELP multiline_state_up 1 when the last read of the stored state (messages, jobs) succeeded, 0 when it failed.
# TYPE multiline_state_up gauge
multiline_state_up 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "multiline_state_up", "multiline_job_queue_depth"); err != nil {
		t.Fatal(err)
	}
	if told == nil {
		t.Error("OnError was not told")
	}
}

func TestEventFamiliesAreRegistered(t *testing.T) {
	metrics.JobRan("k", metrics.JobDeferred, time.Millisecond)
	metrics.JobRan("k", metrics.JobRetry, time.Millisecond)
	metrics.JobRan("k", metrics.JobDead, time.Millisecond)
	metrics.WeChatError("kf/send_msg", 42001)
	metrics.WeChatTransportError("kf/sync_msg")
	metrics.Response("graph", 403)
	metrics.Response("botconnector", 0)
	metrics.PostedToTeams(time.Second)
	metrics.Transaction(time.Millisecond, true)
	metrics.Conflict("deadlock")
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range fams {
		have[f.GetName()] = true
	}
	for _, n := range []string{"multiline_job_run_seconds", "multiline_job_retries_total", "multiline_job_rate_limit_waits_total",
		"multiline_jobs_dead_total", "multiline_wechat_api_errors_total", "multiline_http_client_responses_total",
		"multiline_callback_to_teams_post_seconds", "multiline_db_transaction_seconds", "multiline_db_conflicts_total",
		"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		if !have[n] {
			t.Errorf("family %s missing", n)
		}
	}
	want := `
# HELP multiline_wechat_api_errors_total WeChat API calls answered with a non-zero errcode (or a transport error, errcode "transport"), by API and errcode.
# TYPE multiline_wechat_api_errors_total counter
multiline_wechat_api_errors_total{api="kf/send_msg",errcode="42001"} 1
multiline_wechat_api_errors_total{api="kf/sync_msg",errcode="transport"} 1
`
	if err := testutil.GatherAndCompare(metrics.Registry, strings.NewReader(want), "multiline_wechat_api_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestSum(t *testing.T) {
	before := metrics.Sum("multiline_http_client_responses_total", map[string]string{"service": "sumtest"})
	metrics.Response("sumtest", 200)
	metrics.Response("sumtest", 200)
	metrics.Response("sumtest", 429)
	if got := metrics.Sum("multiline_http_client_responses_total", map[string]string{"service": "sumtest"}) - before; got != 3 {
		t.Errorf("all statuses: %v", got)
	}
	if got := metrics.Sum("multiline_http_client_responses_total", map[string]string{"service": "sumtest", "status": "429"}); got != 1 {
		t.Errorf("429: %v", got)
	}
	metrics.PostedToTeams(time.Second)
	if got := metrics.Sum("multiline_callback_to_teams_post_seconds", nil); got < 1 {
		t.Errorf("histogram count: %v", got)
	}
}
