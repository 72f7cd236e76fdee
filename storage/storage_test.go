package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
	"github.com/multiline/multiline/storage/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func() storetest.Backend { return sqliteFactory(t) })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func() storetest.Backend { return postgresFactory(t) })
}

// sqliteFactory makes a database file in a fresh temporary directory.
func sqliteFactory(t testing.TB) func() storetest.Backend {
	return migratedFactory(t, "sqlite:"+filepath.Join(t.TempDir(), "data", "multiline.db"))
}

// migratedFactory opens handles on the database at u, migrating it on the first.
func migratedFactory(t testing.TB, u string) func() storetest.Backend {
	first := true
	return func() storetest.Backend {
		db := openDB(t, u)
		if first {
			first = false
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		return db
	}
}

func openDB(t testing.TB, u string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migratedDB opens the database at u and migrates it.
func migratedDB(t testing.TB, u string) *storage.DB {
	t.Helper()
	db := openDB(t, u)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// postgresFactory opens handles on a schema of the test's own.
func postgresFactory(t testing.TB) func() storetest.Backend {
	t.Helper()
	return migratedFactory(t, pgtest.Schema(t))
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"mysql://x", "", "sqlite:", "file.db"} {
		_, err := storage.Open(t.Context(), u)
		if !errors.Is(err, storage.ErrUnsupportedURL) {
			t.Errorf("Open(%q) = %v, want ErrUnsupportedURL", u, err)
		}
	}
	_, err := storage.Open(t.Context(), "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of an unreachable server = %v; want an error without the password", err)
	}
}

// TestSchemaTooNew: a database migrated by a newer binary is refused by Open and
// Migrate, with the message operators see.
func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		url  func(*testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.url(t)
			db := openDB(t, u)
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			have, binary, err := db.SchemaVersion(t.Context())
			if err != nil || have != binary || binary < 1 {
				t.Fatalf("SchemaVersion = %d, %d, %v", have, binary, err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			newer := binary + 41
			if _, err := db.SQLForTest().ExecContext(t.Context(),
				`INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, $2)`, newer, true); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("database schema version %d is newer than this binary supports (%d); upgrade multiline", newer, binary)
			err = db.Migrate(t.Context())
			var tooNew *storage.SchemaTooNewError
			if !errors.As(err, &tooNew) || !errors.Is(err, storage.ErrSchemaTooNew) || err.Error() != want {
				t.Errorf("Migrate = %v, want %q", err, want)
			}
			again, err := storage.Open(t.Context(), u)
			if err == nil {
				again.Close()
			}
			if !errors.Is(err, storage.ErrSchemaTooNew) || err.Error() != want {
				t.Errorf("Open = %v, want %q", err, want)
			}
		})
	}
}
