// Package pgtest gives tests a PostgreSQL schema of their own on the test server.
//
// CI runs PostgreSQL on 127.0.0.1:5432, so a test that needs it fails when it is
// unreachable; MULTILINE_SKIP_POSTGRES=1 skips such tests explicitly.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// DefaultURL is the test server: user postgres, trust auth, database test.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the test server's URL: MULTILINE_TEST_POSTGRES_URL or DefaultURL.
func URL(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("MULTILINE_SKIP_POSTGRES") == "1" {
		tb.Skip("MULTILINE_SKIP_POSTGRES=1")
	}
	if u := os.Getenv("MULTILINE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a fresh schema, drops it when the test ends, and returns a URL
// whose connections use it (search_path).
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		tb.Fatalf("PostgreSQL at %s is needed (set MULTILINE_SKIP_POSTGRES=1 to skip): %v", base, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + name + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Database creates a fresh database (not only a schema) on the test server,
// drops it when the test ends, and returns its URL and its name. Tests that read
// per-database statistics (pg_stat_database) need one of their own, since the
// shared test database counts every other test's work too.
func Database(tb testing.TB) (dbURL, name string) {
	tb.Helper()
	base := URL(tb)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	name = "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		tb.Fatalf("PostgreSQL at %s is needed (set MULTILINE_SKIP_POSTGRES=1 to skip): %v", base, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String(), name
}

// Deadlocks reads pg_stat_database.deadlocks of database name (one made by
// Database) once no backend is connected to it: a backend reports a deadlock it
// detected at its next statistics flush, and at the latest when it exits, so
// close every pool on the database before calling it. It fails the test if
// backends stay connected for a minute.
func Deadlocks(tb testing.TB, name string) int64 {
	tb.Helper()
	admin, err := sql.Open("pgx", URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d backends still connected to %s", n, name)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// This backend's own counts, and no statistics snapshot cached from before.
	for _, q := range []string{`SELECT pg_stat_force_next_flush()`, `SELECT pg_stat_clear_snapshot()`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	var d int64
	if err := conn.QueryRowContext(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = $1`, name).Scan(&d); err != nil {
		tb.Fatal(err)
	}
	return d
}
