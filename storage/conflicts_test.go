package storage_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage"
)

// pgWithPeople opens a fresh PostgreSQL schema with company c1, employees e1
// and e2 (enabled) and threads t1 and t2.
func pgWithPeople(t *testing.T) *storage.DB {
	t.Helper()
	db := postgresFactory(t)().(*storage.DB)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	err := db.Tx(ctx, func(tx bridge.Tx) error {
		if err := tx.SaveCompany(ctx, bridge.Company{ID: "c1", Policy: bridge.DefaultPolicy()}); err != nil {
			return err
		}
		for _, e := range []bridge.EmployeeID{"e1", "e2"} {
			if err := tx.SaveEmployee(ctx, bridge.Employee{ID: e, Company: "c1", Name: string(e), Enabled: true}); err != nil {
				return err
			}
		}
		for _, th := range []bridge.ThreadID{"t1", "t2"} {
			rec := bridge.ThreadRecord{Thread: bridge.Thread{ID: th, Consumer: bridge.ConsumerID("w-" + th)}, Company: "c1",
				CreatedAt: now, UpdatedAt: now}
			if err := tx.SaveThread(ctx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// conflicts reads multiline_db_conflicts_total for kind.
func conflicts(t *testing.T, kind string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "multiline_db_conflicts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestPostgresRoutingTakesNoEmployeeLock: while one transaction holds an
// employee row (it changed the employee and has not committed), another reads
// that employee and routes to the pool without waiting for it.
func TestPostgresRoutingTakesNoEmployeeLock(t *testing.T) {
	t.Parallel()
	db := pgWithPeople(t)
	ctx := t.Context()
	holding, routed := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- db.Tx(ctx, func(tx bridge.Tx) error {
			for _, id := range []bridge.EmployeeID{"e1", "e2"} {
				e, err := tx.Employee(ctx, id)
				if err != nil {
					return err
				}
				e.Focus = "t1"
				if err := tx.SaveEmployee(ctx, e); err != nil { // both rows locked until commit
					return err
				}
			}
			close(holding)
			<-routed
			return nil
		})
	}()
	<-holding
	var got []bridge.EmployeeID
	err := db.Tx(ctx, func(tx bridge.Tx) error {
		got = got[:0]
		if _, err := tx.Employee(ctx, "e1"); err != nil {
			return err
		}
		for range 2 {
			e, err := tx.NextPoolEmployee(ctx, "c1", time.Now())
			if err != nil {
				return err
			}
			got = append(got, e.ID)
		}
		return nil
	})
	close(routed)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] == got[1] {
		t.Errorf("two routings went to %v, want e1 and e2 in turn", got)
	}
}

// TestPostgresEmployeeChangesAreNotLost: two transactions read one employee
// and change different fields. The one that saves second finds the row changed,
// and Tx runs it again on the new row, so both changes are kept.
func TestPostgresEmployeeChangesAreNotLost(t *testing.T) {
	t.Parallel()
	db := pgWithPeople(t)
	ctx := t.Context()
	read, committed := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	before := conflicts(t, "serialization")
	slow := make(chan error, 1)
	go func() {
		slow <- db.Tx(ctx, func(tx bridge.Tx) error {
			n := runs.Add(1)
			e, err := tx.Employee(ctx, "e1")
			if err != nil {
				return err
			}
			if n == 1 {
				close(read)
				<-committed // the other change commits between our read and our save
			}
			e.Blocked, e.BlockedReason = true, "ConversationBlockedByUser"
			return tx.SaveEmployee(ctx, e)
		})
	}()
	<-read
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		e, err := tx.Employee(ctx, "e1")
		if err != nil {
			return err
		}
		e.Focus = "t2"
		return tx.SaveEmployee(ctx, e)
	}); err != nil {
		t.Fatal(err)
	}
	close(committed)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	var e bridge.Employee
	if err := db.Tx(ctx, func(tx bridge.Tx) (err error) { e, err = tx.Employee(ctx, "e1"); return err }); err != nil {
		t.Fatal(err)
	}
	if e.Focus != "t2" || !e.Blocked {
		t.Errorf("employee after both changes: focus %q, blocked %v; want both kept", e.Focus, e.Blocked)
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("the second change ran %d times, want 2", n)
	}
	if after := conflicts(t, "serialization"); after < before+1 {
		t.Errorf("serialization conflicts went from %v to %v", before, after)
	}
}

// TestPostgresDeadlockIsRetried: two transactions that lock two threads in
// opposite orders deadlock; PostgreSQL ends one, and Tx runs that one again, so
// both commit and the conflict is counted.
func TestPostgresDeadlockIsRetried(t *testing.T) {
	t.Parallel()
	db := pgWithPeople(t)
	ctx := t.Context()
	before := conflicts(t, "deadlock")
	var both sync.WaitGroup
	both.Add(2)
	var runs [2]atomic.Int32
	lock := func(i int, first, second bridge.ThreadID) error {
		return db.Tx(ctx, func(tx bridge.Tx) error {
			n := runs[i].Add(1)
			if _, err := tx.LoadThread(ctx, first); err != nil {
				return err
			}
			if n == 1 {
				both.Done()
				both.Wait() // each holds its first thread
			}
			_, err := tx.LoadThread(ctx, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lock(0, "t1", "t2") }()
	go func() { errs <- lock(1, "t2", "t1") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a transaction failed: %v", err)
		}
	}
	if total := runs[0].Load() + runs[1].Load(); total != 3 {
		t.Errorf("the two transactions ran %d times, want 3 (the deadlock's victim twice)", total)
	}
	if after := conflicts(t, "deadlock"); after < before+1 {
		t.Errorf("deadlock conflicts went from %v to %v", before, after)
	}
}
