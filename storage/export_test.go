package storage

import (
	"context"
	"database/sql"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// SQLForTest exposes the connection pool to tests that must write what no API
// writes (a newer schema version).
func (db *DB) SQLForTest() *sql.DB { return db.sql }

// RunJobsPolledForTest runs the job runner as replicas did before LISTEN/NOTIFY:
// no listener and no wake-ups, only the poll. Benchmarks measure the
// notified runner against it.
func (db *DB) RunJobsPolledForTest(ctx context.Context, handlers map[string]bridge.JobHandler, opts RunOptions) error {
	return jobs.Run(ctx, queue{db}, nil, handlers, opts)
}

// QuietForTest turns the transactions' NOTIFY off, for benchmarks' baselines.
func (db *DB) QuietForTest() { db.quiet = true }
