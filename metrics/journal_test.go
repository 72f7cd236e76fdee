package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/multiline/multiline/metrics"
)

// TestJournalFamilies: runs of the journal delivery's kind are counted by
// outcome (a deferral counts as a retry), other kinds are not; the waiting
// conversation-days and the oldest one's age come from the stored jobs.
func TestJournalFamilies(t *testing.T) {
	metrics.JournalKind("archive.journal")
	count := func(o string) float64 {
		return metrics.Sum("multiline_archive_journal_deliveries_total", map[string]string{"outcome": o})
	}
	sent, retried, dead := count("sent"), count("retried"), count("dead")
	for _, o := range []string{metrics.JobRetry, metrics.JobDeferred, metrics.JobDone, metrics.JobDead} {
		metrics.JobRan("archive.journal", o, time.Millisecond)
	}
	metrics.JobRan("wechat.send", metrics.JobDone, time.Millisecond)
	if count("sent")-sent != 1 || count("retried")-retried != 2 || count("dead")-dead != 1 {
		t.Fatalf("deliveries moved by sent %v, retried %v, dead %v", count("sent")-sent, count("retried")-retried, count("dead")-dead)
	}

	src := &fakeSource{state: metrics.State{Jobs: []metrics.JobState{
		{Kind: "archive.journal", Due: 1, Scheduled: 2, Running: 1, Dead: 4, OldestAge: 95 * time.Second},
		{Kind: "wechat.send", Due: 7, OldestAge: time.Hour},
	}}}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewStateCollector(src, metrics.StateOptions{}))
	want := `
# HELP multiline_archive_journal_oldest_pending_seconds Age of the oldest conversation-day waiting to be journaled, from its delivery job's creation (0 when none waits).
# TYPE multiline_archive_journal_oldest_pending_seconds gauge
multiline_archive_journal_oldest_pending_seconds 95
# HELP multiline_archive_journal_pending Conversation-days waiting to be journaled: their delivery job is due, running, or waiting to retry (dead ones are in multiline_dead_jobs).
# TYPE multiline_archive_journal_pending gauge
multiline_archive_journal_pending 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "multiline_archive_journal_pending", "multiline_archive_journal_oldest_pending_seconds"); err != nil {
		t.Fatal(err)
	}
}
