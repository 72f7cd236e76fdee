package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/prodfakes"
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
// writes until a has run at least one. Each message is written once every
// earlier delivery has ended, and is waited for until its own has ended too
// (settled): then a's /metrics say whether a ran it, and its notification, if
// any, was decided while the tab was as the test left it. No notification can
// come late: a failed one is not retried.
func prodFeedFollowsTheTab(t *testing.T, a, b *prodWorld, e *prodEmployee, consumer string, streams []*tabStream) {
	db, err := sql.Open("pgx", a.opts.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	leases := func() int { return count(`SELECT count(*) FROM tab_presence WHERE employee = $1`, e.id) }
	feed := func() int {
		n := 0
		for _, rq := range a.run.graph.Requests() {
			if rq.Method == "POST" && rq.Path == "/v1.0/users/"+e.oid+"/teamwork/sendActivityNotification" {
				n++
			}
		}
		return n
	}
	// deliveries reads w's /metrics: the handler runs of teams.deliver that
	// started, that ended (whatever the outcome), and that ended done.
	deliveries := func(w *prodWorld) (started, ended, done float64) {
		t.Helper()
		s, err := scrapeMetrics("http://" + w.env["MULTILINE_METRICS_ADDR"] + "/metrics")
		if err != nil {
			t.Fatalf("%s /metrics: %v", w.opts.name, err)
		}
		kind := map[string]string{"kind": "teams.deliver"}
		started, _ = s.sum("multiline_job_start_delay_seconds_count", kind)
		ended, _ = s.sum("multiline_job_run_seconds_count", kind)
		done, _ = s.sum("multiline_job_run_seconds_count", map[string]string{"kind": "teams.deliver", "outcome": "done"})
		return started, ended, done
	}
	// settled: no delivery is waiting in the queue, and every handler run
	// that started on either replica has ended (a handler may delete its job
	// before it returns, so the queue alone does not say so).
	settled := func() bool {
		if count(`SELECT count(*) FROM jobs WHERE kind = 'teams.deliver' AND dead_at = 0`) > 0 {
			return false
		}
		for _, w := range []*prodWorld{a, b} {
			if started, ended, _ := deliveries(w); started != ended {
				return false
			}
		}
		return true
	}
	// write has the consumer send text through a, once every delivery before
	// it has ended, and waits until its delivery has ended; it reports
	// whether a ran it.
	write := func(text string) (byA bool) {
		t.Helper()
		waitFor(t, prodSoon, "the deliveries before "+text+" ended", settled)
		_, _, before := deliveries(a)
		a.consumerSends(consumer, text)
		a.waitChat(e, prodSoon, text)
		waitFor(t, prodSoon, "the delivery of "+text+" ended", settled)
		_, _, after := deliveries(a)
		return after > before
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
	write("the tab is closed now")
	if n := feed(); n != 1 {
		t.Fatalf("%d activity feed notifications for %s once the tab was closed, want 1", n, e.name)
	}

	again := b.openStream(e, "")
	again.next(t, "ready", "the list stream on B, opened again")
	write("the tab is open again")
	if n := feed(); n != 1 {
		t.Fatalf("%d activity feed notifications for %s, want exactly 1 (the one message while the tab was closed)", n, e.name)
	}
}

// TestProductionReplicasManagedIdentity runs two replicas on one PostgreSQL
// database in managed-identity mode: MicrosoftAppType UserAssignedMSI, no
// MicrosoftAppPassword, the bot's tokens from App Service's identity endpoint
// (prodfakes.ManagedIdentity). With no secret to derive a key from, media links
// and live-update tickets signed by one replica are accepted by the other,
// and by a replica started later, since all sign with the database's key.
func TestProductionReplicasManagedIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	r := newProdRun(t)
	mi := prodfakes.NewManagedIdentity(r.entra, r.appID)
	t.Cleanup(mi.Close)
	r.secret(mi.Header(), "IDENTITY_HEADER")
	env := mi.Env()
	env["MicrosoftAppType"], env["MULTILINE_METRICS_ADDR"] = "UserAssignedMSI", freeAddr(t)
	w := r.world(t, prodOptions{name: "MSI replica A", dbURL: pgtest.Schema(t), env: env, noStart: true})
	delete(w.env, "MicrosoftAppPassword")
	w.start()
	bob := w.install("bob", "Bob", true)

	// The cards went out with the managed identity's tokens, and no client
	// secret was ever asked for.
	granted := 0
	for _, rq := range mi.Requests() {
		if rq.Status == 200 {
			granted++
		}
	}
	if granted == 0 {
		t.Fatalf("no token from the managed identity endpoint: %+v", mi.Requests())
	}
	for _, rq := range r.entra.Requests() {
		if strings.HasSuffix(rq.Path, "/oauth2/v2.0/token") {
			t.Fatalf("a replica asked Entra for a client-credentials token in managed-identity mode: %s %s", rq.Method, rq.Path)
		}
	}

	wb := w.replica(t, "MSI replica B")

	// The consumer sends a photo through A. The tab's link to it, signed by A,
	// works on B; the card's link, signed by whichever replica delivered it,
	// works on both; an altered signature works nowhere.
	if _, err := w.fake.ConsumerSendsImage(t.Context(), "wmPhoto", "dot.png", pngBytes()); err != nil {
		t.Fatal(err)
	}
	tabLink := w.mediaLink(bob)
	cardLink := w.cardMediaLink(bob)
	for _, x := range []*prodWorld{w, wb} {
		for _, link := range []string{tabLink, cardLink} {
			if st, body := x.do("GET", link, "", "", nil, nil); st != 200 || !bytes.Equal(body, pngBytes()) {
				t.Fatalf("%s: GET %s: %d (%d bytes), want 200 and the photo", x.opts.name, link, st, len(body))
			}
		}
	}
	forged := strings.Replace(tabLink, "sig=", "sig=1", 1)
	if st, _ := wb.do("GET", forged, "", "", nil, nil); st != 403 {
		t.Fatalf("%s: GET a link with an altered signature: %d, want 403", wb.opts.name, st)
	}

	// A ticket from A opens a stream on B, and one from B a stream on A.
	onB := wb.streamWith(w.ticket(bob), "")
	onB.next(t, "ready", "a stream on B with A's ticket")
	w.streamWith(wb.ticket(bob), "").next(t, "ready", "a stream on A with B's ticket")

	// A replica started later (or B restarted) signs and checks with the same
	// key. (B's stream is closed first: an open one holds a graceful shutdown.)
	onB.close()
	wb.proc.kill()
	wc := w.replica(t, "MSI replica C")
	if st, _ := wc.do("GET", tabLink, "", "", nil, nil); st != 200 {
		t.Fatalf("%s, started after the link was made: GET %s: %d, want 200", wc.opts.name, tabLink, st)
	}
	w.streamWith(wc.ticket(bob), "").next(t, "ready", "a stream on A with C's ticket")
}

// mediaLink waits for a message with media in one of e's threads, as the tab
// shows it on w, and returns its link (a path with w's signature).
func (w *prodWorld) mediaLink(e *prodEmployee) string {
	w.t.Helper()
	var link string
	waitFor(w.t, prodSoon, "a message with media in "+e.name+"'s tab", func() bool {
		for _, s := range w.threads(e) {
			var th struct {
				Messages []struct {
					Media *struct {
						URL string `json:"url"`
					} `json:"media"`
				} `json:"messages"`
			}
			w.apiJSON(w.sso(e), "GET", "/api/v1/threads/"+s.ID, nil, 200, &th)
			for _, m := range th.Messages {
				if m.Media != nil && strings.Contains(m.Media.URL, "sig=") {
					link = m.Media.URL
					return true
				}
			}
		}
		return false
	})
	return link
}

// cardMediaRE finds a media link in a card: an absolute URL under the public
// URL the harness configures.
var cardMediaRE = regexp.MustCompile(`https://multiline\.example\.test(/api/v1/media/[^\s"()\]]+)`)

// cardMediaLink waits for a card in e's Teams chat with a media link and
// returns it as a path of the service.
func (w *prodWorld) cardMediaLink(e *prodEmployee) string {
	w.t.Helper()
	var link string
	waitShow(w.t, prodSoon, "a card with a media link in "+e.name+"'s Teams chat", func() bool {
		if m := cardMediaRE.FindStringSubmatch(w.chat(e)); m != nil {
			link = m[1]
			return true
		}
		return false
	}, func() string { return tail(w.chat(e), 3000) })
	return link
}
