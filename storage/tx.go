package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/multiline/multiline/bridge"
)

// Tx runs fn in a transaction and commits if fn returns nil; otherwise (or if fn
// panics) it rolls back and returns fn's error.
func (db *DB) Tx(ctx context.Context, fn func(bridge.Tx) error) (err error) {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &tx{db: db, tx: stx}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		db.prepare(ctx, t.unprepared)
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.prepare(ctx, t.unprepared)
	return nil
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

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// scanOne runs a one-row query; a missing row becomes notFound (wrapped).
func (t *tx) scanOne(ctx context.Context, notFound error, what string, query string, args []any, dest ...any) error {
	s, err := t.stmt(ctx, query)
	if err != nil {
		return err
	}
	err = s.QueryRowContext(ctx, args...).Scan(dest...)
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
