// Package storetest is the behaviour every bridge.Store of this project must
// have, as one test suite: storage's SQLite and PostgreSQL backends and memstore
// all run it.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// Backend is what the suite tests: a bridge.Store with its job runner and the
// extras the service uses beside the Store interface.
type Backend interface {
	bridge.Store
	RunJobs(ctx context.Context, handlers map[string]bridge.JobHandler, opts jobs.Options) error
	PendingJobs(ctx context.Context, lanePrefix string) ([]bridge.Job, error)
	// The operators' view of the queue (storage.DB.Jobs and the like).
	Jobs(ctx context.Context, f jobs.Filter) ([]bridge.Job, error)
	RetryJob(ctx context.Context, id int64) error
	DiscardJob(ctx context.Context, id int64) error
	Token(ctx context.Context, key string) (string, time.Time, error)
	PutToken(ctx context.Context, key, token string, expires time.Time) error
	PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (string, error)
	Media(ctx context.Context, ref string) (contentType, fileName string, data []byte, err error)
}

// Factory creates a fresh, empty, migrated database for one test and returns a
// function that opens a handle to it. Each call opens another handle, the way a
// second replica would (an in-memory store may return itself). The factory
// closes the handles and removes the database when the test ends.
type Factory func(t *testing.T) (open func() Backend)

// Run runs the whole suite against the backend the factory makes.
func Run(t *testing.T, f Factory) {
	t.Run("records", func(t *testing.T) { runRecords(t, f) })
	t.Run("jobs", func(t *testing.T) { runJobs(t, f) })
	t.Run("dead jobs", func(t *testing.T) { runDeadJobs(t, f) })
	t.Run("pools", func(t *testing.T) { runPools(t, f) })
	t.Run("inbox", func(t *testing.T) { runInbox(t, f) })
	t.Run("archive", func(t *testing.T) { runArchive(t, f) })
	t.Run("read-only", func(t *testing.T) { runRead(t, f) })
}

// clock is a settable clock for job runners.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tx runs fn in a transaction and fails the test if it fails.
func tx(t *testing.T, s bridge.Store, fn func(ctx context.Context, tx bridge.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Tx(ctx, func(tx bridge.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}
