package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage/jobs"
)

// RunOptions tune RunJobs; see jobs.Options.
type RunOptions = jobs.Options

// RunJobs runs the handlers for due jobs until ctx is cancelled, then waits for the
// handlers in flight. Several RunJobs, in one process or in several replicas on one
// PostgreSQL database, share the work: a job runs on one of them at a time, and a
// lane's jobs run one after the other in the order they were enqueued.
//
// On PostgreSQL it starts the database listener (listen.go), so that jobs any
// replica enqueues wake this runner at once, and a zero PollInterval is
// PostgresPollInterval: the poll is only the fallback.
func (db *DB) RunJobs(ctx context.Context, handlers map[string]bridge.JobHandler, opts RunOptions) error {
	if db.dialect == dialectPostgres {
		db.listen()
		if opts.PollInterval <= 0 {
			opts.PollInterval = PostgresPollInterval
		}
	}
	return jobs.Run(ctx, queue{db}, db.wake, handlers, opts)
}

// queue is the runner's view of the jobs table.
type queue struct{ db *DB }

var _ jobs.Queue = queue{}

// claimWhere selects due heads of lanes: the oldest live job of its lane, with no
// job of the lane leased or deferred. The second condition matters on
// PostgreSQL, where a job may commit after a younger job of its lane (ids are
// drawn at insert, not commit) and must not run beside it. A job that is
// rescheduled keeps its lane closed until its time (Retry sets locked_until to
// its run_at), so that the lanes behind a deferred head, such as an employee's
// deliveries waiting for Teams' limits, are set aside by one hashed lookup of
// the few leased or deferred lanes, before the per-row probe for an earlier
// job (measured on PostgreSQL with 4,000 deliveries waiting behind 20
// deferred heads: 1.3 ms a claim, against 19 ms when every one was probed).
// Dead jobs (dead_at > 0) are neither candidates nor in the way of their
// lane's next job; every condition names dead_at = 0 so that the partial
// indexes of migrations 0002 to 0004 serve it; "locked_until > 0" matches the
// leased-lanes index (0004). %s is the condition on the pool's kinds
// (kindsCond), first so that both planners filter by kind before they look at
// lanes.
const claimWhere = `%s AND j.dead_at = 0 AND j.run_at <= $3 AND j.locked_until <= $3
  AND j.lane NOT IN (SELECT l.lane FROM jobs l WHERE l.locked_until > $3 AND l.locked_until > 0 AND l.dead_at = 0)
  AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.lane = j.lane AND p.id < j.id AND p.dead_at = 0)
  ORDER BY j.run_at, j.id LIMIT $4`

// kindsCond is the condition on j.kind for a pool's kinds, or for every kind
// but them: a literal list, so that the planners see the kinds (a parameter
// list made PostgreSQL check the kind last, after probing every due job's
// lane, and a claim with nothing due took milliseconds). A runner's pools are
// fixed, so each pool's statement is prepared once.
func kindsCond(kinds []string, except bool) string {
	if len(kinds) == 0 {
		if except {
			return "TRUE"
		}
		return "FALSE"
	}
	quoted := make([]string, len(kinds))
	for i, k := range kinds {
		quoted[i] = "'" + strings.ReplaceAll(k, "'", "''") + "'"
	}
	op := "IN"
	if except {
		op = "NOT IN"
	}
	return "j.kind " + op + " (" + strings.Join(quoted, ", ") + ")"
}

// jobColumns are the columns scanJob reads, in its order.
const jobColumns = `id, lane, kind, payload, run_at, attempts, created_at, last_error, dead_at`

// claimQuery is a dialect's claim statement for a want.
func claimQuery(d dialect, w jobs.Want) string {
	lock := ""
	if d == dialectPostgres {
		// SKIP LOCKED passes over jobs a handler is completing in its own transaction.
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	where := fmt.Sprintf(claimWhere, kindsCond(w.Kinds, w.Except))
	return `UPDATE jobs SET locked_by = $1, locked_until = $2
WHERE id IN (SELECT j.id FROM jobs j WHERE ` + where + lock + `)
RETURNING ` + jobColumns
}

// scanJob reads one row of jobColumns.
func scanJob(rows interface{ Scan(...any) error }) (bridge.Job, error) {
	var j bridge.Job
	var payload string
	var runAt, created, deadAt int64
	if err := rows.Scan(&j.ID, &j.Lane, &j.Kind, &payload, &runAt, &j.Attempts, &created, &j.LastError, &deadAt); err != nil {
		return bridge.Job{}, err
	}
	j.Payload, j.RunAt, j.Created, j.Dead = []byte(payload), fromMicros(runAt), fromMicros(created), deadAt > 0
	return j, nil
}

// claimLockID is the advisory lock that serializes claims on PostgreSQL.
const claimLockID = 0x6d6c6a62 // "mljb"

// Claim runs one statement per want, all in one transaction. On PostgreSQL,
// claims are serialized by a transaction-scoped advisory lock: two replicas
// claiming at once could otherwise each see the other's lane as free.
func (q queue) Claim(ctx context.Context, owner string, now, until time.Time, wants []jobs.Want) ([]bridge.Job, error) {
	db := q.db
	type prepared struct {
		st    *sql.Stmt
		limit int
	}
	var todo []prepared
	for _, w := range wants {
		if w.Limit <= 0 || len(w.Kinds) == 0 && !w.Except {
			continue
		}
		// Prepared before the transaction: SQLite's one connection is busy inside it.
		st, err := db.stmt(ctx, claimQuery(db.dialect, w))
		if err != nil {
			return nil, err
		}
		todo = append(todo, prepared{st, w.Limit})
	}
	if len(todo) == 0 {
		return nil, nil
	}
	var out []bridge.Job
	err := db.sqlTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if db.dialect == dialectPostgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLockID); err != nil {
				return fmt.Errorf("claim lock: %w", err)
			}
		}
		for _, p := range todo {
			rows, err := tx.StmtContext(ctx, p.st).QueryContext(ctx, owner, micros(until), micros(now), p.limit)
			if err != nil {
				return err
			}
			var got []bridge.Job
			for rows.Next() {
				j, err := scanJob(rows)
				if err != nil {
					rows.Close()
					return err
				}
				got = append(got, j)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			// RETURNING gives no order; hand each want's jobs out in the order
			// they became due.
			slices.SortFunc(got, func(a, b bridge.Job) int {
				if c := a.RunAt.Compare(b.RunAt); c != 0 {
					return c
				}
				return int(a.ID - b.ID)
			})
			out = append(out, got...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Complete deletes a finished job, unless its handler deleted it in its own
// transaction already (Tx.CompleteJob, then this is a no-op).
func (q queue) Complete(ctx context.Context, owner string, id int64) error {
	if q.db.finished.take(id) {
		return nil
	}
	_, err := q.exec(ctx, `DELETE FROM jobs WHERE id = $1 AND locked_by = $2`, id, owner)
	return err
}

// Retry reschedules a job for runAt and keeps its lane closed until then
// (locked_until = run_at, with no owner): see claimWhere.
func (q queue) Retry(ctx context.Context, owner string, id int64, runAt time.Time, attempts int, lastErr string) error {
	q.db.finished.take(id)
	_, err := q.exec(ctx, `UPDATE jobs SET run_at = $1, attempts = $2, last_error = $3, locked_by = NULL, locked_until = $1
WHERE id = $4 AND locked_by = $5`, micros(runAt), attempts, jobs.RedactError(lastErr), id, owner)
	return err
}

func (q queue) Bury(ctx context.Context, owner string, id int64, attempts int, lastErr string) error {
	q.db.finished.take(id)
	_, err := q.exec(ctx, `UPDATE jobs SET dead_at = $1, attempts = $2, last_error = $3, locked_by = NULL, locked_until = 0
WHERE id = $4 AND locked_by = $5 AND dead_at = 0`, micros(time.Now()), attempts, jobs.RedactError(lastErr), id, owner)
	return err
}

// The ids to extend travel as one JSON array, which both dialects unpack.
const (
	extendSQLite = `UPDATE jobs SET locked_until = $1
WHERE locked_by = $2 AND id IN (SELECT value FROM json_each($3))`
	extendPostgres = `UPDATE jobs SET locked_until = $1
WHERE locked_by = $2 AND id IN (SELECT e::bigint FROM jsonb_array_elements_text(CAST($3 AS text)::jsonb) e)`
)

func (q queue) Extend(ctx context.Context, owner string, ids []int64, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("extend leases: %w", err)
	}
	query := extendSQLite
	if q.db.dialect == dialectPostgres {
		query = extendPostgres
	}
	_, err = q.exec(ctx, query, micros(until), owner, string(list))
	return err
}

func (q queue) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// sqlTx runs fn in a plain database/sql transaction (the runner's claims).
func (db *DB) sqlTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	start := time.Now()
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		metrics.Transaction(time.Since(start), err == nil)
		if k := conflictKind(err); k != "" {
			metrics.Conflict(k) // not retried: the runner claims again at its next turn
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
