package storage

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// This file is the transactional outbox: the Tx methods that add, replace and
// cancel jobs inside the caller's transaction. The runner's side is queue.go.
//
// A job is "pending" while no runner has claimed it (locked_by IS NULL) and it is
// alive (dead_at = 0); only pending jobs are replaced, cancelled or woken, so work
// already handed to a handler is never pulled from under it, and a dead job stays
// as it died until an operator retries or discards it (see admin.go).

// Enqueue adds a job at the end of its lane. A zero RunAt means now. The row is
// written when the transaction ends, with the transaction's other new jobs
// (outbox.go).
func (t *tx) Enqueue(ctx context.Context, j bridge.Job) error {
	if j.Lane == "" || j.Kind == "" {
		return fmt.Errorf("enqueue: %w", jobs.ErrJobIncomplete)
	}
	t.outbox = append(t.outbox, j)
	t.changes.jobs = true
	return nil
}

// SetTimer replaces the pending jobs of j.Lane with j. The lane's rows are
// deleted once per transaction: after that, its only pending jobs are this
// transaction's own, not yet written (a timer that a page of messages
// reschedules again and again is written once, at the end).
func (t *tx) SetTimer(ctx context.Context, j bridge.Job) error {
	t.dropOutbox(func(l string) bool { return l == j.Lane })
	if !t.lanesCleared(j.Lane) {
		if _, err := t.exec(ctx, `DELETE FROM jobs WHERE lane = $1 AND locked_by IS NULL AND dead_at = 0`, j.Lane); err != nil {
			return fmt.Errorf("replace timer %s: %w", j.Lane, err)
		}
		t.clearedLanes = append(t.clearedLanes, j.Lane)
	}
	return t.Enqueue(ctx, j)
}

// HasJobs reports whether the lane has a live (waiting or running) job, this
// transaction's own new ones included.
func (t *tx) HasJobs(ctx context.Context, lane string) (bool, error) {
	if slices.ContainsFunc(t.outbox, func(j bridge.Job) bool { return j.Lane == lane }) {
		return true, nil // enqueued by this transaction, not written yet (outbox.go)
	}
	rows, err := t.query(ctx, `SELECT 1 FROM jobs WHERE lane = $1 AND dead_at = 0 LIMIT 1`, lane)
	if err != nil {
		return false, fmt.Errorf("jobs of lane %s: %w", lane, err)
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("jobs of lane %s: %w", lane, err)
	}
	return found, nil
}

// CancelLanes deletes the pending jobs of the named lanes: this transaction's
// new ones, and the rows, once per lane and transaction. Equality on lane is
// one step of the jobs_lane index per lane, whatever the collation.
func (t *tx) CancelLanes(ctx context.Context, lanes ...string) error {
	if len(lanes) == 0 || slices.Contains(lanes, "") {
		return fmt.Errorf("cancel lanes %q: %w", lanes, jobs.ErrEmptyLane)
	}
	t.dropOutbox(func(l string) bool { return slices.Contains(lanes, l) })
	var marks []string
	var args []any
	for _, l := range lanes {
		if t.lanesCleared(l) || slices.Contains(args, any(l)) {
			continue
		}
		args = append(args, l)
		marks = append(marks, "$"+strconv.Itoa(len(args)))
	}
	if len(args) == 0 {
		return nil
	}
	q := `DELETE FROM jobs WHERE lane IN (` + strings.Join(marks, ", ") + `) AND locked_by IS NULL AND dead_at = 0`
	if _, err := t.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("cancel lanes %q: %w", lanes, err)
	}
	for _, l := range args {
		t.clearedLanes = append(t.clearedLanes, l.(string))
	}
	return nil
}

// WakeLane makes the lane's pending jobs due at once. Their run_at becomes 0 ("due
// whatever the clock says") rather than the database's now, so that a runner with
// its own clock sees them due too.
func (t *tx) WakeLane(ctx context.Context, lane string) error {
	for i := range t.outbox {
		if t.outbox[i].Lane == lane && !t.outbox[i].RunAt.IsZero() {
			t.outbox[i].RunAt = time.Time{}
		}
	}
	if _, err := t.exec(ctx, `UPDATE jobs SET run_at = 0, locked_until = 0 WHERE lane = $1 AND locked_by IS NULL AND run_at > 0 AND dead_at = 0`, lane); err != nil {
		return fmt.Errorf("wake lane %s: %w", lane, err)
	}
	t.changes.jobs = true
	return nil
}

// CompleteJob deletes a job inside the transaction that recorded its effect. If the
// job is gone (another runner finished it after this one's lease ran out) it
// returns bridge.ErrNotFound, so that the caller rolls its effect back.
func (t *tx) CompleteJob(ctx context.Context, id int64) error {
	res, err := t.exec(ctx, `DELETE FROM jobs WHERE id = $1`, id)
	if err := affected(res, err, bridge.ErrNotFound, fmt.Sprintf("job %d", id)); err != nil {
		return err
	}
	t.completed = append(t.completed, id) // the runner need not delete it again
	return nil
}

// BuryJob ends a job dead inside the transaction that settled its outcome: it keeps
// the row, with attempts and lastErr (scrubbed of credentials, see
// jobs.RedactError), releases its lease and stamps dead_at, so the claim query
// passes over it and the lane's next job runs. Like CompleteJob it returns
// bridge.ErrNotFound if the job is gone, so that the caller rolls its outcome back.
func (t *tx) BuryJob(ctx context.Context, id int64, attempts int, lastErr string) error {
	res, err := t.exec(ctx, `UPDATE jobs SET dead_at = $1, attempts = $2, last_error = $3, locked_by = NULL, locked_until = 0
WHERE id = $4`, micros(time.Now()), attempts, jobs.RedactError(lastErr), id)
	return affected(res, err, bridge.ErrNotFound, fmt.Sprintf("job %d", id))
}
