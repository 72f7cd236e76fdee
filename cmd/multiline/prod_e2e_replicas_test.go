package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/storage/pgtest"
	"github.com/multiline/multiline/teamsapp"
)

// tabStream is an open live-update stream of the tab (GET /api/v1/events).
type tabStream struct {
	events chan string // "name data"
	resp   *http.Response
}

// openStream trades e's SSO token for a ticket on w and opens the stream on w
// (thread "" for the list only).
func (w *prodWorld) openStream(e *prodEmployee, thread string) *tabStream {
	w.t.Helper()
	return w.streamWith(w.ticket(e), thread)
}

// ticket trades e's SSO token for a live-update ticket on w.
func (w *prodWorld) ticket(e *prodEmployee) string {
	w.t.Helper()
	var tk struct {
		Ticket string `json:"ticket"`
	}
	w.apiJSON(w.sso(e), "POST", "/api/v1/events/ticket", nil, 200, &tk)
	return tk.Ticket
}

// streamWith opens a live-update stream on w with ticket, which any replica
// may have signed.
func (w *prodWorld) streamWith(ticket, thread string) *tabStream {
	w.t.Helper()
	q := url.Values{"ticket": {ticket}}
	if thread != "" {
		q.Set("thread", thread)
	}
	resp, err := http.Get("http://" + w.addr + "/api/v1/events?" + q.Encode())
	if err != nil {
		w.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		w.t.Fatalf("events: %d", resp.StatusCode)
	}
	s := &tabStream{events: make(chan string, 100), resp: resp}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && name != "":
				s.events <- name + " " + strings.TrimPrefix(line, "data: ")
				name = ""
			}
		}
	}()
	w.t.Cleanup(func() { resp.Body.Close() })
	return s
}

// close ends the stream, as a tab that is closed does.
func (s *tabStream) close() { s.resp.Body.Close() }

// replica starts another `serve` of w's deployment: the same environment
// (database, fakes, identity) on addresses of its own. The world it returns
// is w's, served by the new process.
func (w *prodWorld) replica(t *testing.T, name string) *prodWorld {
	t.Helper()
	env := maps.Clone(w.env)
	env["MULTILINE_ADDR"], env["MULTILINE_METRICS_ADDR"] = freeAddr(t), freeAddr(t)
	p := w.run.startProc(t, "serve "+name, env, "serve")
	t.Cleanup(p.kill)
	p.waitReady(t, env["MULTILINE_ADDR"])
	r := w.in(t)
	r.addr, r.env, r.proc = env["MULTILINE_ADDR"], env, p
	r.opts.name = name
	return r
}

// next waits for the stream's next event named name, skipping others.
func (s *tabStream) next(t *testing.T, name, what string) string {
	t.Helper()
	deadline := time.After(prodSoon)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("%s: the stream ended", what)
			}
			if n, data, _ := strings.Cut(ev, " "); n == name {
				return data
			}
		case <-deadline:
			t.Fatalf("%s: no %q event within %s", what, name, prodSoon)
		}
	}
}

// TestProductionReplicasPostgres runs two replicas of the real binary on one
// PostgreSQL database. WeChat calls replica A; the employee's tab is open on
// replica B, whose streams poll only every teamsapp.FallbackPollInterval (2
// min, longer than the wait here): B's tab hears of A's changes through
// PostgreSQL's NOTIFY. And while the tab is open on B, a consumer's message
// that A delivers brings no activity feed notification (B's presence lease
// tells A the tab is open); once the tab is closed and its lease gone, the
// next message brings exactly one.
func TestProductionReplicasPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	if prodSoon >= teamsapp.FallbackPollInterval {
		t.Fatalf("the wait (%s) must be shorter than the tab's fallback poll (%s)", prodSoon, teamsapp.FallbackPollInterval)
	}
	r := newProdRun(t)
	w := r.world(t, prodOptions{name: "replica A", dbURL: pgtest.Schema(t), env: map[string]string{"MULTILINE_METRICS_ADDR": freeAddr(t)}})
	bob := w.install("bob", "Bob", true)
	wb := w.replica(t, "replica B")

	list := wb.openStream(bob, "")
	list.next(t, "ready", "the list stream on B")
	w.consumerSends("wmConsumerOne", "hello from WeChat through A")
	list.next(t, "threads", "B's list after a new consumer came in through A")
	th := wb.threadWith(bob, "hello from WeChat through A")

	one := wb.openStream(bob, th.ID)
	one.next(t, "ready", "the thread stream on B")
	w.consumerSends("wmConsumerOne", "a second message through A")
	if got := one.next(t, "thread", "B's open thread after a message through A"); got != th.ID {
		t.Fatalf("thread event for %q, want %q", got, th.ID)
	}
	wb.threadWith(bob, "a second message through A")

	t.Run("no_feed_notification_while_the_tab_is_open_on_another_replica", func(t *testing.T) {
		prodFeedFollowsTheTab(t, w.in(t), wb.in(t), bob, "wmConsumerOne", []*tabStream{list, one})
	})
}

// prodFeedFollowsTheTab: with e's tab open on replica b (streams open), the
// consumer's messages that replica a delivers (and those b delivers) bring e
// no activity feed notification at the fake Graph; after the streams close
// and b's lease is gone, the next message brings exactly one; with the tab
// open again, none more.
//
// Which replica runs a delivery is the job queue's choice, so the consumer
// writes until a has run at least one, as a's /metrics show
// (multiline_job_run_seconds_count of teams.deliver, done). No notification
// can come late: a failed one is not retried, and e's deliveries run one after
// the other in their lane, so each delivery's notification is decided before
// the next delivery starts, and the one notification of the closed tab proves
// that none came before it.
func prodFeedFollowsTheTab(t *testing.T, a, b *prodWorld, e *prodEmployee, consumer string, streams []*tabStream) {
	feed := func() int {
		n := 0
		for _, rq := range a.run.graph.Requests() {
			if rq.Method == "POST" && rq.Path == "/v1.0/users/"+e.oid+"/teamwork/sendActivityNotification" {
				n++
			}
		}
		return n
	}
	delivered := func(w *prodWorld) float64 {
		t.Helper()
		s, err := scrapeMetrics("http://" + w.env["MULTILINE_METRICS_ADDR"] + "/metrics")
		if err != nil {
			t.Fatalf("%s /metrics: %v", w.opts.name, err)
		}
		v, _ := s.sum("multiline_job_run_seconds_count", map[string]string{"kind": "teams.deliver", "outcome": "done"})
		return v
	}
	// write has the consumer send text through a and waits until some
	// replica has run its delivery; it reports whether a did.
	write := func(text string) (byA bool) {
		t.Helper()
		da, db := delivered(a), delivered(b)
		a.consumerSends(consumer, text)
		a.waitChat(e, prodSoon, text)
		waitFor(t, prodSoon, "a replica ran the delivery of "+text, func() bool { return delivered(a)+delivered(b) > da+db })
		return delivered(a) > da
	}
	leases := func() int {
		t.Helper()
		db, err := sql.Open("pgx", a.opts.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM tab_presence WHERE employee = $1`, e.id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if n := leases(); n != 1 {
		t.Fatalf("%d presence leases of %s with the tab open on one replica, want 1", n, e.name)
	}
	const tries = 20
	byA, byB := 0, 0
	for i := 0; byA == 0; i++ {
		if i == tries {
			t.Fatalf("replica A ran none of the deliveries of %d messages (B ran %d)", tries, byB)
		}
		if write(fmt.Sprintf("tab open on B, message %d", i)) {
			byA++
		} else {
			byB++
		}
	}
	t.Logf("with the tab open on B: A delivered %d message(s), B %d", byA, byB)
	if n := feed(); n != 0 {
		t.Fatalf("%d activity feed notifications for %s while the tab was open on B, want 0", n, e.name)
	}

	for _, s := range streams {
		s.close()
	}
	waitFor(t, prodSoon, "B drops the presence lease when the tab's last stream closes", func() bool { return leases() == 0 })
	a.consumerSends(consumer, "the tab is closed now")
	a.waitChat(e, prodSoon, "the tab is closed now")
	waitFor(t, prodSoon, "an activity feed notification once the tab is closed", func() bool { return feed() > 0 })

	again := b.openStream(e, "")
	again.next(t, "ready", "the list stream on B, opened again")
	write("the tab is open again")
	if n := feed(); n != 1 {
		t.Fatalf("%d activity feed notifications for %s, want exactly 1 (the one message while the tab was closed)", n, e.name)
	}
}
