package teamsapp

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// presenceWait bounds the waits of the presence tests (renewals every 20 ms).
const presenceWait = 5 * time.Second

// waitUntil waits for cond, failing with what after presenceWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(presenceWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", presenceWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openStream opens a live-update stream of the token's employee on f and
// waits for its "ready" event; cancel closes it.
func openStream(t *testing.T, f *fixture, token string) (cancel func()) {
	t.Helper()
	var tk map[string]string
	if code := f.call(t, "POST", "/api/v1/events/ticket", token, nil, &tk); code != 200 {
		t.Fatalf("ticket: %d", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/api/v1/events?ticket="+url.QueryEscape(tk["ticket"]), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	waitEvents(t, sseReader(t, resp), "ready")
	return cancel
}

// TestPresenceAcrossReplicas runs two tabs ("replicas" A and B) on two handles
// of one SQLite database, as two processes on one file would: a stream open on
// B is seen by A's Watching from its lease, made before the stream's "ready";
// a reload (a second stream, then the first closing) keeps it; the last close
// drops it; a lease lost behind the replica's back is made again by the next
// renewal, and one that would have expired is renewed; shutting B down drops
// its leases at once.
func TestPresenceAcrossReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "presence.db")
	u := "sqlite:" + path
	handle := func() *storage.DB {
		db, err := storage.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA := handle()
	if err := dbA.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	dbB := handle()
	// raw reads and writes what no API does: the rows themselves.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	replica := func(db *storage.DB) *fixture {
		return newFixtureWith(t, false, func(c *Config) { c.Presence, c.PresenceRenewal = db, 20*time.Millisecond })
	}
	a, b := replica(dbA), replica(dbB)
	ctx := t.Context()
	const alice, bob = bridge.EmployeeID("alice"), bridge.EmployeeID("bob")
	leases := func() int {
		t.Helper()
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM tab_presence`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a.app.Watching(ctx, alice) || b.app.Watching(ctx, alice) {
		t.Fatal("alice watching before any stream opened")
	}

	first := openStream(t, b, "alice")
	if !a.app.Watching(ctx, alice) {
		t.Fatal("A: alice's stream on B is ready, and A does not see it")
	}
	if !b.app.Watching(ctx, alice) || a.app.Watching(ctx, bob) || b.app.Watching(ctx, bob) {
		t.Fatal("B does not see its own stream of alice, or someone sees bob")
	}

	// A reload: the new stream opens, then the old one closes.
	second := openStream(t, b, "alice")
	first()
	waitUntil(t, "B counts one stream of alice after the first closed", func() bool {
		b.app.presence.mu.Lock()
		defer b.app.presence.mu.Unlock()
		return b.app.presence.streams[alice] == 1
	})
	if !a.app.Watching(ctx, alice) || leases() != 1 {
		t.Fatalf("after a reload: A sees alice %v, %d leases; want true, 1", a.app.Watching(ctx, alice), leases())
	}

	// The last stream closes: the lease goes with it.
	second()
	waitUntil(t, "A no longer sees alice after her last stream on B closed", func() bool { return !a.app.Watching(ctx, alice) })
	if n := leases(); n != 0 {
		t.Fatalf("%d leases after the last stream closed, want 0", n)
	}

	// A lease lost behind B's back (as PostgreSQL's crash empties the unlogged
	// table) is made again by B's next renewal.
	defer openStream(t, b, "alice")()
	if _, err := raw.ExecContext(ctx, `DELETE FROM tab_presence`); err != nil {
		t.Fatal(err)
	}
	if a.app.Watching(ctx, alice) {
		t.Fatal("A sees alice with no lease stored")
	}
	waitUntil(t, "B's renewal makes alice's lost lease again", func() bool { return a.app.Watching(ctx, alice) })

	// Time passes beyond the lease: B's renewals keep it alive.
	a.clock.Add(time.Hour)
	b.clock.Add(time.Hour)
	waitUntil(t, "B's renewal extends alice's lease past the hour", func() bool { return a.app.Watching(ctx, alice) })

	// B shuts down: its leases are gone at once, its streams still open or not.
	if err := b.app.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if a.app.Watching(ctx, alice) || leases() != 0 {
		t.Fatalf("after B's shutdown: A sees alice %v, %d leases; want false, 0", a.app.Watching(ctx, alice), leases())
	}
}

// TestPresenceOneReplica: without Config.Presence, Watching knows this
// replica's streams, from memory.
func TestPresenceOneReplica(t *testing.T) {
	f := newFixture(t, false)
	ctx := t.Context()
	if f.app.Watching(ctx, "alice") {
		t.Fatal("alice watching before her stream opened")
	}
	closeStream := openStream(t, f, "alice")
	if !f.app.Watching(ctx, "alice") || f.app.Watching(ctx, "bob") {
		t.Fatal("with alice's stream open: alice not watching, or bob watching")
	}
	closeStream()
	waitUntil(t, "alice's stream closed", func() bool { return !f.app.Watching(ctx, "alice") })
}
