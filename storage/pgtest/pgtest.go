// Package pgtest gives tests a PostgreSQL schema of their own on the test server.
//
// CI runs PostgreSQL on 127.0.0.1:5432, so a test that needs it fails when it is
// unreachable; MULTILINE_SKIP_POSTGRES=1 skips such tests explicitly.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

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
