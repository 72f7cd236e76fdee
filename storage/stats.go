package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// This file is a read-only view of the database for operators' metrics (the
// state collector of package metrics, through cmd/multiline) and for readiness.
// Each method is one or two grouped queries; none takes a lock or writes. They
// scan the messages table and the jobs table, so callers should not run them
// more often than every few seconds (the state collector caches its snapshot).

// MessageStat is how many messages share a sender, kind, status and reason.
type MessageStat struct {
	From   string // from_party: consumer, employee, system, employee_note
	Kind   string // notice, or the media kind (image, voice, video, file), or text
	Status string
	// Reason is the message's reason for employee messages that were not sent
	// (not queued, failed, blocked…); empty otherwise.
	Reason string
	Count  int64
}

// messageStatsKind is the message kind: a notice, the media kind of the body,
// or text. The LIKE keeps the JSON parse to the rows that carry media.
func (db *DB) messageStatsKind() string {
	extract := `json_extract(body, '$.media_kind')`
	if db.dialect == dialectPostgres {
		extract = `(body::json)->>'media_kind'`
	}
	return `CASE WHEN notice <> '' THEN 'notice'
  WHEN body LIKE '%"media_kind":%' THEN COALESCE(NULLIF(` + extract + `, ''), 'text')
  ELSE 'text' END`
}

// MessageStats counts the stored messages by sender, kind, status and (for
// employee messages not sent) reason.
func (db *DB) MessageStats(ctx context.Context) ([]MessageStat, error) {
	q := `SELECT from_party, ` + db.messageStatsKind() + ` AS kind, status,
  CASE WHEN from_party = 'employee' AND status NOT IN ('sent', 'sending', 'queued') THEN reason ELSE '' END AS why,
  COUNT(*)
FROM messages GROUP BY 1, 2, 3, 4`
	rows, err := db.reads().QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("message stats: %w", err)
	}
	defer rows.Close()
	var out []MessageStat
	for rows.Next() {
		var m MessageStat
		if err := rows.Scan(&m.From, &m.Kind, &m.Status, &m.Reason, &m.Count); err != nil {
			return nil, fmt.Errorf("message stats: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("message stats: %w", err)
	}
	return out, nil
}

// JobStat describes the jobs of one kind at a moment.
type JobStat struct {
	Kind string
	// Running jobs are leased by a runner; Due ones are not and their time has
	// come (they run in their lane's order); Scheduled ones wait for their time.
	// Dead ones ended without success.
	Running, Due, Scheduled, Dead int64
	// OldestCreated is when the kind's oldest live job was enqueued (zero: none).
	OldestCreated time.Time
	// OldestClaimable is since when the kind's oldest claimable job (see
	// OldestClaimable) has been due (zero: none).
	OldestClaimable time.Time
}

// claimableWhere selects the jobs a runner could claim at $1: live, due, not
// leased, the head of their lane, and their lane not leased. It mirrors the
// runner's claim (queue.go's claimWhere).
const claimableWhere = `j.dead_at = 0 AND j.run_at <= $1 AND j.locked_until <= $1
  AND j.lane NOT IN (SELECT l.lane FROM jobs l WHERE l.locked_until > $1 AND l.locked_until > 0 AND l.dead_at = 0)
  AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.lane = j.lane AND p.id < j.id AND p.dead_at = 0)`

// leased is a job whose lease runs at $1. A rescheduled job has a
// locked_until too (its run_at, see queue.go's Retry) but no owner: it is
// scheduled, not running.
const leased = `(locked_by IS NOT NULL AND locked_until > $1)`

// dueSince is when a job became due: its run_at, or its creation when it was
// due at once (run_at 0).
const dueSince = `CASE WHEN j.run_at > 0 THEN j.run_at ELSE j.created_at END`

// JobStats counts the jobs by kind as of now.
func (db *DB) JobStats(ctx context.Context, now time.Time) ([]JobStat, error) {
	n := micros(now)
	rows, err := db.reads().QueryContext(ctx, `SELECT kind,
  SUM(CASE WHEN dead_at = 0 AND `+leased+` THEN 1 ELSE 0 END),
  SUM(CASE WHEN dead_at = 0 AND NOT `+leased+` AND run_at <= $1 THEN 1 ELSE 0 END),
  SUM(CASE WHEN dead_at = 0 AND NOT `+leased+` AND run_at > $1 THEN 1 ELSE 0 END),
  SUM(CASE WHEN dead_at > 0 THEN 1 ELSE 0 END),
  COALESCE(MIN(CASE WHEN dead_at = 0 THEN created_at END), 0)
FROM jobs GROUP BY kind`, n)
	if err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	var out []JobStat
	byKind := map[string]int{}
	for rows.Next() {
		var s JobStat
		var oldest int64
		if err := rows.Scan(&s.Kind, &s.Running, &s.Due, &s.Scheduled, &s.Dead, &oldest); err != nil {
			return nil, fmt.Errorf("job stats: %w", err)
		}
		s.OldestCreated = fromMicros(oldest)
		byKind[s.Kind] = len(out)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	rows.Close()
	rows, err = db.reads().QueryContext(ctx, `SELECT j.kind, MIN(`+dueSince+`) FROM jobs j WHERE `+claimableWhere+` GROUP BY j.kind`, n)
	if err != nil {
		return nil, fmt.Errorf("job stats: claimable: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var since int64
		if err := rows.Scan(&kind, &since); err != nil {
			return nil, fmt.Errorf("job stats: claimable: %w", err)
		}
		if i, ok := byKind[kind]; ok {
			out[i].OldestClaimable = fromMicros(since)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job stats: claimable: %w", err)
	}
	return out, nil
}

// Claimable is the oldest job a runner could claim.
type Claimable struct {
	ID       int64
	Kind     string
	Lane     string
	DueSince time.Time // when it became due
}

// OldestClaimable returns the job that has been claimable the longest at now:
// live, due, not leased, the head of its lane, and its lane not leased. ok is
// false when there is none.
func (db *DB) OldestClaimable(ctx context.Context, now time.Time) (c Claimable, ok bool, err error) {
	var since int64
	err = db.reads().QueryRowContext(ctx, `SELECT j.id, j.kind, j.lane, `+dueSince+` AS since FROM jobs j WHERE `+claimableWhere+`
ORDER BY since, j.id LIMIT 1`, micros(now)).Scan(&c.ID, &c.Kind, &c.Lane, &since)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Claimable{}, false, nil
	case err != nil:
		return Claimable{}, false, fmt.Errorf("oldest claimable job: %w", err)
	}
	c.DueSince = fromMicros(since)
	return c, true, nil
}
