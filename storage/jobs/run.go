package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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
// A handler's result: nil completes the job. An error caused by the shutdown
// itself (the handler saw ctx cancelled) releases the job without counting the
// attempt. Otherwise the job ends dead (Options.OnDead, else Queue.Bury) when
// the error is permanent (errors.Is(err, bridge.ErrPermanent)), when the job is
// older than its kind's MaxAge, or when this was its MaxAttempts-th attempt. A job
// that did not end is rescheduled: after the wait of a *bridge.RetryAfterError,
// which is a deferral (a rate limit, an unreachable employee) and does not count
// toward MaxAttempts; or after Backoff, counting the attempt. ErrNoHandler is
// retried with backoff until MaxAge, whatever MaxAttempts says: a newer replica
// may know the kind.
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
	held := func() []int64 {
		setMu.Lock()
		defer setMu.Unlock()
		return slices.Collect(maps.Keys(handling))
	}
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
				extend(qctx, q, o, held())
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
			extend(qctx, q, o, held())
		}
	}
}

func extend(ctx context.Context, q Queue, o Options, ids []int64) {
	if len(ids) == 0 {
		return
	}
	if err := q.Extend(ctx, o.Owner, ids, o.Now().Add(o.Lease)); err != nil {
		o.OnError(bridge.Job{}, fmt.Errorf("extend leases: %w", err))
	}
}

// fate is what becomes of a job whose handler failed.
type fate int

const (
	// fateRelease: the shutdown caused the failure; run again now, not counting it.
	fateRelease fate = iota
	// fateDefer: a *bridge.RetryAfterError; run again after its wait, not counting it.
	fateDefer
	// fateRetry: run again after Backoff, counting the attempt.
	fateRetry
	// fateDead: the job ended without success.
	fateDead
)

// decide is the fate of job j whose handler returned err at now, under limits.
// shutdown says the runner's context was cancelled and err is that cancellation.
func decide(j bridge.Job, err error, now time.Time, limits bridge.JobLimits, shutdown bool) fate {
	switch {
	case shutdown:
		return fateRelease
	case errors.Is(err, bridge.ErrPermanent):
		return fateDead
	case limits.MaxAge > 0 && !j.Created.IsZero() && now.Sub(j.Created) > limits.MaxAge:
		return fateDead
	}
	if _, ok := errors.AsType[*bridge.RetryAfterError](err); ok {
		return fateDefer
	}
	if errors.Is(err, ErrNoHandler) {
		return fateRetry
	}
	if limits.MaxAttempts > 0 && j.Attempts+1 >= limits.MaxAttempts {
		return fateDead
	}
	return fateRetry
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
	shutdown := ctx.Err() != nil && errors.Is(err, ctx.Err())
	attempts, runAt := j.Attempts+1, time.Time{}
	switch decide(j, err, now, o.Limits(j.Kind), shutdown) {
	case fateDead:
		bury(qctx, q, o, j, err)
		return
	case fateRelease:
		attempts, runAt = j.Attempts, now
	case fateDefer:
		attempts, runAt = j.Attempts, NextRun(now, j.Attempts, err)
	case fateRetry:
		runAt = NextRun(now, j.Attempts, err)
	}
	if err := q.Retry(qctx, o.Owner, j.ID, runAt, attempts, RedactError(err.Error())); err != nil {
		o.OnError(j, fmt.Errorf("reschedule job %d: %w", j.ID, err))
	}
}

// bury ends job j dead: OnDead settles its outcome and buries it; if there is no
// OnDead or it fails, the queue buries it alone, so that it never runs again by
// itself.
func bury(ctx context.Context, q Queue, o Options, j bridge.Job, cause error) {
	if o.OnDead != nil {
		err := onDead(ctx, o, j, cause)
		if err == nil {
			return
		}
		o.OnError(j, fmt.Errorf("settle dead job %d: %w", j.ID, err))
	}
	if err := q.Bury(ctx, o.Owner, j.ID, j.Attempts+1, RedactError(cause.Error())); err != nil {
		o.OnError(j, fmt.Errorf("bury job %d: %w", j.ID, err))
	}
}

// onDead calls o.OnDead, turning a panic into an error so that a bug in settling
// one job's outcome neither stops the runner nor keeps the job alive.
func onDead(ctx context.Context, o Options, j bridge.Job, cause error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("OnDead panicked: %v", v)
		}
	}()
	return o.OnDead(ctx, j, cause)
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
