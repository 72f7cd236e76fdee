package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// runner runs RunJobs in the background until the test ends (or stop is called)
// and reports whether it returned cleanly.
type runner struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startRunner(t *testing.T, s Backend, handlers map[string]bridge.JobHandler, opts jobs.Options) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan error, 1)}
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	if opts.OnError == nil {
		opts.OnError = func(j bridge.Job, err error) {
			if j.ID == 0 { // queue errors are bugs here; handler errors are the tests' doing
				t.Errorf("job queue: %v", err)
			}
		}
	}
	go func() { r.done <- s.RunJobs(ctx, handlers, opts) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *runner) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("RunJobs returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("RunJobs did not return within 10s of cancel")
		}
	})
}

// enqueue adds jobs in one transaction and wakes the runners.
func enqueue(t *testing.T, s Backend, js ...bridge.Job) {
	t.Helper()
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		for _, j := range js {
			if err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
		}
		return nil
	})
	s.Wake()
}

func pending(t *testing.T, s Backend, prefix string) []bridge.Job {
	t.Helper()
	js, err := s.PendingJobs(t.Context(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func payload(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// laneLog records the jobs run per lane and fails if two of a lane overlap.
type laneLog struct {
	t      *testing.T
	mu     sync.Mutex
	active map[string]int
	runs   map[string][]int
	total  atomic.Int64
}

func newLaneLog(t *testing.T) *laneLog {
	return &laneLog{t: t, active: map[string]int{}, runs: map[string][]int{}}
}

func (l *laneLog) handler(work time.Duration) bridge.JobHandler {
	return func(ctx context.Context, j bridge.Job) error {
		var n int
		if err := json.Unmarshal(j.Payload, &n); err != nil {
			return err
		}
		l.mu.Lock()
		l.active[j.Lane]++
		if l.active[j.Lane] > 1 {
			l.t.Errorf("lane %s runs two jobs at once", j.Lane)
		}
		l.runs[j.Lane] = append(l.runs[j.Lane], n)
		l.mu.Unlock()
		time.Sleep(work)
		l.mu.Lock()
		l.active[j.Lane]--
		l.mu.Unlock()
		l.total.Add(1)
		return nil
	}
}

// check verifies every lane ran 0..perLane-1 once each, in order.
func (l *laneLog) check(lanes, perLane int) {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.runs) != lanes {
		l.t.Errorf("%d lanes ran, want %d", len(l.runs), lanes)
	}
	for lane, runs := range l.runs {
		ok := len(runs) == perLane
		for i := 0; ok && i < perLane; i++ {
			ok = runs[i] == i
		}
		if !ok {
			l.t.Errorf("lane %s ran %v, want 0..%d once each in order", lane, runs, perLane-1)
		}
	}
}

func laneJobs(lanes, perLane int) []bridge.Job {
	var js []bridge.Job
	for i := range perLane {
		for l := range lanes {
			js = append(js, bridge.Job{Lane: "send:t" + strconv.Itoa(l), Kind: "send", Payload: payload(i)})
		}
	}
	return js
}

func runJobs(t *testing.T, f Factory) {
	t.Run("lanes keep order and never overlap", func(t *testing.T) {
		s := f(t)()
		log := newLaneLog(t)
		const lanes, perLane = 5, 12
		enqueue(t, s, laneJobs(lanes, perLane)...)
		startRunner(t, s, map[string]bridge.JobHandler{"send": log.handler(time.Millisecond)}, jobs.Options{Workers: 4})
		eventually(t, 20*time.Second, "all jobs", func() bool { return log.total.Load() == lanes*perLane })
		eventually(t, 5*time.Second, "empty queue", func() bool { return len(pending(t, s, "")) == 0 })
		log.check(lanes, perLane)
	})

	t.Run("timers replace, cancel and wake", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		future := clk.Now().Add(24 * time.Hour)
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			for _, j := range []bridge.Job{
				{Lane: "timer:t1:24h", Kind: "timer", Payload: payload("first"), RunAt: future},
				{Lane: "timer:t1:24h", Kind: "timer", Payload: payload("second"), RunAt: future.Add(time.Hour)},
				{Lane: "timer:t1:48h", Kind: "timer", Payload: payload("48h"), RunAt: future},
				{Lane: "timer:t10:24h", Kind: "timer", Payload: payload("t10"), RunAt: future},
				{Lane: "timer:t1_x:24h", Kind: "timer", Payload: payload("underscore"), RunAt: future},
			} {
				if err := tx.SetTimer(ctx, j); err != nil {
					return err
				}
			}
			return nil
		})
		js := pending(t, s, "timer:t1:")
		if len(js) != 2 || string(js[0].Payload) != `"second"` || !js[0].RunAt.Equal(future.Add(time.Hour)) || string(js[1].Payload) != `"48h"` {
			t.Fatalf("after SetTimer twice: %+v", js)
		}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.CancelLanes(ctx, ""); !errors.Is(err, jobs.ErrEmptyLane) {
				t.Errorf("CancelLanes(\"\") = %v", err)
			}
			if err := tx.CancelLanes(ctx); !errors.Is(err, jobs.ErrEmptyLane) {
				t.Errorf("CancelLanes() = %v", err)
			}
			return tx.CancelLanes(ctx, "timer:t1:", "timer:t1:24h", "timer:t1:48h")
		})
		if js := pending(t, s, ""); len(js) != 2 || js[0].Lane != "timer:t10:24h" || js[1].Lane != "timer:t1_x:24h" {
			t.Fatalf("CancelLanes(timer:t1:…) left %+v, want only t10's and t1_x's timers", js)
		}
		var ran atomic.Int32
		startRunner(t, s, map[string]bridge.JobHandler{"timer": func(ctx context.Context, j bridge.Job) error {
			ran.Add(1)
			return nil
		}}, jobs.Options{Now: clk.Now})
		time.Sleep(60 * time.Millisecond)
		if ran.Load() != 0 {
			t.Fatal("a timer ran before it was due")
		}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error { return tx.WakeLane(ctx, "timer:t10:24h") })
		s.Wake()
		eventually(t, 5*time.Second, "woken timer to run", func() bool { return ran.Load() == 1 })
		clk.Add(25 * time.Hour)
		s.Wake()
		// The clock jumped past the lease of the woken timer's job, which may still
		// be completing: it must not run again all the same.
		eventually(t, 5*time.Second, "due timer to run", func() bool { return len(pending(t, s, "")) == 0 })
		time.Sleep(30 * time.Millisecond)
		if n := ran.Load(); n != 2 {
			t.Errorf("2 timers ran %d times", n)
		}
	})

	t.Run("retry with backoff and Retry-After", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		var calls atomic.Int32
		var attemptsSeen []int
		var mu sync.Mutex
		startRunner(t, s, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
			mu.Lock()
			attemptsSeen = append(attemptsSeen, j.Attempts)
			mu.Unlock()
			switch calls.Add(1) {
			case 1:
				return errors.New("wechat: 502")
			case 2:
				return fmt.Errorf("send: %w", &bridge.RetryAfterError{Wait: 7 * time.Second, Err: errors.New("45009 rate limited")})
			case 3:
				return errors.New("still down")
			}
			return nil
		}}, jobs.Options{Now: clk.Now})
		enqueue(t, s, bridge.Job{Lane: "send:t1", Kind: "send"})
		// waitRetry waits for the job to be rescheduled after the failure saying
		// lastErr, with attempts counted.
		waitRetry := func(attempts int, lastErr string) bridge.Job {
			t.Helper()
			var j bridge.Job
			eventually(t, 5*time.Second, fmt.Sprintf("%q to be rescheduled", lastErr), func() bool {
				js := pending(t, s, "")
				if len(js) == 1 && strings.Contains(js[0].LastError, lastErr) {
					j = js[0]
					return true
				}
				return false
			})
			if j.Attempts != attempts {
				t.Fatalf("after %q: %d attempts recorded, want %d", lastErr, j.Attempts, attempts)
			}
			return j
		}
		j := waitRetry(1, "wechat: 502")
		if wait := j.RunAt.Sub(clk.Now()); wait < jobs.BackoffBase/2 || wait > jobs.BackoffBase {
			t.Errorf("first backoff %s, want within [%s, %s]", wait, jobs.BackoffBase/2, jobs.BackoffBase)
		}
		clk.Add(time.Second)
		s.Wake()
		// Retry-After defers the job: the attempt does not count.
		j = waitRetry(1, "45009 rate limited")
		if wait := j.RunAt.Sub(clk.Now()); wait != 7*time.Second {
			t.Errorf("Retry-After rescheduled in %s, want 7s", wait)
		}
		clk.Add(6 * time.Second)
		s.Wake()
		time.Sleep(60 * time.Millisecond)
		if calls.Load() != 2 {
			t.Fatalf("ran before Retry-After elapsed (%d calls)", calls.Load())
		}
		clk.Add(time.Second)
		s.Wake()
		j = waitRetry(2, "still down")
		if wait := j.RunAt.Sub(clk.Now()); wait < jobs.BackoffBase || wait > 2*jobs.BackoffBase {
			t.Errorf("second backoff %s, want within [1s, 2s]", wait)
		}
		clk.Add(2 * time.Second)
		s.Wake()
		eventually(t, 5*time.Second, "success", func() bool { return len(pending(t, s, "")) == 0 })
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(attemptsSeen) != "[0 1 1 2]" {
			t.Errorf("handler saw attempts %v, want [0 1 1 2]", attemptsSeen)
		}
	})

	t.Run("unknown kind and panics are retried", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		startRunner(t, s, map[string]bridge.JobHandler{"boom": func(context.Context, bridge.Job) error { panic("handler bug") }},
			jobs.Options{Now: clk.Now})
		enqueue(t, s, bridge.Job{Lane: "a", Kind: "nobody"}, bridge.Job{Lane: "b", Kind: "boom"})
		eventually(t, 5*time.Second, "both rescheduled", func() bool {
			js := pending(t, s, "")
			return len(js) == 2 && js[0].Attempts == 1 && js[1].Attempts == 1
		})
	})

	t.Run("a lane waits for its retried head", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		log := newLaneLog(t)
		failed := false
		h := log.handler(0)
		startRunner(t, s, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
			if !failed {
				failed = true
				return errors.New("transient")
			}
			return h(ctx, j)
		}}, jobs.Options{Now: clk.Now, Workers: 1})
		enqueue(t, s, laneJobs(1, 3)...)
		eventually(t, 5*time.Second, "head rescheduled", func() bool {
			js := pending(t, s, "")
			return len(js) == 3 && js[0].Attempts == 1
		})
		time.Sleep(60 * time.Millisecond)
		if log.total.Load() != 0 {
			t.Fatal("a younger job ran while the lane's head waited for its retry")
		}
		clk.Add(time.Minute)
		s.Wake()
		eventually(t, 5*time.Second, "lane done", func() bool { return log.total.Load() == 3 })
		log.check(1, 3)
	})

	t.Run("expired lease is taken over", func(t *testing.T) {
		open := f(t)
		s1, s2 := open(), open()
		clk := newClock()
		entered, release := make(chan struct{}), make(chan struct{})
		var firstRuns, secondRuns atomic.Int32
		// Runner A's clock stands still, so its renewed lease never passes
		// clk+30s: it behaves like a process that hung or died mid-job. One
		// worker, so that it takes nothing else while hung.
		startRunner(t, s1, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
			firstRuns.Add(1)
			close(entered)
			<-release
			return errors.New("late failure from a runner that lost its lease")
		}}, jobs.Options{Now: clk.Now, Lease: 30 * time.Second, Owner: "runner-a", Workers: 1})
		enqueue(t, s1, bridge.Job{Lane: "send:t1", Kind: "send"}, bridge.Job{Lane: "send:t1", Kind: "send"})
		<-entered
		later := func() time.Time { return clk.Now().Add(31 * time.Second) }
		r2 := startRunner(t, s2, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
			secondRuns.Add(1)
			return nil
		}}, jobs.Options{Now: later, Lease: 30 * time.Second, Owner: "runner-b"})
		eventually(t, 5*time.Second, "runner B to take over and finish the lane", func() bool {
			return secondRuns.Load() == 2 && len(pending(t, s2, "")) == 0
		})
		close(release)
		r2.stop(t)
		time.Sleep(50 * time.Millisecond)
		if js := pending(t, s1, ""); len(js) != 0 {
			t.Errorf("runner A's late result brought back %+v", js)
		}
		if firstRuns.Load() != 1 {
			t.Errorf("runner A ran %d jobs", firstRuns.Load())
		}
	})

	t.Run("handler completes its job in its own transaction", func(t *testing.T) {
		s := f(t)()
		var runs atomic.Int32
		startRunner(t, s, map[string]bridge.JobHandler{"pull": func(ctx context.Context, j bridge.Job) error {
			runs.Add(1)
			return s.Tx(ctx, func(tx bridge.Tx) error {
				if err := tx.SaveCursor(ctx, "c1", "wk-1", "cursor-after-"+strconv.FormatInt(j.ID, 10)); err != nil {
					return err
				}
				return tx.CompleteJob(ctx, j.ID)
			})
		}}, jobs.Options{})
		enqueue(t, s, bridge.Job{Lane: "pull:wk-1", Kind: "pull"})
		eventually(t, 5*time.Second, "job done", func() bool { return runs.Load() == 1 && len(pending(t, s, "")) == 0 })
		err := s.Tx(t.Context(), func(tx bridge.Tx) error { return tx.CompleteJob(t.Context(), 999999) })
		mustErr(t, err, bridge.ErrNotFound)
		time.Sleep(50 * time.Millisecond)
		if runs.Load() != 1 {
			t.Errorf("job ran %d times", runs.Load())
		}
	})

	t.Run("shutdown waits for handlers", func(t *testing.T) {
		s := f(t)()
		entered := make(chan struct{})
		var finished atomic.Bool
		r := startRunner(t, s, map[string]bridge.JobHandler{"slow": func(ctx context.Context, j bridge.Job) error {
			close(entered)
			time.Sleep(100 * time.Millisecond)
			finished.Store(true)
			return nil
		}}, jobs.Options{})
		enqueue(t, s, bridge.Job{Lane: "x", Kind: "slow"})
		<-entered
		r.stop(t)
		if !finished.Load() {
			t.Error("RunJobs returned before its handler finished")
		}
		if js := pending(t, s, ""); len(js) != 0 {
			t.Errorf("finished job left in queue: %+v", js)
		}
	})

	t.Run("two replicas share 1000 jobs on 50 lanes", func(t *testing.T) {
		open := f(t)
		s1, s2 := open(), open()
		log := newLaneLog(t)
		const lanes, perLane = 50, 20
		all := laneJobs(lanes, perLane)
		// Enqueued in batches from both handles while the runners work.
		h := map[string]bridge.JobHandler{"send": log.handler(0)}
		startRunner(t, s1, h, jobs.Options{Workers: 4})
		startRunner(t, s2, h, jobs.Options{Workers: 4})
		for i := 0; i < len(all); i += 100 {
			s := s1
			if i/100%2 == 1 {
				s = s2
			}
			enqueue(t, s, all[i:i+100]...)
		}
		eventually(t, 60*time.Second, "1000 jobs", func() bool { return log.total.Load() >= lanes*perLane })
		eventually(t, 5*time.Second, "empty queue", func() bool { return len(pending(t, s1, "")) == 0 })
		time.Sleep(50 * time.Millisecond)
		if n := log.total.Load(); n != lanes*perLane {
			t.Errorf("%d runs for %d jobs", n, lanes*perLane)
		}
		log.check(lanes, perLane)
	})
}
