package storage_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/storetest"
)

// bothFactories open handles on a fresh database of each dialect.
var bothFactories = []struct {
	name    string
	factory func(testing.TB) func() storetest.Backend
}{{"sqlite", sqliteFactory}, {"postgres", postgresFactory}}

// onBothDatabasesHandles runs fn on a migrated SQLite database and on a
// PostgreSQL schema, as subtests, with open making one more handle on it each
// time: two replicas on PostgreSQL, two processes on one SQLite file, or a
// restart.
func onBothDatabasesHandles(t *testing.T, fn func(t *testing.T, open func() *storage.DB)) {
	for _, be := range bothFactories {
		t.Run(be.name, func(t *testing.T) {
			f := be.factory(t)
			fn(t, func() *storage.DB { return f().(*storage.DB) })
		})
	}
}

// leases counts the rows of tab_presence.
func leases(t *testing.T, db *storage.DB) int {
	t.Helper()
	var n int
	if err := db.SQLForTest().QueryRowContext(t.Context(), `SELECT count(*) FROM tab_presence`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPresence: leases of the tab's open streams, held through one handle
// (replica A) and read through the other (replica B), in both dialects:
// made, seen by the other replica, renewed, expiring by themselves, kept by a
// second replica when the first drops its own, and never made by a renewal.
func TestPresence(t *testing.T) {
	t.Parallel()
	onBothDatabasesHandles(t, func(t *testing.T, open func() *storage.DB) {
		a, b := open(), open()
		ctx := t.Context()
		const ann, bob, cat = bridge.EmployeeID("ann"), bridge.EmployeeID("bob"), bridge.EmployeeID("cat")
		t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		lease := 30 * time.Second
		present := func(db *storage.DB, e bridge.EmployeeID, at time.Time) bool {
			t.Helper()
			ok, err := db.Present(ctx, e, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}

		// Made by A, seen by B; another employee is not present.
		if err := a.HoldPresence(ctx, "A", ann, t0.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if !present(b, ann, t0) || present(b, bob, t0) {
			t.Fatalf("after A's lease of ann: present(ann) %v, present(bob) %v; want true, false", present(b, ann, t0), present(b, bob, t0))
		}
		// Holding again extends, it does not add a row.
		if err := a.HoldPresence(ctx, "A", ann, t0.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if n := leases(t, a); n != 1 {
			t.Fatalf("%d leases after holding ann twice, want 1", n)
		}

		// Expiry: without a renewal the lease stops counting at its end, with no one deleting it.
		if present(b, ann, t0.Add(lease)) {
			t.Fatal("ann present at the end of an unrenewed lease")
		}
		if present(b, ann, t0.Add(lease-time.Microsecond)) != true {
			t.Fatal("ann absent just before the end of her lease")
		}

		// Renewal extends A's leases of the employees named, and makes none:
		// cat, named but never held, stays absent, and the count says so.
		t1 := t0.Add(20 * time.Second)
		n, err := a.RenewPresence(ctx, "A", []bridge.EmployeeID{ann, cat}, t1, t1.Add(lease))
		if err != nil || n != 1 {
			t.Fatalf("RenewPresence = %d, %v; want 1 (ann's only)", n, err)
		}
		if !present(b, ann, t0.Add(lease)) || !present(b, ann, t1.Add(lease-time.Microsecond)) || present(b, ann, t1.Add(lease)) {
			t.Fatal("the renewed lease of ann does not last until its new end")
		}
		if present(b, cat, t1) {
			t.Fatal("a renewal made a lease for cat")
		}
		// A renewal by another replica does not extend A's lease.
		if n, err := b.RenewPresence(ctx, "B", []bridge.EmployeeID{ann}, t1, t1.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("B's RenewPresence of ann = %d, %v; want 0", n, err)
		}

		// Two replicas: B opens a stream of ann too; A's drop leaves B's.
		if err := b.HoldPresence(ctx, "B", ann, t1.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if err := a.DropPresence(ctx, "A", ann); err != nil {
			t.Fatal(err)
		}
		if !present(a, ann, t1) {
			t.Fatal("ann absent while B still holds her lease")
		}
		if err := b.DropPresence(ctx, "B", ann); err != nil {
			t.Fatal(err)
		}
		if present(a, ann, t1) {
			t.Fatal("ann present after both replicas dropped their leases")
		}

		// A replica that died: its leases stop counting, and the next
		// renewal of a live replica deletes them.
		if err := b.HoldPresence(ctx, "dead", bob, t1.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if err := a.HoldPresence(ctx, "A", ann, t1.Add(2*lease)); err != nil {
			t.Fatal(err)
		}
		t2 := t1.Add(lease + time.Second)
		if present(a, bob, t2) {
			t.Fatal("bob present after the dead replica's lease ended")
		}
		if n, err := a.RenewPresence(ctx, "A", []bridge.EmployeeID{ann}, t2, t2.Add(lease)); err != nil || n != 1 {
			t.Fatalf("RenewPresence = %d, %v; want 1", n, err)
		}
		if got := leases(t, a); got != 1 {
			t.Fatalf("%d leases after the renewal, want 1 (the dead replica's deleted)", got)
		}

		// Shutdown drops every lease of the replica, and only its own.
		if err := b.HoldPresence(ctx, "B", bob, t2.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if err := a.HoldPresence(ctx, "A", cat, t2.Add(lease)); err != nil {
			t.Fatal(err)
		}
		if err := a.DropReplicaPresence(ctx, "A"); err != nil {
			t.Fatal(err)
		}
		if present(b, ann, t2) || present(b, cat, t2) || !present(a, bob, t2) {
			t.Fatal("DropReplicaPresence(A) left A's leases or took B's")
		}
	})
}

// TestSharedKey: replicas that start together agree on one key, made once;
// it survives a restart; another name is another key; a stored key of the
// wrong length is refused.
func TestSharedKey(t *testing.T) {
	t.Parallel()
	onBothDatabasesHandles(t, func(t *testing.T, open func() *storage.DB) {
		a, b := open(), open()
		ctx := t.Context()
		var wg sync.WaitGroup
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range keys {
			db := a
			if i%2 == 1 {
				db = b
			}
			wg.Go(func() { keys[i], errs[i] = db.SharedKey(ctx, "tab-signing") })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if len(keys[i]) != storage.SharedKeySize || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("key %d differs from key 0 (or is %d bytes)", i, len(keys[i]))
			}
		}
		var rows int
		if err := a.SQLForTest().QueryRowContext(ctx, `SELECT count(*) FROM shared_keys`).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("%d rows in shared_keys (%v), want 1", rows, err)
		}

		again := open()
		if k, err := again.SharedKey(ctx, "tab-signing"); err != nil || !bytes.Equal(k, keys[0]) {
			t.Fatalf("after a restart: another key (%v)", err)
		}
		if k, err := again.SharedKey(ctx, "other"); err != nil || bytes.Equal(k, keys[0]) {
			t.Fatalf("another name: the same key (%v)", err)
		}

		if _, err := a.SQLForTest().ExecContext(ctx, `UPDATE shared_keys SET key = $1 WHERE name = 'other'`, []byte("short")); err != nil {
			t.Fatal(err)
		}
		_, err := b.SharedKey(ctx, "other")
		if err == nil || !strings.Contains(err.Error(), "has 5 bytes, want 32") {
			t.Fatalf("a stored key of 5 bytes: %v, want a refusal naming its length", err)
		}
	})
}

// BenchmarkPresent measures the lookup a delivery makes when its replica has no
// stream of the employee: with 10,000 leases of 5,000 employees on 2 replicas,
// half of the looked-up employees present.
//
//	go test -run '^$' -bench Present ./storage
func BenchmarkPresent(b *testing.B) {
	for _, be := range bothFactories {
		b.Run(be.name, func(b *testing.B) {
			db := be.factory(b)().(*storage.DB)
			ctx := b.Context()
			now := time.Now()
			for i := range 5000 {
				for _, r := range []string{"A", "B"} {
					if err := db.HoldPresence(ctx, r, bridge.EmployeeID(fmt.Sprintf("e%d", i)), now.Add(time.Hour)); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := 0; b.Loop(); i++ {
				if _, err := db.Present(ctx, bridge.EmployeeID(fmt.Sprintf("e%d", i%10000)), now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
