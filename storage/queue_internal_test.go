package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
	"github.com/multiline/multiline/storage/pgtest"
)

// internalDBs opens a fresh migrated database of each dialect.
func internalDBs(t *testing.T) map[string]func(t *testing.T) *DB {
	open := func(t *testing.T, u string) *DB {
		t.Helper()
		db, err := Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	return map[string]func(t *testing.T) *DB{
		"sqlite":   func(t *testing.T) *DB { return open(t, "sqlite:"+filepath.Join(t.TempDir(), "q.db")) },
		"postgres": func(t *testing.T) *DB { return open(t, pgtest.Schema(t)) },
	}
}

func lockedUntil(t *testing.T, db *DB, id int64) int64 {
	t.Helper()
	var us int64
	if err := db.sql.QueryRowContext(t.Context(), `SELECT locked_until FROM jobs WHERE id = $1`, id).Scan(&us); err != nil {
		t.Fatal(err)
	}
	return us
}

// TestExtendOnlyListedJobs: the heartbeat renews the leases of the jobs the
// runner is handling, not of a job it failed to release, so that one runs again
// when its lease runs out instead of staying leased while the runner lives.
func TestExtendOnlyListedJobs(t *testing.T) {
	t.Parallel()
	for name, open := range internalDBs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx := t.Context()
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				for _, lane := range []string{"a", "b", "c"} {
					if err := tx.Enqueue(ctx, bridge.Job{Lane: lane, Kind: "k"}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			js, err := queue{db}.Claim(ctx, "runner-a", now, now.Add(time.Minute), []jobs.Want{{Except: true, Limit: 10}})
			if err != nil || len(js) != 3 {
				t.Fatalf("Claim = %v, %v", js, err)
			}
			for _, j := range js {
				if j.Created.IsZero() || j.Dead || j.Attempts != 0 {
					t.Errorf("claimed %+v", j)
				}
			}
			later := now.Add(time.Hour)
			if err := (queue{db}).Extend(ctx, "runner-a", []int64{js[0].ID, js[1].ID}, later); err != nil {
				t.Fatal(err)
			}
			if err := (queue{db}).Extend(ctx, "runner-b", []int64{js[2].ID}, later); err != nil {
				t.Fatal(err)
			}
			for i, want := range []int64{micros(later), micros(later), micros(now.Add(time.Minute))} {
				if got := lockedUntil(t, db, js[i].ID); got != want {
					t.Errorf("job %d locked until %d, want %d", js[i].ID, got, want)
				}
			}
		})
	}
}

// TestDeadJobsMigrationDown: migration 0002 goes down (dropping dead jobs, which
// the older schema cannot tell apart) and up again, keeping live jobs.
func TestDeadJobsMigrationDown(t *testing.T) {
	t.Parallel()
	for name, open := range internalDBs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx := t.Context()
			var ids []int64
			for range 2 {
				if err := db.Tx(ctx, func(tx bridge.Tx) error { return tx.Enqueue(ctx, bridge.Job{Lane: "l", Kind: "k"}) }); err != nil {
					t.Fatal(err)
				}
			}
			js, err := db.PendingJobs(ctx, "")
			if err != nil || len(js) != 2 {
				t.Fatalf("PendingJobs = %v, %v", js, err)
			}
			for _, j := range js {
				ids = append(ids, j.ID)
			}
			if err := db.Tx(ctx, func(tx bridge.Tx) error { return tx.BuryJob(ctx, ids[0], 1, "x") }); err != nil {
				t.Fatal(err)
			}
			p, err := db.provider()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 1); err != nil {
				t.Fatalf("down to 1: %v", err)
			}
			var n int
			if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%d jobs after down (%v), want the live one", n, err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if js, err := db.PendingJobs(ctx, ""); err != nil || len(js) != 1 || js[0].ID != ids[1] {
				t.Errorf("after up again: %v, %v", js, err)
			}
		})
	}
}

// TestClaimPlanUsesLiveIndexes: SQLite answers the claim query from the partial
// indexes on live jobs, so dead jobs piling up do not slow claiming; a pool's
// claim of its own kinds reads those kinds' due jobs only.
func TestClaimPlanUsesLiveIndexes(t *testing.T) {
	t.Parallel()
	db := internalDBs(t)["sqlite"](t)
	for _, c := range []struct {
		except bool
		want   []string
	}{
		{false, []string{"jobs_kind_due", "jobs_lane ", "jobs_lane_leased"}},
		{true, []string{"jobs_due", "jobs_lane ", "jobs_lane_leased"}},
	} {
		op := "IN"
		if c.except {
			op = "NOT IN"
		}
		q := `EXPLAIN QUERY PLAN SELECT j.id FROM jobs j WHERE ` + fmt.Sprintf(claimWhere, kindsCond([]string{"a", "b"}, c.except))
		rows, err := db.sql.QueryContext(context.Background(), q, "o", 0, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		for _, idx := range c.want {
			if !strings.Contains(all+" ", idx) {
				t.Errorf("claim plan (%s) does not use %s:\n%s", op, strings.TrimSpace(idx), all)
			}
		}
	}
}

// TestRescheduledJobKeepsItsLaneClosed: a job rescheduled for later (a rate
// limit's deferral, a backoff) stays its lane's head, so the lane's next job
// does not run before it; the stats count it as scheduled, not running; and it
// is claimed again when its time comes.
func TestRescheduledJobKeepsItsLaneClosed(t *testing.T) {
	t.Parallel()
	for name, open := range internalDBs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx := t.Context()
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				for range 2 {
					if err := tx.Enqueue(ctx, bridge.Job{Lane: "teams:e1", Kind: "k"}); err != nil {
						return err
					}
				}
				return tx.Enqueue(ctx, bridge.Job{Lane: "teams:e2", Kind: "k"})
			}); err != nil {
				t.Fatal(err)
			}
			q := queue{db}
			want := []jobs.Want{{Except: true, Limit: 10}}
			now := time.Now()
			js, err := q.Claim(ctx, "runner-a", now, now.Add(time.Minute), want)
			if err != nil || len(js) != 2 || js[0].Lane != "teams:e1" || js[1].Lane != "teams:e2" {
				t.Fatalf("Claim = %+v, %v; want the heads of both lanes", js, err)
			}
			head := js[0]
			at := now.Add(time.Second)
			if err := q.Retry(ctx, "runner-a", head.ID, at, head.Attempts, "paced"); err != nil {
				t.Fatal(err)
			}
			if err := q.Complete(ctx, "runner-a", js[1].ID); err != nil {
				t.Fatal(err)
			}
			if js, err := q.Claim(ctx, "runner-b", now, now.Add(time.Minute), want); err != nil || len(js) != 0 {
				t.Fatalf("Claim before the deferred head's time = %+v, %v; want nothing", js, err)
			}
			stats, err := db.JobStats(ctx, now)
			if err != nil || len(stats) != 1 {
				t.Fatalf("JobStats = %+v, %v", stats, err)
			}
			if s := stats[0]; s.Running != 0 || s.Scheduled != 1 || s.Due != 1 || !s.OldestClaimable.IsZero() {
				t.Errorf("JobStats = %+v; want 1 scheduled (the deferred head), 1 due behind it, none running or claimable", s)
			}
			js, err = q.Claim(ctx, "runner-b", at, at.Add(time.Minute), want)
			if err != nil || len(js) != 1 || js[0].ID != head.ID {
				t.Fatalf("Claim at the deferred head's time = %+v, %v; want job %d", js, err, head.ID)
			}
		})
	}
}
