package teamsapp

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sseReader reads "event:" names from a stream, and reports comments as "comment".
func sseReader(t *testing.T, resp *http.Response) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ch <- strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, ":"):
				ch <- "comment"
			}
		}
	}()
	return ch
}

// waitEvents waits until every wanted event has arrived, in any order.
func waitEvents(t *testing.T, ch <-chan string, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	deadline := time.After(3 * time.Second)
	for len(missing) > 0 {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before %v", missing)
			}
			delete(missing, ev)
		case <-deadline:
			t.Fatalf("no %v event within 3 s", missing)
		}
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t, false)
	var tk map[string]string
	if code := f.call(t, "POST", "/api/v1/events/ticket", "alice", nil, &tk); code != 200 {
		t.Fatalf("ticket: %d", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/api/v1/events?thread=t1&ticket="+url.QueryEscape(tk["ticket"]), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := sseReader(t, resp)
	waitEvents(t, ch, "ready")
	waitEvents(t, ch, "comment") // heartbeat

	// A change on "another replica" (straight into the bridge) reaches the stream.
	// The two may come in either order (the change can fall between the two reads of a poll).
	f.b.consumerWrites("t1", "Are you there?")
	waitEvents(t, ch, "threads", "thread")

	// A change to a thread alice is not in tells her nothing.
	f.b.consumerWrites("t2", "hello bob")
	quiet := time.After(300 * time.Millisecond)
	for {
		select {
		case ev := <-ch:
			if ev != "comment" {
				t.Fatalf("alice got %q for bob's thread", ev)
			}
		case <-quiet:
			return
		}
	}
}

func TestEventsTicket(t *testing.T) {
	f := newFixture(t, false)
	var tk map[string]string
	f.call(t, "POST", "/api/v1/events/ticket", "alice", nil, &tk)
	carol := f.app.sign.seal(ticketPurpose, "carol", f.clock.Now().Add(time.Minute))
	tests := []struct {
		name, ticket string
		advance      time.Duration
		want         int
	}{
		{"expired", tk["ticket"], 2 * time.Minute, 401},
		{"for bob, alice's signature", "bob~" + strings.SplitN(tk["ticket"], "~", 2)[1], 0, 401},
		{"media signature", "alice~" + f.app.sign.sign(mediaPurpose, "alice", f.clock.Now().Add(time.Minute)), 0, 401},
		{"disabled employee", carol, 0, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Add(tt.advance)
			defer f.clock.Add(-tt.advance)
			if code := f.call(t, "GET", "/api/v1/events?ticket="+url.QueryEscape(tt.ticket), "", nil, nil); code != tt.want {
				t.Fatalf("status %d, want %d", code, tt.want)
			}
		})
	}
}
