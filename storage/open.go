package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

type dialect string

const (
	dialectSQLite   dialect = "sqlite"
	dialectPostgres dialect = "postgres"
)

// ErrUnsupportedURL is returned by Open for a database URL it cannot use.
var ErrUnsupportedURL = errors.New("unsupported database URL (use sqlite:PATH or postgres://…)")

// DB is the SQLite or PostgreSQL store. It implements bridge.Store, runs the job
// queue (RunJobs), and keeps the token cache and the media the bridge stores.
type DB struct {
	sql     *sql.DB
	dialect dialect
	wake    chan struct{}
	// stmts caches prepared statements by SQL text: modernc's SQLite driver has no
	// statement cache of its own, and re-preparing was the largest cost measured.
	stmts sync.Map
	// lock is appended to SELECTs that must lock their rows (PostgreSQL only; a
	// SQLite write transaction holds the whole database already).
	lock string

	// url and channel are PostgreSQL's: the listener connects to url and
	// listens on channel, which transactions notify (listen.go).
	url, channel string
	// finished are jobs their handlers deleted already (completed.go).
	finished finished
	// quiet turns the transactions' notices off (a benchmark's baseline).
	quiet bool
	// watch holds this process's live-update streams (watch.go).
	watch watchers
	// reader runs ReadTx (read.go): on SQLite a pool of its own, on
	// PostgreSQL the same pool in READ ONLY transactions. readOnly marks the
	// reader itself.
	reader   *DB
	readOnly bool
	// The listener, started by the first RunJobs or WatchEmployee.
	listenOnce sync.Once
	listenStop context.CancelFunc
	listenDone chan struct{}
}

// PostgresMaxConns is the PostgreSQL connection pool size of one DB.
const PostgresMaxConns = 10

// Open connects to url: "sqlite:PATH" (the directory is created if missing) or
// "postgres://…" / "postgresql://…". It does not migrate, but it refuses a database
// whose schema is newer than this binary (see Migrate).
func Open(ctx context.Context, rawURL string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		db, err = openSQLite(rawURL)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(rawURL)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedURL, redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.dialect == dialectPostgres {
		var schema string
		if err := db.sql.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("read the current schema: %w", err)
		}
		db.channel = channelFor(schema)
	}
	return db, nil
}

// sqlitePragmas are measured settings: WAL with synchronous=NORMAL keeps commits
// durable across a process crash (only an OS crash may lose the last ones) at a
// fraction of FULL's cost; busy_timeout makes a second process wait instead of
// failing; _txlock=immediate takes the write lock at BEGIN, so two processes never
// deadlock upgrading a read to a write.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"

func openSQLite(rawURL string) (*DB, error) {
	path := strings.TrimPrefix(rawURL, "sqlite:")
	path = strings.TrimPrefix(path, "//") // sqlite:///abs/path
	if path == "" {
		return nil, fmt.Errorf("%w: sqlite URL has no path", ErrUnsupportedURL)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	s, err := sql.Open("sqlite", "file:"+path+"?"+sqlitePragmas)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One connection: SQLite allows one writer anyway, and more connections were
	// measured to starve each other; it also makes :memory: one database.
	s.SetMaxOpenConns(1)
	s.SetMaxIdleConns(1)
	s.SetConnMaxLifetime(0)
	s.SetConnMaxIdleTime(0)
	db := &DB{sql: s, dialect: dialectSQLite, wake: make(chan struct{}, 1)}
	if path == ":memory:" {
		db.reader = db // one connection is the whole database
		return db, nil
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+sqliteReaderPragmas)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	db.reader = &DB{sql: r, dialect: dialectSQLite, readOnly: true}
	return db, nil
}

func openPostgres(rawURL string) (*DB, error) {
	s, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", redact(rawURL), err)
	}
	s.SetMaxOpenConns(PostgresMaxConns)
	s.SetMaxIdleConns(PostgresMaxConns)
	db := &DB{sql: s, dialect: dialectPostgres, wake: make(chan struct{}, 1), lock: " FOR UPDATE", url: rawURL}
	db.reader = &DB{sql: s, dialect: dialectPostgres, readOnly: true}
	return db, nil
}

// redact hides a URL's password for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("%s database unreachable: %w", db.dialect, err)
	}
	return nil
}

// Close stops the listener and closes the database.
func (db *DB) Close() error {
	db.stopListening()
	if r := db.reader; r != nil && r != db {
		r.stmts.Range(func(_, v any) bool {
			_ = v.(*sql.Stmt).Close()
			return true
		})
		if r.sql != db.sql {
			_ = r.sql.Close()
		}
	}
	db.stmts.Range(func(_, v any) bool {
		_ = v.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// Dialect reports "sqlite" or "postgres".
func (db *DB) Dialect() string { return string(db.dialect) }

// Wake tells this process's job runners that jobs are due. Runners of other
// replicas hear of jobs through NOTIFY instead (listen.go), sent by the
// transaction that enqueued them.
func (db *DB) Wake() {
	select {
	case db.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// stmt returns the prepared statement for query, preparing it once per DB.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i] + "…"
	}
	return q
}
