package storage

import (
	"context"
	"database/sql"

	"github.com/multiline/multiline/bridge"
)

// sqliteReaderPragmas open SQLite's reading pool: query_only refuses any
// write, and a deferred BEGIN takes no lock until the first read, which in WAL
// mode is a snapshot that neither waits for the writer nor makes it wait.
const sqliteReaderPragmas = "_pragma=busy_timeout(10000)&_pragma=query_only(1)&_txlock=deferred"

// sqliteReaders is the size of SQLite's reading pool: readers run beside the
// one writer and beside each other, one per core of the machines we measured.
const sqliteReaders = 2

var _ bridge.ReadStore = (*DB)(nil)

// ReadTx runs fn in a read-only transaction: it sees one consistent snapshot,
// takes no row lock (LoadThread's FOR UPDATE is left out) and, on SQLite, does
// not take the write lock, so the tab's reads neither wait for the jobs'
// writes nor hold them up. A write inside fn fails (SQLite's query_only,
// PostgreSQL's READ ONLY) and nothing is changed.
func (db *DB) ReadTx(ctx context.Context, fn func(bridge.Tx) error) error {
	r := db.reader
	if r == nil {
		r = db
	}
	return r.Tx(ctx, fn)
}

// reads is the pool for reads outside a transaction (the operators' and the
// reviewers' views, media, tokens): on SQLite the reading pool, so that they
// neither wait for nor hold up the writer's one connection.
func (db *DB) reads() *sql.DB {
	if db.reader != nil {
		return db.reader.sql
	}
	return db.sql
}
