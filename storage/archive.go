package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// This file keeps the compliance record: archive events appended inside the
// bridge's transactions (Tx.Archive), and read back for verification and export
// (DB implements archive.Reader). Nothing here updates or deletes an event.

// archiveLockClass is the first key of the PostgreSQL advisory lock that
// serialises appends to a company chain. The two-key form is a key space apart
// from the one-key locks of migrations and job claims.
const archiveLockClass = 0x61726368 // "arch"

const archiveCols = `company, thread, seq, at, kind, body, body_hash, prev, hash`

var _ archive.Reader = (*DB)(nil)

// Archive implements bridge.Tx: the drafts wait in the transaction until it
// ends (or until it reads the archive), and are then sealed onto their chains'
// heads and inserted together (flushArchive), as the jobs outbox does: a page
// of a hundred consumer messages costs one head query and one insert on
// PostgreSQL, not two round trips a message. A draft that cannot be sealed
// fails the transaction when it ends.
func (t *tx) Archive(ctx context.Context, drafts ...archive.Draft) error {
	t.archived = append(t.archived, drafts...)
	return nil
}

// flushArchive seals and inserts the waiting drafts. Each chain's head is read
// once per transaction (on PostgreSQL, the thread chains' heads of a company
// in one query), then followed in memory.
func (t *tx) flushArchive(ctx context.Context) error {
	drafts := t.archived
	t.archived = nil
	if len(drafts) == 0 {
		return nil
	}
	if err := t.readHeads(ctx, drafts); err != nil {
		return err
	}
	events := make([]archive.Event, 0, len(drafts))
	for _, d := range drafts {
		id := archive.ChainID{Company: d.Company, Thread: d.Thread}
		head, err := t.archiveHead(ctx, id)
		if err != nil {
			return err
		}
		e, err := archive.Seal(head, d)
		if err != nil {
			return fmt.Errorf("archive %s: %w", id, err)
		}
		events = append(events, e)
		t.heads[id] = archive.HeadOf(e)
	}
	return t.insertEvents(ctx, events)
}

const insertEvent = `INSERT INTO archive_events (` + archiveCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// The rows of a multi-row insert travel as arrays (PostgreSQL) or as one JSON
// list of rows (SQLite).
const (
	insertEventsPostgres = `INSERT INTO archive_events (` + archiveCols + `)
SELECT * FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS bigint[]), CAST($4 AS bigint[]),
  CAST($5 AS text[]), CAST($6 AS text[]), CAST($7 AS bytea[]), CAST($8 AS bytea[]), CAST($9 AS bytea[]))`
)

// sqliteEventRows is the most rows of one SQLite insert: 9 parameters a row,
// far below SQLite's limit of 32,766. Bound parameters cost SQLite less than a
// JSON array it must parse (measured: the capture's share of a page of a
// hundred messages).
const sqliteEventRows = 100

// insertEventsSQLite is the multi-row insert of n events.
func insertEventsSQLite(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO archive_events (` + archiveCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", 9*i+1, 9*i+2, 9*i+3, 9*i+4, 9*i+5, 9*i+6, 9*i+7, 9*i+8, 9*i+9)
	}
	return b.String()
}

func sqliteEventArgs(es []archive.Event) []any {
	args := make([]any, 0, 9*len(es))
	for _, e := range es {
		args = append(args, e.Company, e.Thread, e.Seq, micros(e.Time), string(e.Kind), string(e.Body), e.BodyHash[:], e.Prev[:], e.Hash[:])
	}
	return args
}

func (t *tx) insertEvents(ctx context.Context, es []archive.Event) error {
	if len(es) == 1 {
		e := es[0]
		if _, err := t.exec(ctx, insertEvent, e.Company, e.Thread, e.Seq, micros(e.Time), string(e.Kind), string(e.Body), e.BodyHash[:], e.Prev[:], e.Hash[:]); err != nil {
			return fmt.Errorf("archive %s event %d: %w", archive.ChainID{Company: e.Company, Thread: e.Thread}, e.Seq, err)
		}
		return nil
	}
	var err error
	if t.db.dialect == dialectPostgres {
		n := len(es)
		companies, threads, kinds, bodies := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, ats := make([]int64, n), make([]int64, n)
		bodyHashes, prevs, hashes := make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, e := range es {
			companies[i], threads[i], seqs[i], ats[i], kinds[i], bodies[i] = e.Company, e.Thread, e.Seq, micros(e.Time), string(e.Kind), string(e.Body)
			bodyHashes[i], prevs[i], hashes[i] = e.BodyHash[:], e.Prev[:], e.Hash[:]
		}
		_, err = t.exec(ctx, insertEventsPostgres, companies, threads, seqs, ats, kinds, bodies, bodyHashes, prevs, hashes)
	} else {
		for len(es) > 0 && err == nil {
			n := min(len(es), sqliteEventRows)
			_, err = t.exec(ctx, insertEventsSQLite(n), sqliteEventArgs(es[:n])...)
			es = es[n:]
		}
	}
	if err != nil {
		return fmt.Errorf("archive %d events: %w", len(es), err)
	}
	return nil
}

// headsPostgres reads the heads of a company's thread chains, one index step
// each.
const headsPostgres = `SELECT c.thread, h.seq, h.hash FROM unnest(CAST($2 AS text[])) AS c(thread)
CROSS JOIN LATERAL (SELECT seq, hash FROM archive_events WHERE company = $1 AND thread = c.thread ORDER BY seq DESC LIMIT 1) h`

// headsChunk bounds the threads of one head query (SQLite's bound parameters).
const headsChunk = 500

// readHeadsOf reads the heads of threads, chains of company, in one query.
func (t *tx) readHeadsOf(ctx context.Context, company string, threads []string) error {
	var rows *sql.Rows
	var err error
	if t.db.dialect == dialectPostgres {
		rows, err = t.query(ctx, headsPostgres, company, threads)
	} else {
		args := []any{company}
		for _, th := range threads {
			args = append(args, th)
		}
		rows, err = t.query(ctx, headsSQLite(len(threads)), args...)
	}
	if err != nil {
		return fmt.Errorf("archive heads of %d threads of %s: %w", len(threads), company, err)
	}
	defer rows.Close()
	for _, th := range threads {
		t.heads[archive.ChainID{Company: company, Thread: th}] = archive.Head{} // empty unless a row says otherwise
	}
	for rows.Next() {
		var th string
		var h archive.Head
		var hash []byte
		if err := rows.Scan(&th, &h.Seq, &hash); err != nil {
			return fmt.Errorf("archive heads of %s: %w", company, err)
		}
		if len(hash) != len(h.Hash) {
			return fmt.Errorf("archive head of %s/%s: hash of %d bytes", company, th, len(hash))
		}
		copy(h.Hash[:], hash)
		t.heads[archive.ChainID{Company: company, Thread: th}] = h
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("archive heads of %s: %w", company, err)
	}
	return nil
}

// headsSQLite is headsPostgres for SQLite, whose MAX() gives the other bare
// columns of the row it picked (documented SQLite behaviour), through the
// primary key's index.
func headsSQLite(n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	return `SELECT thread, MAX(seq), hash FROM archive_events WHERE company = $1 AND thread IN (` + strings.Join(ph, ", ") + `) GROUP BY thread`
}

// readHeads reads the heads of the thread chains that drafts append to and
// this transaction has not read yet, one query per company (archiveHead reads
// the rest, one by one: a company chain takes its lock first).
func (t *tx) readHeads(ctx context.Context, drafts []archive.Draft) error {
	if t.heads == nil {
		t.heads = map[archive.ChainID]archive.Head{}
	}
	want, seen := map[string][]string{}, map[archive.ChainID]bool{}
	for _, d := range drafts {
		id := archive.ChainID{Company: d.Company, Thread: d.Thread}
		if _, ok := t.heads[id]; ok || id.Thread == archive.CompanyThread || seen[id] {
			continue
		}
		seen[id] = true
		want[id.Company] = append(want[id.Company], id.Thread)
	}
	for company, threads := range want {
		if len(threads) < 2 {
			continue
		}
		for len(threads) > 0 {
			n := min(len(threads), headsChunk)
			if err := t.readHeadsOf(ctx, company, threads[:n]); err != nil {
				return err
			}
			threads = threads[n:]
		}
	}
	return nil
}

// archiveHead is the chain's head as this transaction sees it. The company
// chain is locked first on PostgreSQL: its appends (admin changes, anchors)
// hold no thread lock, so nothing waits on a thread while holding it.
func (t *tx) archiveHead(ctx context.Context, id archive.ChainID) (archive.Head, error) {
	if h, ok := t.heads[id]; ok {
		return h, nil
	}
	if t.heads == nil {
		t.heads = map[archive.ChainID]archive.Head{}
	}
	if id.Thread == archive.CompanyThread && t.db.dialect == dialectPostgres {
		if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, archiveLockClass, companyLockKey(id.Company)); err != nil {
			return archive.Head{}, fmt.Errorf("lock the archive chain of %s: %w", id.Company, err)
		}
	}
	var h archive.Head
	var hash []byte
	err := t.scanOne(ctx, errNoHead, "archive head of "+id.String(),
		`SELECT seq, hash FROM archive_events WHERE company = $1 AND thread = $2 ORDER BY seq DESC LIMIT 1`,
		[]any{id.Company, id.Thread}, &h.Seq, &hash)
	switch {
	case errors.Is(err, errNoHead):
		h = archive.Head{}
	case err != nil:
		return archive.Head{}, err
	default:
		if len(hash) != len(h.Hash) {
			return archive.Head{}, fmt.Errorf("archive head of %s: hash of %d bytes", id, len(hash))
		}
		copy(h.Hash[:], hash)
	}
	t.heads[id] = h
	return h, nil
}

// errNoHead marks an empty chain while reading its head.
var errNoHead = errors.New("empty chain")

// companyLockKey maps a company to the second key of its advisory lock.
func companyLockKey(company string) int32 {
	h := fnv.New32a()
	h.Write([]byte(company))
	return int32(h.Sum32())
}

// ArchiveHeads implements bridge.Tx: the last event of every thread chain of
// the company, for the daily anchor.
func (t *tx) ArchiveHeads(ctx context.Context, company bridge.CompanyID) ([]archive.ThreadHead, error) {
	if err := t.flushArchive(ctx); err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT e.thread, e.seq, e.hash FROM archive_events e
JOIN (SELECT thread, MAX(seq) AS seq FROM archive_events WHERE company = $1 AND thread <> $2 GROUP BY thread) h
  ON e.thread = h.thread AND e.seq = h.seq
WHERE e.company = $1`, string(company), archive.CompanyThread)
	if err != nil {
		return nil, fmt.Errorf("archive heads of %s: %w", company, err)
	}
	defer rows.Close()
	var out []archive.ThreadHead
	for rows.Next() {
		var th archive.ThreadHead
		var hash []byte
		if err := rows.Scan(&th.Thread, &th.Seq, &hash); err != nil {
			return nil, fmt.Errorf("archive heads of %s: %w", company, err)
		}
		copy(th.Hash[:], hash)
		out = append(out, th)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("archive heads of %s: %w", company, err)
	}
	return out, nil
}

// Chains implements archive.Reader: every chain that has an event.
func (db *DB) Chains(ctx context.Context) ([]archive.ChainID, error) {
	rows, err := db.reads().QueryContext(ctx, `SELECT DISTINCT company, thread FROM archive_events`)
	if err != nil {
		return nil, fmt.Errorf("list archive chains: %w", err)
	}
	defer rows.Close()
	var out []archive.ChainID
	for rows.Next() {
		var id archive.ChainID
		if err := rows.Scan(&id.Company, &id.Thread); err != nil {
			return nil, fmt.Errorf("list archive chains: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list archive chains: %w", err)
	}
	return out, nil
}

// Events implements archive.Reader: the chain's events as stored, by seq.
func (db *DB) Events(ctx context.Context, id archive.ChainID, fn func(archive.Event) error) error {
	rows, err := db.reads().QueryContext(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND thread = $2 ORDER BY seq`, id.Company, id.Thread)
	if err != nil {
		return fmt.Errorf("read archive chain %s: %w", id, err)
	}
	return eachEvent(rows, fn)
}

// ArchiveEvents calls fn with every event of the company whose time is in
// [from, to), chain by chain and in seq order within each: what an export of
// those days holds.
func (db *DB) ArchiveEvents(ctx context.Context, company string, from, to time.Time, fn func(archive.Event) error) error {
	rows, err := db.reads().QueryContext(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND at >= $2 AND at < $3 ORDER BY thread, seq`, company, micros(from), micros(to))
	if err != nil {
		return fmt.Errorf("read archive events of %s: %w", company, err)
	}
	return eachEvent(rows, fn)
}

// ArchiveChainBefore calls fn with the events of one chain whose time is before
// t, in seq order: what happened in a thread before a day being exported (who
// was in it when the day began).
func (db *DB) ArchiveChainBefore(ctx context.Context, id archive.ChainID, t time.Time, fn func(archive.Event) error) error {
	rows, err := db.reads().QueryContext(ctx, `SELECT `+archiveCols+` FROM archive_events
WHERE company = $1 AND thread = $2 AND at < $3 ORDER BY seq`, id.Company, id.Thread, micros(t))
	if err != nil {
		return fmt.Errorf("read archive chain %s: %w", id, err)
	}
	return eachEvent(rows, fn)
}

// ArchiveCompanies lists the companies that have archive events.
func (db *DB) ArchiveCompanies(ctx context.Context) ([]string, error) {
	rows, err := db.reads().QueryContext(ctx, `SELECT DISTINCT company FROM archive_events ORDER BY company`)
	if err != nil {
		return nil, fmt.Errorf("list archive companies: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("list archive companies: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list archive companies: %w", err)
	}
	return out, nil
}

// eachEvent scans rows of archiveCols into events for fn, and closes them.
func eachEvent(rows *sql.Rows, fn func(archive.Event) error) error {
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read archive events: %w", err)
	}
	return nil
}

func scanEvent(r rowScanner) (archive.Event, error) {
	var e archive.Event
	var at int64
	var kind string
	var body sql.NullString
	var bodyHash, prev, hash []byte
	if err := r.Scan(&e.Company, &e.Thread, &e.Seq, &at, &kind, &body, &bodyHash, &prev, &hash); err != nil {
		return e, fmt.Errorf("read archive event: %w", err)
	}
	e.Time, e.Kind = fromMicros(at), archive.Kind(kind)
	if body.Valid {
		e.Body = []byte(body.String)
	}
	// A hash of the wrong length (tampering) reads as a different hash, which
	// Verify reports; it is not a reason to stop reading.
	copy(e.BodyHash[:], bodyHash)
	copy(e.Prev[:], prev)
	copy(e.Hash[:], hash)
	return e, nil
}

// MediaInfo implements bridge.Tx: a stored media item's type, name, size and
// SHA-256 (computed when it was stored; hashed now for media stored before).
func (t *tx) MediaInfo(ctx context.Context, ref string) (bridge.MediaInfo, error) {
	var m bridge.MediaInfo
	var sum string
	if err := t.scanOne(ctx, bridge.ErrNotFound, "media "+ref,
		`SELECT content_type, file_name, size, sha256 FROM media WHERE ref = $1`, []any{ref},
		&m.ContentType, &m.FileName, &m.Size, &sum); err != nil {
		return m, err
	}
	if h, err := archive.ParseHash(sum); err == nil {
		m.SHA256 = h
		return m, nil
	}
	var data []byte
	if err := t.scanOne(ctx, bridge.ErrNotFound, "media "+ref, `SELECT bytes FROM media WHERE ref = $1`, []any{ref}, &data); err != nil {
		return m, err
	}
	m.SHA256 = archive.Sum(data)
	return m, nil
}

// OpenMedia implements archive.MediaSource for EML exports: the bytes of a
// recorded media item, or archive.ErrMediaGone when they are no longer stored.
func (db *DB) OpenMedia(ctx context.Context, m archive.MediaBody) (io.ReadCloser, error) {
	if m.Ref == "" {
		return nil, fmt.Errorf("media of message %s has no ref: %w", m.MessageID, archive.ErrMediaGone)
	}
	_, _, data, err := db.Media(ctx, m.Ref)
	if errors.Is(err, bridge.ErrNotFound) {
		return nil, fmt.Errorf("media %s: %w", m.Ref, archive.ErrMediaGone)
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

var _ archive.Source = (*DB)(nil)

// ArchiveConversation implements archive.Source: the thread's consumer (WeChat
// id and nickname as stored now) and WeChat account. A thread whose row is gone
// is described by its id alone; its events still export.
func (db *DB) ArchiveConversation(ctx context.Context, company, thread string) (archive.Conversation, error) {
	c := archive.Conversation{Company: company, Thread: thread, Consumer: archive.Party{Role: archive.RoleConsumer}}
	var name sql.NullString
	err := db.reads().QueryRowContext(ctx, `SELECT t.consumer, t.account, c.name FROM threads t
LEFT JOIN consumers c ON c.company = t.company AND c.id = t.consumer
WHERE t.id = $1 AND t.company = $2`, thread, company).Scan(&c.Consumer.ID, &c.Account, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("describe thread %s: %w", thread, err)
	}
	c.Consumer.Name = name.String
	return c, nil
}

// addressChunk bounds the ids of one ArchiveAddresses query (SQLite's limit
// of bound parameters is far above it).
const addressChunk = 200

// ArchiveAddresses implements archive.Source: the user principal names the
// employees table holds now for the parties the record names by ids (their
// Entra object id, or the bridge's id for an employee without one).
func (db *DB) ArchiveAddresses(ctx context.Context, company string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for len(ids) > 0 {
		n := min(len(ids), addressChunk)
		chunk := ids[:n]
		ids = ids[n:]
		ph := make([]string, len(chunk))
		args := []any{company}
		for i, id := range chunk {
			ph[i] = fmt.Sprintf("$%d", i+2)
			args = append(args, id)
		}
		in := strings.Join(ph, ", ")
		rows, err := db.reads().QueryContext(ctx, `SELECT id, aad_object_id, upn FROM employees
WHERE company = $1 AND upn <> '' AND (aad_object_id IN (`+in+`) OR id IN (`+in+`))`, args...)
		if err != nil {
			return nil, fmt.Errorf("archive addresses of %s: %w", company, err)
		}
		for rows.Next() {
			var id, oid, upn string
			if err := rows.Scan(&id, &oid, &upn); err != nil {
				rows.Close()
				return nil, fmt.Errorf("archive addresses of %s: %w", company, err)
			}
			// The record names an employee by object id when they have one.
			if oid != "" && slices.Contains(chunk, oid) {
				out[oid] = upn
			}
			if slices.Contains(chunk, id) {
				out[id] = upn
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("archive addresses of %s: %w", company, err)
		}
	}
	return out, nil
}
