package journal_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/journal"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage"
)

// jobStates is the stored jobs as the service's state collector reads them
// in production: due or not by the service's clock, aged by the wall clock,
// which stamps a job's creation (and is the service's clock there).
type jobStates struct {
	db  *storage.DB
	now func() time.Time
}

func (s jobStates) Snapshot(ctx context.Context) (metrics.State, error) {
	stats, err := s.db.JobStats(ctx, s.now())
	if err != nil {
		return metrics.State{}, err
	}
	var st metrics.State
	for _, j := range stats {
		js := metrics.JobState{Kind: j.Kind, Due: j.Due, Scheduled: j.Scheduled, Running: j.Running, Dead: j.Dead}
		if !j.OldestCreated.IsZero() {
			js.OldestAge = time.Since(j.OldestCreated)
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st, nil
}

// gauge is the value of a family without labels in g.
func gauge(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	ms := metrics.Find(g, name, nil)
	if len(ms) != 1 {
		t.Fatalf("%s: %d series", name, len(ms))
	}
	return ms[0].GetGauge().GetValue()
}

// deliveries are multiline_archive_journal_deliveries_total by outcome.
func deliveries() map[string]float64 {
	out := map[string]float64{}
	for _, o := range []string{metrics.JournalSent, metrics.JournalRetried, metrics.JournalDead} {
		out[o] = metrics.Sum("multiline_archive_journal_deliveries_total", map[string]string{"outcome": o})
	}
	return out
}

// TestJournalStatusAndMetrics: a conversation-day whose delivery a real SMTP
// server (npm smtp-server) refuses with 451 shows on /metrics (a retried
// delivery, one conversation-day pending and its age) and in the admin's
// status (one failing, the 451 without the password); once the retry is
// accepted, a sent delivery, nothing pending and the time of the success. A
// delivery refused for good (a wrong password: 535) ends dead, counted and
// shown, its error scrubbed of the password too.
func TestJournalStatusAndMetrics(t *testing.T) {
	srv := startSMTP(t, "archiver", "s3cret-pw", 1)
	ctx := context.Background()
	db := openDB(t)
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		return tx.Archive(ctx, archive.Draft{Company: "default", Thread: "T1", Time: day.Add(9 * time.Hour), Kind: archive.KindMessageIn,
			Body: archive.MessageBody{MessageID: "T1-1", Author: archive.Party{Role: archive.RoleConsumer, ID: "wm1", Name: "Wang"}, Text: "hello"}})
	}); err != nil {
		t.Fatal(err)
	}
	mailerFor := func(pass string) *journal.Mailer {
		m, err := journal.NewMailer(fmt.Sprintf("smtp://archiver:%s@127.0.0.1:%d", pass, srv.port), "journal@archive.example", "multiline@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	clk := &clock{t: day.AddDate(0, 0, 1).Add(time.Hour)}
	svc := bridge.NewService(db, bridge.Options{Now: clk.now})
	if err := svc.EnsureCompany(ctx, "Acme", "t", bridge.English); err != nil {
		t.Fatal(err)
	}
	svc.AttachRetention(db)
	svc.AttachJournal(journal.New(db, mailerFor("s3cret-pw"), archive.ExportOptions{Channel: archive.ChannelWeComKF}))
	metrics.JournalKind(bridge.JobJournal)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewStateCollector(jobStates{db: db, now: clk.now}, metrics.StateOptions{MaxAge: time.Nanosecond}))
	runJournal(t, db, svc, clk.now)
	status := func(what string, cond func(bridge.JournalStatus) bool) bridge.JournalStatus {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := svc.JournalStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cond(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	before := deliveries()
	delta := func() map[string]float64 {
		now := deliveries()
		for k := range now {
			now[k] -= before[k]
		}
		return now
	}

	// The clock stands still: the refused delivery waits for its retry.
	if err := svc.JournalDay(ctx, day); err != nil {
		t.Fatal(err)
	}
	st := status("the refused delivery", func(s bridge.JournalStatus) bool { return s.Failing == 1 })
	if !st.Enabled || st.Server != fmt.Sprintf("127.0.0.1:%d", srv.port) || st.Mailbox != "journal@archive.example" ||
		st.Pending != 1 || st.Dead != 0 || !st.LastDelivered.IsZero() || !strings.Contains(st.LastError, "451") || strings.Contains(st.LastError, "s3cret-pw") {
		t.Fatalf("status while it fails: %+v", st)
	}
	if d := delta(); d[metrics.JournalRetried] != 1 || d[metrics.JournalSent] != 0 || d[metrics.JournalDead] != 0 {
		t.Fatalf("deliveries while it fails: %v", d)
	}
	if p, age := gauge(t, reg, "multiline_archive_journal_pending"), gauge(t, reg, "multiline_archive_journal_oldest_pending_seconds"); p != 1 || age <= 0 {
		t.Fatalf("pending %v, oldest %v s; want 1, of some age", p, age)
	}

	clk.advance(10 * time.Second) // past the backoff: the retry is accepted
	st = status("the retried delivery", func(s bridge.JournalStatus) bool { return !s.LastDelivered.IsZero() && s.Pending == 0 })
	if st.Failing != 0 || st.Dead != 0 || st.LastError != "" || !st.LastDelivered.Equal(clk.now()) {
		t.Fatalf("status after the retry: %+v", st)
	}
	if d := delta(); d[metrics.JournalRetried] != 1 || d[metrics.JournalSent] != 1 || d[metrics.JournalDead] != 0 {
		t.Fatalf("deliveries after the retry: %v", d)
	}
	if p, age := gauge(t, reg, "multiline_archive_journal_pending"), gauge(t, reg, "multiline_archive_journal_oldest_pending_seconds"); p != 0 || age != 0 {
		t.Fatalf("pending %v, oldest %v s after the retry", p, age)
	}
	if acc, _ := srv.seen(); len(acc) != 1 {
		t.Fatalf("the mailbox has %q", acc)
	}

	// A wrong password: the server's 535 is final, the delivery dies.
	svc.AttachJournal(journal.New(db, mailerFor("wrong-pw"), archive.ExportOptions{Channel: archive.ChannelWeComKF}))
	if err := svc.JournalDay(ctx, day); err != nil {
		t.Fatal(err)
	}
	st = status("the dead delivery", func(s bridge.JournalStatus) bool { return s.Dead == 1 })
	if st.Pending != 0 || st.Failing != 0 || st.LastError == "" || strings.Contains(st.LastError, "wrong-pw") {
		t.Fatalf("status after a final refusal: %+v", st)
	}
	if d := delta(); d[metrics.JournalDead] != 1 || d[metrics.JournalSent] != 1 {
		t.Fatalf("deliveries after a final refusal: %v", d)
	}
}
