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
	"github.com/multiline/multiline/metrics"
)

// ErrNoHandler is the failure recorded for a job whose kind has no handler. The job
// is retried with backoff rather than dropped: a newer replica may know the kind.
var ErrNoHandler = errors.New("no handler for job kind")

// PanicError is the failure recorded for a handler that panicked.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("job handler panicked: %v", e.Value) }

// ending is what a handler's goroutine reports: its pool, and whether its job
// left its lane.
type ending struct {
	pool     int
	advanced bool
	// retryAt is when a rescheduled job is due again (zero if it was not).
	retryAt time.Time
}

// Run claims and runs jobs from q until ctx is cancelled, then waits for the
// handlers in flight and returns nil. wake (may be nil) makes it look for due jobs
// at once instead of at the next poll. It returns ErrBadPools at once for pools
// it cannot use.
//
// Each job kind runs on the workers of one pool (Options.Pools): a pool claims
// only its own kinds, up to its free workers, so a pool whose jobs are slow or
// waiting never delays another pool's jobs.
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
// may know the kind. Every run is recorded with metrics.JobRan.
func Run(ctx context.Context, q Queue, wake <-chan struct{}, handlers map[string]bridge.JobHandler, opts Options) error {
	o := opts.withDefaults()
	p, err := newPlan(o.Pools, handlers)
	if err != nil {
		return err
	}
	// Queue calls after a handler must succeed even while shutting down, or the job
	// would stay leased until the lease runs out.
	qctx := context.WithoutCancel(ctx)
	done := make(chan ending, p.workers())
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
	held := func() []int64 {
		setMu.Lock()
		defer setMu.Unlock()
		return slices.Collect(maps.Keys(handling))
	}
	// alarm wakes the runner when a pool held back by shortClaimGap may ask
	// again (see plan.wants).
	alarm := time.NewTimer(time.Hour)
	defer alarm.Stop()
	claim := func() {
		wants, asked := p.wants(time.Now())
		if len(wants) == 0 {
			return
		}
		outcomes.Lock()
		defer outcomes.Unlock()
		now, start := o.Now(), time.Now()
		js, err := q.Claim(qctx, o.Owner, now, now.Add(o.Lease), wants)
		took := time.Since(start)
		metrics.JobsClaimed(took)
		if err != nil {
			o.OnError(bridge.Job{}, fmt.Errorf("claim jobs: %w", err))
			return // the pools stay marked: the next turn claims again
		}
		got := make([]int, len(p.pools))
		setMu.Lock()
		defer setMu.Unlock()
		for _, j := range js {
			i := p.poolOf(j.Kind)
			if i < 0 {
				// Not a kind of ours: only a Queue that ignored the wants gives one.
				o.OnError(j, fmt.Errorf("claimed job %d of kind %q that no pool runs", j.ID, j.Kind))
				if err := q.Retry(qctx, o.Owner, j.ID, now, j.Attempts, j.LastError); err != nil {
					o.OnError(j, fmt.Errorf("release job %d: %w", j.ID, err))
				}
				continue
			}
			got[i]++
			if handling[j.ID] {
				continue
			}
			handling[j.ID] = true
			p.pools[i].inflight++
			metrics.JobStarted(j.Kind, now.Sub(dueAt(j)))
			go func() {
				start := time.Now()
				err := call(ctx, handlers, j)
				took := time.Since(start)
				outcomes.RLock()
				outcome, retryAt := record(ctx, qctx, q, o, j, err)
				setMu.Lock()
				delete(handling, j.ID)
				setMu.Unlock()
				outcomes.RUnlock()
				metrics.JobRan(j.Kind, outcome, took)
				done <- ending{pool: i, advanced: outcome == metrics.JobDone || outcome == metrics.JobDead, retryAt: retryAt}
			}()
		}
		p.claimed(asked, wants, got, time.Now(), took)
	}
	// A job the handler rescheduled (a limiter's "not before T", a backoff) is
	// found by a check every RecheckInterval once it is due, not by an alarm at
	// T: retrying deferred Teams deliveries at exactly T made the bot's limiter
	// defer the same delivery again and again (TestProductionMetrics stalled in
	// 2 of 7 runs), while the checks' slack lets its windows drain. The checks
	// run only while such a job waits, so that PollInterval can be long where
	// wake-ups come from other replicas too (PostgreSQL's NOTIFY).
	// recheckUntil is when the last job this runner rescheduled is due, plus a
	// check: until then the queue is checked every RecheckInterval.
	recheck := time.NewTicker(o.RecheckInterval)
	defer recheck.Stop()
	var recheckUntil time.Time
	ended := func(e ending) {
		p.ended(e.pool, e.advanced)
		if !e.retryAt.IsZero() {
			recheckUntil = later(recheckUntil, e.retryAt.Add(o.RecheckInterval))
		}
	}
	arm := func() {
		wait := time.Hour
		if at, ok := p.heldUntil(time.Now()); ok {
			wait = time.Until(at)
		}
		alarm.Reset(max(wait, 0))
	}

	for stopping := false; ; {
		if stopping {
			if p.inflight() == 0 {
				return nil
			}
			// Wait for the handlers, renewing their leases meanwhile.
			select {
			case e := <-done:
				ended(e)
			case <-heartbeat.C:
				extend(qctx, q, o, held())
			}
			continue
		}
		claim()
		arm()
		var rechecks <-chan time.Time
		if o.Now().Before(recheckUntil) {
			rechecks = recheck.C
		}
		select {
		case <-ctx.Done():
			stopping = true
		case <-wake:
			p.markAll()
		case <-poll.C:
			p.polled()
		case <-rechecks:
			p.polled()
		case <-alarm.C:
		case e := <-done:
			ended(e)
			// Book every handler that ended meanwhile, so that one claim
			// serves them all.
			for more := true; more; {
				select {
				case e := <-done:
					ended(e)
				default:
					more = false
				}
			}
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

// record writes the outcome of a job's handler and names it for metrics.JobRan:
// done, retry (a shutdown's release too: the job runs again), deferred, or dead.
// retryAt is when a job that is to run again is due.
func record(ctx, qctx context.Context, q Queue, o Options, j bridge.Job, err error) (outcome string, retryAt time.Time) {
	if err == nil {
		if err := q.Complete(qctx, o.Owner, j.ID); err != nil {
			o.OnError(j, fmt.Errorf("complete job %d: %w", j.ID, err))
		}
		return metrics.JobDone, time.Time{}
	}
	o.OnError(j, err)
	now := o.Now()
	shutdown := ctx.Err() != nil && errors.Is(err, ctx.Err())
	attempts, runAt := j.Attempts+1, time.Time{}
	outcome = metrics.JobRetry
	switch decide(j, err, now, o.Limits(j.Kind), shutdown) {
	case fateDead:
		bury(qctx, q, o, j, err)
		return metrics.JobDead, time.Time{}
	case fateRelease:
		attempts, runAt = j.Attempts, now
	case fateDefer:
		attempts, runAt = j.Attempts, NextRun(now, j.Attempts, err)
		outcome = metrics.JobDeferred
	case fateRetry:
		runAt = NextRun(now, j.Attempts, err)
	}
	if err := q.Retry(qctx, o.Owner, j.ID, runAt, attempts, RedactError(err.Error())); err != nil {
		o.OnError(j, fmt.Errorf("reschedule job %d: %w", j.ID, err))
	}
	return outcome, runAt
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

// dueAt is when j became due: the time it was rescheduled for, or when it was
// enqueued (a woken job's RunAt is zero: "due whatever the clock says").
func dueAt(j bridge.Job) time.Time {
	if j.RunAt.After(j.Created) {
		return j.RunAt
	}
	return j.Created
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
