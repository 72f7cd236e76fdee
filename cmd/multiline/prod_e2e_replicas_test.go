package main

import (
	"bufio"
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

// openStream trades e's SSO token for a ticket on w and opens the stream
// (thread "" for the list only).
func (w *prodWorld) openStream(e *prodEmployee, thread string) *tabStream {
	w.t.Helper()
	var tk struct {
		Ticket string `json:"ticket"`
	}
	w.apiJSON(w.sso(e), "POST", "/api/v1/events/ticket", nil, 200, &tk)
	q := url.Values{"ticket": {tk.Ticket}}
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
// PostgreSQL's NOTIFY.
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

	envB := maps.Clone(w.env)
	envB["MULTILINE_ADDR"], envB["MULTILINE_METRICS_ADDR"] = freeAddr(t), freeAddr(t)
	pb := r.startProc(t, "serve replica B", envB, "serve")
	t.Cleanup(pb.kill)
	pb.waitReady(t, envB["MULTILINE_ADDR"])
	wb := w.in(t)
	wb.addr = envB["MULTILINE_ADDR"]

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
}
