package storage_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/jobs"
	"github.com/multiline/multiline/storage/pgtest"
)

// replicaDeadline bounds each wait of these tests: it is generous, and only a
// NOTIFY can meet it, since the replicas' polls are set to an hour.
const replicaDeadline = 20 * time.Second

// twoReplicas opens two handles ("replicas") on one fresh PostgreSQL schema.
func twoReplicas(t *testing.T) (a, b *storage.DB, schema string) {
	t.Helper()
	u := pgtest.Schema(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	a = openDB(t, u)
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a, openDB(t, u), pu.Query().Get("search_path")
}

// cutListener ends the listener connections of the schema's replicas, as a
// network failure or a PostgreSQL restart would.
func cutListener(t *testing.T, a *storage.DB, schema string) int {
	t.Helper()
	var n int
	err := a.SQLForTest().QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = $1 AND query = $2`, storage.ListenerApplicationName, fmt.Sprintf(`LISTEN "multiline_%s"`, schema)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReplicasWakeEachOther: a job enqueued through replica A is run by replica
// B's runner without waiting for B's poll (an hour here), again after B's
// listener connection was cut.
func TestReplicasWakeEachOther(t *testing.T) {
	t.Parallel()
	a, b, schema := twoReplicas(t)
	ran := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.RunJobs(ctx, map[string]bridge.JobHandler{"wechat.send": func(_ context.Context, j bridge.Job) error {
			ran <- j.Lane
			return nil
		}}, jobs.Options{PollInterval: time.Hour, RecheckInterval: time.Hour, Workers: 2})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunJobs: %v", err)
		}
	})
	enqueueAndSee := func(lane string) {
		t.Helper()
		err := a.Tx(t.Context(), func(tx bridge.Tx) error {
			return tx.Enqueue(t.Context(), bridge.Job{Lane: lane, Kind: "wechat.send"})
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ran:
			if got != lane {
				t.Fatalf("replica B ran %s, want %s", got, lane)
			}
		case <-time.After(replicaDeadline):
			t.Fatalf("replica B did not run %s, enqueued by replica A", lane)
		}
	}
	// Several rounds: the listener's look after connecting can explain the
	// first one only.
	for i := range 3 {
		enqueueAndSee(fmt.Sprintf("send:t%d", i))
	}
	deadline := time.Now().Add(replicaDeadline)
	for cutListener(t, a, schema) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no listener connection to cut")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 3 {
		enqueueAndSee(fmt.Sprintf("send:after-cut%d", i))
	}
}

// TestReplicasTellTabs: a thread saved through replica A signals the
// live-update streams of its employees on replica B, and those of an employee
// removed from it; others hear nothing.
func TestReplicasTellTabs(t *testing.T) {
	t.Parallel()
	a, b, _ := twoReplicas(t)
	e1, stop1 := b.WatchEmployee("e1")
	defer stop1()
	e2, stop2 := b.WatchEmployee("e2")
	defer stop2()
	e3, stop3 := b.WatchEmployee("e3")
	defer stop3()
	// The listener's first look signals every stream once: wait it out.
	for _, ch := range []<-chan struct{}{e1, e2, e3} {
		select {
		case <-ch:
		case <-time.After(replicaDeadline):
			t.Fatal("the listener did not start")
		}
	}
	ctx := t.Context()
	save := func(ps ...bridge.EmployeeID) {
		t.Helper()
		err := a.Tx(ctx, func(tx bridge.Tx) error {
			if err := tx.SaveCompany(ctx, bridge.Company{ID: "c1", Name: "Contoso", TenantID: "tn", Policy: bridge.DefaultPolicy()}); err != nil {
				return err
			}
			tr, err := tx.LoadThread(ctx, "th1")
			if err != nil {
				tr = bridge.ThreadRecord{Thread: bridge.Thread{ID: "th1", Consumer: "u1", Status: bridge.StatusActive}, Company: "c1", Account: "kf1",
					CreatedAt: time.Now(), UpdatedAt: time.Now()}
			}
			tr.Participants = ps
			return tx.SaveThread(ctx, tr)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(replicaDeadline):
			t.Fatalf("%s: no signal on replica B", what)
		}
	}
	quiet := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
			t.Fatalf("%s: a signal for an employee not in the thread", what)
		default:
		}
	}
	save("e1", "e2")
	expect("new thread, e1", e1)
	expect("new thread, e2", e2)
	save("e1")
	expect("e2 removed, e1", e1)
	expect("e2 removed, e2", e2)
	// A change for e1 only, which comes after the ones before: once it is
	// seen, e3 would have heard of them.
	save("e1")
	expect("saved again, e1", e1)
	quiet("e2", e2)
	quiet("e3", e3)
}
