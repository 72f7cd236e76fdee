package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is wrapped by the error Open and Migrate return when the database
// was migrated by a newer multiline than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// SchemaTooNewError says which versions disagree.
type SchemaTooNewError struct {
	Database, Binary int64
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this binary supports (%d); upgrade multiline", e.Database, e.Binary)
}

// Is makes errors.Is(err, ErrSchemaTooNew) hold.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// advisoryLockID keeps two replicas from migrating a PostgreSQL database at once.
const advisoryLockID = 0x6d6c6e65 // "mlne"

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", db.dialect, err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	gd := goose.DialectSQLite3
	if db.dialect == dialectPostgres {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(advisoryLockID))
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db.sql, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// SchemaVersion reports the database's schema version (0 before any migration)
// and the newest version this binary has.
func (db *DB) SchemaVersion(ctx context.Context) (database, binary int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	srcs := p.ListSources()
	binary = srcs[len(srcs)-1].Version
	database, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, binary, fmt.Errorf("read schema version: %w", err)
	}
	return database, binary, nil
}

// checkVersion refuses a database from a newer binary: its tables may mean things
// this binary does not know, and writing to them could lose data.
func (db *DB) checkVersion(ctx context.Context) error {
	have, want, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > want {
		return &SchemaTooNewError{Database: have, Binary: want}
	}
	return nil
}

// Migrate applies the migrations the database lacks. It refuses a database whose
// schema is newer than this binary's.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.checkVersion(ctx); err != nil {
		return err
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s database: %w", db.dialect, err)
	}
	return nil
}
