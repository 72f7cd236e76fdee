package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
)

// maxTxRuns is how many times Tx runs a transaction that PostgreSQL ended with
// a deadlock or a serialization failure (or that found an employee changed under
// it) before it gives up and returns the error.
const maxTxRuns = 4

// Tx runs fn in a transaction and commits if fn returns nil; otherwise (or if fn
// panics) it rolls back and returns fn's error.
//
// A transaction that conflicted with another (PostgreSQL's deadlock 40P01 or
// serialization failure 40001, or errEmployeeChanged) is run again, fn and all,
// in a fresh transaction, up to maxTxRuns times: nothing of the failed run was
// committed, and fn must only touch the database (the bridge's transactions
// do). The lock order in doc.go is what keeps deadlocks from happening in the
// first place; the retry is for what no order can rule out.
func (db *DB) Tx(ctx context.Context, fn func(bridge.Tx) error) error {
	for run := 1; ; run++ {
		err, conflict := db.runTx(ctx, fn)
		if conflict == "" {
			return err
		}
		metrics.Conflict(conflict)
		if run >= maxTxRuns || ctx.Err() != nil {
			return err
		}
		// A short, growing, jittered pause: the winner of the conflict is
		// finishing, and two losers should not collide again in lockstep.
		pause := time.Duration(run)*time.Millisecond + rand.N(time.Duration(run)*2*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// runTx runs fn once in a transaction. conflict names the conflict ("deadlock",
// "serialization") that ended it, if one did.
func (db *DB) runTx(ctx context.Context, fn func(bridge.Tx) error) (err error, conflict string) {
	start := time.Now()
	var opts *sql.TxOptions
	if db.readOnly && db.dialect == dialectPostgres {
		opts = &sql.TxOptions{ReadOnly: true}
	}
	stx, err := db.sql.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err), ""
	}
	t := &tx{db: db, tx: stx}
	committed := false
	defer func() { metrics.Transaction(time.Since(start), committed) }()
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		db.prepare(ctx, t.unprepared)
		return err, cmp.Or(conflictKind(err), t.conflict)
	}
	if err := t.flushArchive(ctx); err != nil {
		_ = stx.Rollback()
		db.prepare(ctx, t.unprepared)
		return err, cmp.Or(conflictKind(err), t.conflict)
	}
	if err := t.flushOutbox(ctx); err != nil {
		_ = stx.Rollback()
		db.prepare(ctx, t.unprepared)
		return err, cmp.Or(conflictKind(err), t.conflict)
	}
	if err := t.notify(ctx); err != nil {
		_ = stx.Rollback()
		return err, cmp.Or(conflictKind(err), t.conflict)
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err), cmp.Or(conflictKind(err), t.conflict)
	}
	committed = true
	db.prepare(ctx, t.unprepared)
	db.finished.add(t.completed)
	if db.dialect == dialectSQLite && !t.changes.empty() {
		db.deliver(context.WithoutCancel(ctx), notice{Jobs: t.changes.jobs, Threads: t.changes.list()})
	}
	return nil, ""
}

// conflictKind classifies err: "deadlock" for PostgreSQL's 40P01,
// "serialization" for 40001 or errEmployeeChanged, "" for anything else.
func conflictKind(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, errEmployeeChanged) {
		return "serialization"
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pe.Code {
		case "40P01":
			return "deadlock"
		case "40001":
			return "serialization"
		}
	}
	return ""
}

// prepare caches statements a transaction had to prepare for itself. It runs
// after the transaction, because with SQLite's single connection a statement can
// only be prepared on the pool while no transaction holds that connection.
func (db *DB) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		_, _ = db.stmt(ctx, q) // a failure here only means preparing again next time
	}
}

// tx is one transaction; it implements bridge.Tx.
type tx struct {
	db *DB
	tx *sql.Tx
	// stmts holds the statements bound to this transaction, so a transaction that
	// inserts a hundred messages binds the insert once.
	stmts map[string]*sql.Stmt
	// unprepared lists the queries not yet in the DB's cache.
	unprepared []string
	// participants remembers each thread's participant rows as this transaction
	// read or wrote them, so that SaveThread after LoadThread (the usual pair)
	// need not read them again.
	participants map[bridge.ThreadID][]bridge.EmployeeID
	// employees holds the version of each employee row as this transaction
	// first read it (or last wrote it), which SaveEmployee checks.
	employees map[bridge.EmployeeID]int64
	// heads are the archive chains' heads as this transaction appended to them
	// (see Archive).
	heads map[archive.ChainID]archive.Head
	// archived holds the archive drafts appended, sealed and written when the
	// transaction ends or reads the archive (archive.go).
	archived []archive.Draft
	// outbox holds the jobs enqueued, written when the transaction ends; the
	// lanes whose pending rows it deleted already (outbox.go).
	outbox       []bridge.Job
	clearedLanes []string
	// completed are the jobs CompleteJob deleted.
	completed []int64
	// changes are what the transaction wrote that runners and tabs wait for
	// (changes.go).
	changes changeSet
	// conflict is set when a statement failed with a deadlock or serialization
	// failure, in case fn went on and returned some other error (the statements
	// after it fail with "current transaction is aborted").
	conflict string
}

var _ bridge.Tx = (*tx)(nil)

func (t *tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if ps, ok := t.db.stmts.Load(query); ok {
		s = t.tx.StmtContext(ctx, ps.(*sql.Stmt))
	} else {
		var err error
		if s, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
		}
		t.unprepared = append(t.unprepared, query)
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = s
	return s, nil
}

// notifySQL sends a transaction's notices (PostgreSQL: they are delivered when
// it commits).
const notifySQL = `SELECT pg_notify($1, p) FROM unnest(CAST($2 AS text[])) AS p`

// notify sends the transaction's notices as its last statement, on PostgreSQL;
// SQLite's are delivered in-process after the commit (runTx).
func (t *tx) notify(ctx context.Context) error {
	if t.db.dialect != dialectPostgres || t.changes.empty() || t.db.quiet {
		return nil
	}
	if _, err := t.exec(ctx, notifySQL, t.db.channel, t.changes.payloads()); err != nil {
		return fmt.Errorf("notify the other replicas: %w", err)
	}
	return nil
}

// noteConflict remembers a statement's deadlock or serialization failure.
func (t *tx) noteConflict(err error) error {
	if k := conflictKind(err); k != "" && t.conflict == "" {
		t.conflict = k
	}
	return err
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, t.noteConflict(err)
	}
	res, err := s.ExecContext(ctx, args...)
	return res, t.noteConflict(err)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, t.noteConflict(err)
	}
	rows, err := s.QueryContext(ctx, args...)
	return rows, t.noteConflict(err)
}

// scanOne runs a one-row query; a missing row becomes notFound (wrapped).
func (t *tx) scanOne(ctx context.Context, notFound error, what string, query string, args []any, dest ...any) error {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return err
	}
	err = t.noteConflict(s.QueryRowContext(ctx, args...).Scan(dest...))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", notFound, what)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// affected returns notFound (wrapped) when an update touched no row.
func affected(res sql.Result, err error, notFound error, what string) error {
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", notFound, what)
	}
	return nil
}
