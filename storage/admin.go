package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// This file is the operators' side of the job queue: `multiline admin jobs` and
// the tab's admin page list jobs, and retry or discard the dead ones. A job is
// dead when it ended without success (a permanent error, or its kind's
// bridge.JobLimits reached): the runner no longer runs it and its lane has moved
// on, but it is kept, with its attempts and last error, until an operator acts.
// These methods work while runners, in this process or others, use the
// database: they touch only dead jobs, which no runner holds.

// JobFilter selects the jobs Jobs lists; see jobs.Filter. The zero value lists the
// newest jobs, alive and dead; JobFilter{Dead: true} only the dead ones.
type JobFilter = jobs.Filter

// Jobs lists jobs for an operator, newest (highest id) first, at most
// f.EffectiveLimit() of them. Each carries its Created time, Attempts, LastError
// (scrubbed of credentials when it was written, see jobs.RedactError) and Dead. A
// live job's RunAt is when it is due next (zero: now); a dead job's RunAt is
// meaningless.
func (db *DB) Jobs(ctx context.Context, f JobFilter) ([]bridge.Job, error) {
	query := `SELECT ` + jobColumns + ` FROM jobs ORDER BY id DESC LIMIT $1`
	if f.Dead {
		query = `SELECT ` + jobColumns + ` FROM jobs WHERE dead_at > 0 ORDER BY id DESC LIMIT $1`
	}
	rows, err := db.reads().QueryContext(ctx, query, f.EffectiveLimit())
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return collectJobs(rows)
}

// RetryJob brings dead job id back to life for one more full life: its attempts
// start again at 0 and its age at now (a job that died of old age would otherwise
// die at its next failure), and it is due at once, in its lane's order (it waits
// for a job of the lane that is running; it goes before the lane's younger jobs).
// Its last error stays until its next attempt replaces it. It wakes this process's
// runner and, on PostgreSQL, every replica's (NOTIFY).
//
// It returns an error wrapping bridge.ErrNotFound if there is no job id, and one
// wrapping jobs.ErrJobAlive if the job is not dead.
func (db *DB) RetryJob(ctx context.Context, id int64) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE jobs SET dead_at = 0, attempts = 0, run_at = 0, created_at = $1,
locked_by = NULL, locked_until = 0 WHERE id = $2 AND dead_at > 0`, micros(time.Now()), id)
	if err := db.onlyDead(ctx, res, err, "retry", id); err != nil {
		return err
	}
	db.Wake()
	if db.dialect == dialectPostgres {
		// The server runs in another process (the command is a client).
		payload := (&changeSet{jobs: true}).payloads()[0]
		if _, err := db.sql.ExecContext(ctx, `SELECT pg_notify($1, $2)`, db.channel, payload); err != nil {
			return fmt.Errorf("retry job %d: notify the runners: %w", id, err)
		}
	}
	return nil
}

// DiscardJob deletes dead job id for good: an operator has seen its failure and
// decided it is not worth another try. It returns an error wrapping
// bridge.ErrNotFound if there is no job id, and one wrapping jobs.ErrJobAlive if
// the job is not dead (a live job is the runner's; it is never discarded).
func (db *DB) DiscardJob(ctx context.Context, id int64) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM jobs WHERE id = $1 AND dead_at > 0`, id)
	return db.onlyDead(ctx, res, err, "discard", id)
}

// onlyDead checks the result of a statement on dead job id: when it touched no
// row, it says whether the job is missing or alive.
func (db *DB) onlyDead(ctx context.Context, res sql.Result, err error, verb string, id int64) error {
	if err != nil {
		return fmt.Errorf("%s job %d: %w", verb, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s job %d: %w", verb, id, err)
	}
	if n > 0 {
		return nil
	}
	var deadAt int64
	err = db.reads().QueryRowContext(ctx, `SELECT dead_at FROM jobs WHERE id = $1`, id).Scan(&deadAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s job %d: %w", verb, id, bridge.ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s job %d: %w", verb, id, err)
	case deadAt == 0:
		return fmt.Errorf("%s job %d: %w", verb, id, jobs.ErrJobAlive)
	}
	// It died between the statement and the check: the operator may try again.
	return fmt.Errorf("%s job %d: it died just now, try again: %w", verb, id, jobs.ErrJobAlive)
}
