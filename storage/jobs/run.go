package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/multiline/multiline/bridge"
)

// ErrNoHandler is the failure recorded for a job whose kind has no handler. The job
// is retried with backoff rather than dropped: a newer replica may know the kind.
var ErrNoHandler = errors.New("no handler for job kind")

// PanicError is the failure recorded for a handler that panicked.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("job handler panicked: %v", e.Value) }

// Run claims and runs jobs from q until ctx is cancelled, then waits for the
// handlers in flight and returns nil. wake (may be nil) makes it look for due jobs
// at once instead of at the next poll.
//
// A handler's result: nil completes the job; a *bridge.RetryAfterError reschedules
// it after the wait; any other error reschedules it with Backoff. An error caused by
// the shutdown itself (the handler saw ctx cancelled) releases the job without
// counting the attempt.
func Run(ctx context.Context, q Queue, wake <-chan struct{}, handlers map[string]bridge.JobHandler, opts Options) error {
	o := opts.withDefaults()
	// Queue calls after a handler must succeed even while shutting down, or the job
	// would stay leased until the lease runs out.
	qctx := context.WithoutCancel(ctx)
	done := make(chan struct{}, o.Workers)
	poll := time.NewTicker(o.PollInterval)
	defer poll.Stop()
	heartbeat := time.NewTicker(max(o.Lease/3, time.Millisecond))
	defer heartbeat.Stop()

	// handling holds the jobs whose handlers run here. A claim can return one of
	// them if its lease looks expired (the clock jumped): it is ours already, and
	// the claim only renewed its lease, so it must not start twice. Writing a
	// job's outcome and leaving the set happen under outcomes' read lock, and a
	// claim holds its write lock, so a claim sees each job either still running
	// (skip it) or finished and written (a new run, if it is due again).
	var outcomes sync.RWMutex
	var setMu sync.Mutex
	handling := map[int64]bool{}
	inflight := 0
	claim := func() {
		outcomes.Lock()
		defer outcomes.Unlock()
		now := o.Now()
		js, err := q.Claim(qctx, o.Owner, now, now.Add(o.Lease), o.Workers-inflight)
		if err != nil {
			o.OnError(bridge.Job{}, fmt.Errorf("claim jobs: %w", err))
			return
		}
		setMu.Lock()
		defer setMu.Unlock()
		for _, j := range js {
			if handling[j.ID] {
				continue
			}
			handling[j.ID] = true
			inflight++
			go func() {
				err := call(ctx, handlers, j)
				outcomes.RLock()
				record(ctx, qctx, q, o, j, err)
				setMu.Lock()
				delete(handling, j.ID)
				setMu.Unlock()
				outcomes.RUnlock()
				done <- struct{}{}
			}()
		}
	}

	for stopping := false; ; {
		if stopping {
			if inflight == 0 {
				return nil
			}
			// Wait for the handlers, renewing their leases meanwhile.
			select {
			case <-done:
				inflight--
			case <-heartbeat.C:
				extend(qctx, q, o)
			}
			continue
		}
		if inflight < o.Workers {
			claim()
		}
		select {
		case <-ctx.Done():
			stopping = true
		case <-wake:
		case <-poll.C:
		case <-done:
			inflight--
		case <-heartbeat.C:
			extend(qctx, q, o)
		}
	}
}

func extend(ctx context.Context, q Queue, o Options) {
	if err := q.Extend(ctx, o.Owner, o.Now().Add(o.Lease)); err != nil {
		o.OnError(bridge.Job{}, fmt.Errorf("extend leases: %w", err))
	}
}

// record writes the outcome of a job's handler.
func record(ctx, qctx context.Context, q Queue, o Options, j bridge.Job, err error) {
	if err == nil {
		if err := q.Complete(qctx, o.Owner, j.ID); err != nil {
			o.OnError(j, fmt.Errorf("complete job %d: %w", j.ID, err))
		}
		return
	}
	o.OnError(j, err)
	now := o.Now()
	attempts, runAt := j.Attempts+1, NextRun(now, j.Attempts, err)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		attempts, runAt = j.Attempts, now
	}
	if err := q.Retry(qctx, o.Owner, j.ID, runAt, attempts, err.Error()); err != nil {
		o.OnError(j, fmt.Errorf("reschedule job %d: %w", j.ID, err))
	}
}

func call(ctx context.Context, handlers map[string]bridge.JobHandler, j bridge.Job) (err error) {
	h, ok := handlers[j.Kind]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoHandler, j.Kind)
	}
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v}
		}
	}()
	return h(ctx, j)
}
