package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/multiline/multiline/bridge"
)

// The transaction's new jobs wait in its outbox until it ends, and are then
// written in one statement, whatever their number: a page of a hundred
// messages enqueues hundreds of jobs and replaces each thread's timers once
// per message, and each of those was a round trip. Within the transaction,
// SetTimer, CancelLanes and WakeLane apply to the waiting jobs in memory and
// to the table's rows, which they delete once per lane: the lanes
// belong to a thread or an employee the transaction holds (doc.go's lock
// order), so no other transaction adds pending jobs to them meanwhile. Jobs
// keep their order: the rows take their ids in the outbox's order, after
// every job enqueued before, as they would have one by one. The flush is the
// transaction's last write, where doc.go's lock order puts jobs anyway.

// The bulk inserts: the jobs travel as arrays (PostgreSQL) or one JSON array
// of [lane, kind, payload, run_at, attempts] (SQLite), in order.
const (
	insertJobsPostgres = `INSERT INTO jobs (lane, kind, payload, run_at, attempts, created_at)
SELECT u.l, u.k, u.p, u.r, u.a, $6
FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS text[]), CAST($4 AS bigint[]), CAST($5 AS bigint[]))
  WITH ORDINALITY AS u(l, k, p, r, a, n)
ORDER BY u.n`
	insertJobsSQLite = `INSERT INTO jobs (lane, kind, payload, run_at, attempts, created_at)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
  json_extract(value, '$[3]'), json_extract(value, '$[4]'), $2
FROM json_each($1) ORDER BY key`
	insertJob = `INSERT INTO jobs (lane, kind, payload, run_at, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6)`
)

// dropOutbox removes the waiting jobs whose lane matches.
func (t *tx) dropOutbox(match func(lane string) bool) {
	t.outbox = slices.DeleteFunc(t.outbox, func(j bridge.Job) bool { return match(j.Lane) })
}

// lanesCleared says whether this transaction deleted lane's pending rows
// already.
func (t *tx) lanesCleared(lane string) bool {
	return slices.Contains(t.clearedLanes, lane)
}

// flushOutbox writes the waiting jobs.
func (t *tx) flushOutbox(ctx context.Context) error {
	js := t.outbox
	t.outbox = nil
	now := micros(time.Now())
	switch {
	case len(js) == 0:
		return nil
	case len(js) == 1:
		j := js[0]
		if _, err := t.exec(ctx, insertJob, j.Lane, j.Kind, rawOrNull(j.Payload), micros(j.RunAt), j.Attempts, now); err != nil {
			return fmt.Errorf("enqueue %s job on %s: %w", j.Kind, j.Lane, err)
		}
		return nil
	case t.db.dialect == dialectPostgres:
		lanes, kinds, payloads := make([]string, len(js)), make([]string, len(js)), make([]string, len(js))
		runAts, attempts := make([]int64, len(js)), make([]int64, len(js))
		for i, j := range js {
			lanes[i], kinds[i], payloads[i], runAts[i], attempts[i] = j.Lane, j.Kind, rawOrNull(j.Payload), micros(j.RunAt), int64(j.Attempts)
		}
		if _, err := t.exec(ctx, insertJobsPostgres, lanes, kinds, payloads, runAts, attempts, now); err != nil {
			return fmt.Errorf("enqueue %d jobs: %w", len(js), err)
		}
		return nil
	default:
		rows := make([][]any, len(js))
		for i, j := range js {
			rows[i] = []any{j.Lane, j.Kind, rawOrNull(j.Payload), micros(j.RunAt), j.Attempts}
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("enqueue %d jobs: %w", len(js), err)
		}
		if _, err := t.exec(ctx, insertJobsSQLite, string(b), now); err != nil {
			return fmt.Errorf("enqueue %d jobs: %w", len(js), err)
		}
		return nil
	}
}
