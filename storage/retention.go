package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// This file is retention's side in the database (bridge.Retention): the holds
// in force, read back from the archive's hold events; the purge, which drops
// bodies, texts and media bytes but never a hash (the append-only triggers of
// migration 0005 allow exactly that); and the record of journaled days.

var _ bridge.Retention = (*DB)(nil)

// queryFunc is the one thing the readers below need of a pool or a transaction.
type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// Holds implements bridge.Retention.
func (db *DB) Holds(ctx context.Context, company bridge.CompanyID) ([]bridge.Hold, error) {
	return holdsIn(ctx, db.reads().QueryContext, company)
}

// holdsIn replays the company's hold events: a hold is in force from its
// KindHoldSet until a KindHoldLifted with the same id.
func holdsIn(ctx context.Context, q queryFunc, company bridge.CompanyID) ([]bridge.Hold, error) {
	rows, err := q(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND kind IN ($2, $3) ORDER BY at, thread, seq`,
		string(company), string(archive.KindHoldSet), string(archive.KindHoldLifted))
	if err != nil {
		return nil, fmt.Errorf("read the holds of %s: %w", company, err)
	}
	var order []string
	byID := map[string]bridge.Hold{}
	err = eachEvent(rows, func(e archive.Event) error {
		var b archive.HoldBody
		if err := e.Decode(&b); err != nil {
			return fmt.Errorf("hold event %s #%d: %w", e.Chain(), e.Seq, err)
		}
		if e.Kind == archive.KindHoldLifted {
			delete(byID, b.HoldID)
			return nil
		}
		if _, ok := byID[b.HoldID]; !ok {
			order = append(order, b.HoldID)
		}
		byID[b.HoldID] = bridge.Hold{ID: b.HoldID, Scope: bridge.HoldScope(b.Scope), Target: b.Target,
			Reason: b.Reason, By: b.By, SetAt: e.Time}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []bridge.Hold
	for _, id := range order {
		if h, ok := byID[id]; ok {
			out = append(out, h)
			delete(byID, id) // a hold set twice is listed once
		}
	}
	return out, nil
}

// MarkJournaled implements bridge.Retention.
func (db *DB) MarkJournaled(ctx context.Context, company bridge.CompanyID, thread string, day, at time.Time) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO archive_journaled (company, thread, day, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (company, thread, day) DO UPDATE SET at = excluded.at`,
		string(company), thread, archive.DayOf(day).Format(archive.DayLayout), micros(at))
	if err != nil {
		return fmt.Errorf("record journaled day %s of %s: %w", archive.DayOf(day).Format(archive.DayLayout), thread, err)
	}
	return nil
}

// Purge implements bridge.Retention, in one transaction that first takes the
// company chain's lock (PostgreSQL), where holds are set, so no hold set
// meanwhile is missed.
func (db *DB) Purge(ctx context.Context, r bridge.PurgeRequest) (bridge.PurgeResult, error) {
	var res bridge.PurgeResult
	err := db.Tx(ctx, func(btx bridge.Tx) error {
		t := btx.(*tx)
		res = bridge.PurgeResult{}
		if _, err := t.archiveHead(ctx, archive.ChainID{Company: string(r.Company), Thread: archive.CompanyThread}); err != nil {
			return err
		}
		p, err := t.newPurge(ctx, r)
		if err != nil {
			return err
		}
		for _, h := range p.holds {
			res.Holds = append(res.Holds, h.ID)
		}
		if res.Events, err = t.purgeEvents(ctx, p); err != nil {
			return err
		}
		if res.Messages, err = t.purgeMessages(ctx, p); err != nil {
			return err
		}
		if res.Media, err = t.purgeMedia(ctx, p); err != nil {
			return err
		}
		if res.Events+res.Messages+res.Media == 0 {
			return nil
		}
		return t.Archive(ctx, archive.Draft{Company: string(r.Company), Thread: archive.CompanyThread, Time: r.At,
			Kind: archive.KindPurge, Body: archive.PurgeBody{Before: r.Before, RetentionDays: r.RetentionDays,
				Events: res.Events + res.Messages + res.Media, Holds: res.Holds}})
	})
	return res, err
}

// purge is what one run decided before dropping anything.
type purge struct {
	bridge.PurgeRequest
	holds     []bridge.Hold
	held      map[string]bool // thread ids under a hold
	journaled map[[2]string]bool
	media     map[string]bool // refs of media to drop
}

// keeps reports whether the record of thread at time at must stay.
func (p *purge) keeps(thread string, at time.Time) bool {
	if !at.Before(p.Before) || p.held[thread] {
		return true
	}
	return p.JournaledOnly && !p.journaled[[2]string{thread, archive.DayOf(at).Format(archive.DayLayout)}]
}

func (t *tx) newPurge(ctx context.Context, r bridge.PurgeRequest) (*purge, error) {
	if err := t.flushArchive(ctx); err != nil { // the purge reads the archive
		return nil, err
	}
	p := &purge{PurgeRequest: r, held: map[string]bool{}, journaled: map[[2]string]bool{}, media: map[string]bool{}}
	var err error
	if p.holds, err = holdsIn(ctx, t.query, r.Company); err != nil {
		return nil, err
	}
	for _, h := range p.holds {
		var q string
		switch h.Scope {
		case bridge.HoldThread:
			p.held[h.Target] = true
			continue
		case bridge.HoldConsumer:
			q = `SELECT id FROM threads WHERE company = $1 AND consumer = $2`
		case bridge.HoldEmployee:
			// Every thread they are in now, wrote in, or were ever added to.
			q = `SELECT p.thread FROM participants p JOIN threads t ON t.id = p.thread WHERE t.company = $1 AND p.employee = $2
UNION SELECT m.thread FROM messages m JOIN threads t ON t.id = m.thread WHERE t.company = $1 AND m.author = $2`
		default:
			return nil, fmt.Errorf("hold %s has an unknown scope %q", h.ID, h.Scope)
		}
		if err := t.collect(ctx, p.held, q, string(r.Company), h.Target); err != nil {
			return nil, fmt.Errorf("threads under hold %s: %w", h.ID, err)
		}
	}
	if err := t.heldByParticipation(ctx, p); err != nil {
		return nil, err
	}
	if r.JournaledOnly {
		rows, err := t.query(ctx, `SELECT thread, day FROM archive_journaled WHERE company = $1`, string(r.Company))
		if err != nil {
			return nil, fmt.Errorf("read journaled days: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				return nil, fmt.Errorf("read journaled days: %w", err)
			}
			p.journaled[k] = true
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read journaled days: %w", err)
		}
	}
	return p, nil
}

// heldByParticipation adds the threads an employee under hold was added to and
// has since left: only the archive's participant events remember those.
func (t *tx) heldByParticipation(ctx context.Context, p *purge) error {
	employees := map[string]bool{}
	for _, h := range p.holds {
		if h.Scope == bridge.HoldEmployee {
			// The archive names employees by their Entra object id when known.
			employees[h.Target] = true
			if err := t.collect(ctx, employees, `SELECT aad_object_id FROM employees WHERE id = $1 AND aad_object_id <> ''`, h.Target); err != nil {
				return fmt.Errorf("employee under hold %s: %w", h.ID, err)
			}
		}
	}
	if len(employees) == 0 {
		return nil
	}
	rows, err := t.query(ctx, `SELECT `+archiveCols+` FROM archive_events WHERE company = $1 AND kind IN ($2, $3, $4)`,
		string(p.Company), string(archive.KindParticipantAdded), string(archive.KindParticipantRemoved), string(archive.KindParticipantLeft))
	if err != nil {
		return fmt.Errorf("read participant events: %w", err)
	}
	return eachEvent(rows, func(e archive.Event) error {
		var b archive.ParticipantBody
		if e.Decode(&b) == nil && employees[b.Employee.ID] {
			p.held[e.Thread] = true
		}
		return nil
	})
}

// collect adds the first column of the query's rows to set.
func (t *tx) collect(ctx context.Context, set map[string]bool, q string, args ...any) error {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		set[s] = true
	}
	return rows.Err()
}

// purgeEvents drops the bodies of the purgeable events p does not keep, and
// notes the media they recorded.
func (t *tx) purgeEvents(ctx context.Context, p *purge) (int64, error) {
	rows, err := t.query(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND at < $2 AND body IS NOT NULL ORDER BY thread, seq`, string(p.Company), micros(p.Before))
	if err != nil {
		return 0, fmt.Errorf("read archive events to purge: %w", err)
	}
	var drop []archive.Event
	if err := eachEvent(rows, func(e archive.Event) error {
		if e.Kind.Purgeable() && !p.keeps(e.Thread, e.Time) {
			drop = append(drop, e)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, e := range drop {
		if e.Kind == archive.KindMedia {
			var m archive.MediaBody
			if e.Decode(&m) == nil && m.Ref != "" {
				p.media[m.Ref] = true
			}
		}
		if _, err := t.exec(ctx, `UPDATE archive_events SET body = NULL WHERE company = $1 AND thread = $2 AND seq = $3`,
			e.Company, e.Thread, e.Seq); err != nil {
			return 0, fmt.Errorf("purge archive event %s #%d: %w", e.Chain(), e.Seq, err)
		}
	}
	return int64(len(drop)), nil
}

// purgeMessages empties the text and body of the messages p does not keep.
// Messages still waiting to be sent are kept: they are not records yet.
func (t *tx) purgeMessages(ctx context.Context, p *purge) (int64, error) {
	rows, err := t.query(ctx, `SELECT m.id, m.thread, m.at, m.body FROM messages m JOIN threads t ON t.id = m.thread
WHERE t.company = $1 AND m.at < $2 AND m.status NOT IN ($3, $4) AND (m.text <> '' OR m.body <> '{}')`,
		string(p.Company), micros(p.Before), string(bridge.StatusQueued), string(bridge.StatusSending))
	if err != nil {
		return 0, fmt.Errorf("read messages to purge: %w", err)
	}
	var drop []string
	for rows.Next() {
		var id, thread, body string
		var at int64
		if err := rows.Scan(&id, &thread, &at, &body); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read messages to purge: %w", err)
		}
		if p.keeps(thread, fromMicros(at)) {
			continue
		}
		var c bridge.Content
		if json.Unmarshal([]byte(body), &c) == nil && c.MediaRef != "" {
			p.media[c.MediaRef] = true
		}
		drop = append(drop, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read messages to purge: %w", err)
	}
	for _, id := range drop {
		if _, err := t.exec(ctx, `UPDATE messages SET text = '', body = '{}' WHERE id = $1`, id); err != nil {
			return 0, fmt.Errorf("purge message %s: %w", id, err)
		}
	}
	return int64(len(drop)), t.purgeAudit(ctx, p)
}

// purgeAudit empties the details and actions of old audit records, which
// repeat the messages' texts; which decision was taken when stays.
func (t *tx) purgeAudit(ctx context.Context, p *purge) error {
	threads := map[string]bool{}
	if err := t.collect(ctx, threads, `SELECT DISTINCT a.thread FROM audit a JOIN threads t ON t.id = a.thread
WHERE t.company = $1 AND a.at < $2 AND (a.detail <> 'null' OR a.actions <> 'null')`, string(p.Company), micros(p.Before)); err != nil {
		return fmt.Errorf("read audit records to purge: %w", err)
	}
	for th := range threads {
		if p.held[th] {
			continue
		}
		// Journaling does not carry the audit log, so only the days of
		// messages already journaled go with JournaledOnly: their records are
		// purged day by day below.
		q := `UPDATE audit SET detail = 'null', actions = 'null' WHERE thread = $1 AND at < $2`
		if !p.JournaledOnly {
			if _, err := t.exec(ctx, q, th, micros(p.Before)); err != nil {
				return fmt.Errorf("purge the audit of %s: %w", th, err)
			}
			continue
		}
		for k := range p.journaled {
			if k[0] != th {
				continue
			}
			day, err := time.Parse(archive.DayLayout, k[1])
			if err != nil || !day.Before(p.Before) {
				continue
			}
			end := day.AddDate(0, 0, 1)
			if end.After(p.Before) {
				end = p.Before
			}
			if _, err := t.exec(ctx, q+` AND at >= $3`, th, micros(end), micros(day)); err != nil {
				return fmt.Errorf("purge the audit of %s: %w", th, err)
			}
		}
	}
	return nil
}

// purgeMedia deletes the bytes of the media the purged records referred to;
// exports then report them gone (archive.ErrMediaGone), and their hashes stay
// in the archive.
func (t *tx) purgeMedia(ctx context.Context, p *purge) (int64, error) {
	var n int64
	for ref := range p.media {
		r, err := t.exec(ctx, `DELETE FROM media WHERE ref = $1 AND company = $2`, ref, string(p.Company))
		if err != nil {
			return 0, fmt.Errorf("purge media %s: %w", ref, err)
		}
		k, _ := r.RowsAffected()
		n += k
	}
	return n, nil
}
