package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// listJobs is Jobs, failing the test on error.
func listJobs(t *testing.T, s Backend, f jobs.Filter) []bridge.Job {
	t.Helper()
	js, err := s.Jobs(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func dead(t *testing.T, s Backend) []bridge.Job { return listJobs(t, s, jobs.Filter{Dead: true}) }

// enqueueOne adds j and returns it as stored (with its id).
func enqueueOne(t *testing.T, s Backend, j bridge.Job) bridge.Job {
	t.Helper()
	enqueue(t, s, j)
	js := pending(t, s, j.Lane)
	if len(js) == 0 {
		t.Fatalf("job on %s not enqueued", j.Lane)
	}
	return js[len(js)-1]
}

// buryOne enqueues j and buries it at once, the way the service's JobDied does.
func buryOne(t *testing.T, s Backend, j bridge.Job, attempts int, lastErr string) bridge.Job {
	t.Helper()
	j = enqueueOne(t, s, j)
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error { return tx.BuryJob(ctx, j.ID, attempts, lastErr) })
	return j
}

// runLog records the jobs a handler ran, in order.
type runLog struct {
	mu   sync.Mutex
	jobs []bridge.Job
}

func (l *runLog) add(j bridge.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.jobs = append(l.jobs, j)
}

func (l *runLog) snapshot() []bridge.Job {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bridge.Job(nil), l.jobs...)
}

func (l *runLog) ids() []int64 {
	var ids []int64
	for _, j := range l.snapshot() {
		ids = append(ids, j.ID)
	}
	return ids
}

func runDeadJobs(t *testing.T, f Factory) {
	// The three ways a job that ended gets buried: by OnDead in its transaction
	// (the service's JobDied), by the runner when there is no OnDead, and by the
	// runner when OnDead fails. Each time the lane's next job runs.
	for _, c := range []struct {
		name   string
		onDead func(s Backend) func(ctx context.Context, j bridge.Job, cause error) error
	}{
		{"OnDead buries", func(s Backend) func(context.Context, bridge.Job, error) error {
			return func(ctx context.Context, j bridge.Job, cause error) error {
				return s.Tx(ctx, func(tx bridge.Tx) error { return tx.BuryJob(ctx, j.ID, j.Attempts+1, cause.Error()) })
			}
		}},
		{"no OnDead: the runner buries", nil},
		{"OnDead fails: the runner buries", func(Backend) func(context.Context, bridge.Job, error) error {
			return func(context.Context, bridge.Job, error) error { return errors.New("settling failed") }
		}},
	} {
		t.Run("permanent error ends the job at once and its lane moves on: "+c.name, func(t *testing.T) {
			s := f(t)()
			var log runLog
			var deaths atomic.Int32
			var causes []error
			var mu sync.Mutex
			opts := jobs.Options{Now: newClock().Now}
			if c.onDead != nil {
				settle := c.onDead(s)
				opts.OnDead = func(ctx context.Context, j bridge.Job, cause error) error {
					mu.Lock()
					causes = append(causes, cause)
					mu.Unlock()
					deaths.Add(1)
					return settle(ctx, j, cause)
				}
			}
			first := enqueueOne(t, s, bridge.Job{Lane: "send:t1", Kind: "send", Payload: payload(0)})
			enqueue(t, s, bridge.Job{Lane: "send:t1", Kind: "send", Payload: payload(1)})
			startRunner(t, s, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
				log.add(j)
				if j.ID == first.ID {
					return fmt.Errorf("wechat send: %w", bridge.Permanent(errors.New("errcode 40003 invalid openid")))
				}
				return nil
			}}, opts)
			eventually(t, 5*time.Second, "the lane's next job to run", func() bool { return len(log.snapshot()) == 2 })
			eventually(t, 5*time.Second, "an empty queue", func() bool { return len(pending(t, s, "")) == 0 })
			d := dead(t, s)
			if len(d) != 1 || d[0].ID != first.ID || !d[0].Dead || d[0].Attempts != 1 ||
				!strings.Contains(d[0].LastError, "40003") || d[0].Created.IsZero() || d[0].Lane != "send:t1" {
				t.Fatalf("dead jobs %+v, want job %d with 1 attempt and its error", d, first.ID)
			}
			if ids := log.ids(); len(ids) != 2 || ids[0] != first.ID {
				t.Errorf("ran %v, want the permanent failure %d first, once", ids, first.ID)
			}
			if c.onDead != nil {
				mu.Lock()
				defer mu.Unlock()
				if len(causes) != 1 || !errors.Is(causes[0], bridge.ErrPermanent) {
					t.Errorf("OnDead saw %v, want the permanent failure once", causes)
				}
			}
		})
	}

	t.Run("MaxAttempts reached ends the job", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		var log runLog
		var deaths atomic.Int32
		startRunner(t, s, map[string]bridge.JobHandler{"flaky": func(ctx context.Context, j bridge.Job) error {
			log.add(j)
			return fmt.Errorf("attempt %d: 502", j.Attempts)
		}}, jobs.Options{
			Now:    clk.Now,
			Limits: func(string) bridge.JobLimits { return bridge.JobLimits{MaxAttempts: 3} },
			OnDead: func(ctx context.Context, j bridge.Job, cause error) error {
				deaths.Add(1)
				return s.Tx(ctx, func(tx bridge.Tx) error { return tx.BuryJob(ctx, j.ID, j.Attempts+1, cause.Error()) })
			},
		})
		enqueue(t, s, bridge.Job{Lane: "x", Kind: "flaky"})
		for attempt := range 2 {
			eventually(t, 5*time.Second, fmt.Sprintf("attempt %d to be rescheduled", attempt), func() bool {
				js := pending(t, s, "")
				return len(js) == 1 && js[0].Attempts == attempt+1
			})
			clk.Add(time.Hour) // past any backoff
			s.Wake()
		}
		eventually(t, 5*time.Second, "the job to end", func() bool { return len(dead(t, s)) == 1 })
		d := dead(t, s)[0]
		if d.Attempts != 3 || !strings.Contains(d.LastError, "attempt 2: 502") {
			t.Errorf("dead job %+v, want 3 attempts and the last failure", d)
		}
		clk.Add(time.Hour)
		s.Wake()
		time.Sleep(60 * time.Millisecond)
		if n := len(log.snapshot()); n != 3 || deaths.Load() != 1 {
			t.Errorf("%d runs and %d deaths, want 3 and 1", n, deaths.Load())
		}
		if js := pending(t, s, ""); len(js) != 0 {
			t.Errorf("pending after death: %+v", js)
		}
	})

	t.Run("MaxAge passed ends failing, deferred and unknown jobs", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		deferred := &bridge.RetryAfterError{Wait: time.Minute, Err: errors.New("employee unreachable")}
		startRunner(t, s, map[string]bridge.JobHandler{
			"fail":  func(context.Context, bridge.Job) error { return errors.New("503") },
			"defer": func(context.Context, bridge.Job) error { return deferred },
		}, jobs.Options{
			Now:    clk.Now,
			Limits: func(string) bridge.JobLimits { return bridge.JobLimits{MaxAttempts: 100, MaxAge: time.Hour} },
		})
		enqueue(t, s, bridge.Job{Lane: "a", Kind: "fail"}, bridge.Job{Lane: "b", Kind: "defer"}, bridge.Job{Lane: "c", Kind: "newer-kind"})
		eventually(t, 5*time.Second, "three jobs rescheduled, young enough to live", func() bool {
			js := pending(t, s, "")
			return len(js) == 3 && js[0].LastError != "" && js[1].LastError != "" && js[2].LastError != ""
		})
		if d := dead(t, s); len(d) != 0 {
			t.Fatalf("young jobs died: %+v", d)
		}
		clk.Add(2 * time.Hour)
		s.Wake()
		eventually(t, 5*time.Second, "all three to end", func() bool { return len(dead(t, s)) == 3 })
		if js := pending(t, s, ""); len(js) != 0 {
			t.Errorf("pending after MaxAge: %+v", js)
		}
		for _, d := range dead(t, s) {
			if d.Lane == "c" && !strings.Contains(d.LastError, jobs.ErrNoHandler.Error()) {
				t.Errorf("unknown kind died with %q", d.LastError)
			}
		}
	})

	t.Run("Retry-After does not use up attempts", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		const deferrals = 5
		var log runLog
		startRunner(t, s, map[string]bridge.JobHandler{"deliver": func(ctx context.Context, j bridge.Job) error {
			log.add(j)
			if n := len(log.snapshot()); n <= deferrals {
				return &bridge.RetryAfterError{Wait: time.Second, Err: fmt.Errorf("429 #%d", n)}
			}
			return nil
		}}, jobs.Options{
			Now:    clk.Now,
			Limits: func(string) bridge.JobLimits { return bridge.JobLimits{MaxAttempts: 2} },
		})
		enqueue(t, s, bridge.Job{Lane: "deliver:e1", Kind: "deliver"})
		for n := 1; n <= deferrals; n++ {
			eventually(t, 5*time.Second, fmt.Sprintf("deferral %d", n), func() bool {
				js := pending(t, s, "")
				return len(js) == 1 && strings.Contains(js[0].LastError, fmt.Sprintf("429 #%d", n))
			})
			clk.Add(time.Second)
			s.Wake()
		}
		eventually(t, 5*time.Second, "success", func() bool { return len(pending(t, s, "")) == 0 })
		if d := dead(t, s); len(d) != 0 {
			t.Errorf("a deferred job died: %+v", d)
		}
		for _, j := range log.snapshot() {
			if j.Attempts != 0 {
				t.Errorf("run with %d attempts counted, want 0 after deferrals only", j.Attempts)
			}
		}
	})

	t.Run("a dead job is not claimed; RetryJob revives it", func(t *testing.T) {
		s := f(t)()
		before := time.Now().Add(-time.Second)
		buried := buryOne(t, s, bridge.Job{Lane: "send:t1", Kind: "send", Payload: payload(0)}, 4, "errcode 45015 out of window")
		next := enqueueOne(t, s, bridge.Job{Lane: "send:t1", Kind: "send", Payload: payload(1)})
		var log runLog
		startRunner(t, s, map[string]bridge.JobHandler{"send": func(ctx context.Context, j bridge.Job) error {
			log.add(j)
			return nil
		}}, jobs.Options{})
		eventually(t, 5*time.Second, "the lane's live job to run", func() bool { return len(log.snapshot()) == 1 })
		got := log.snapshot()[0]
		if got.ID != next.ID {
			t.Fatalf("ran job %d, want %d (the dead job must not run)", got.ID, next.ID)
		}
		if got.Created.Before(before) || got.Created.After(time.Now().Add(time.Second)) {
			t.Errorf("claimed job's Created = %s, want about now", got.Created)
		}
		eventually(t, 5*time.Second, "an empty queue", func() bool { return len(pending(t, s, "")) == 0 })
		if d := dead(t, s); len(d) != 1 || d[0].ID != buried.ID || d[0].Attempts != 4 || d[0].LastError != "errcode 45015 out of window" {
			t.Fatalf("dead jobs %+v, want job %d as buried", d, buried.ID)
		}

		mustErr(t, s.RetryJob(t.Context(), 999999), bridge.ErrNotFound)
		live := enqueueOne(t, s, bridge.Job{Lane: "timer:t9", Kind: "timer", RunAt: time.Now().Add(time.Hour)})
		mustErr(t, s.RetryJob(t.Context(), live.ID), jobs.ErrJobAlive)
		if err := s.RetryJob(t.Context(), buried.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "the revived job to run", func() bool { return len(log.snapshot()) == 2 })
		revived := log.snapshot()[1]
		if revived.ID != buried.ID || revived.Attempts != 0 || revived.LastError != "errcode 45015 out of window" {
			t.Errorf("revived run %+v, want job %d with 0 attempts and its last error", revived, buried.ID)
		}
		eventually(t, 5*time.Second, "only the timer left", func() bool { return len(pending(t, s, "send:")) == 0 })
		if d := dead(t, s); len(d) != 0 {
			t.Errorf("dead jobs after the retry succeeded: %+v", d)
		}
	})

	t.Run("SetTimer, CancelLanes and WakeLane leave dead jobs alone", func(t *testing.T) {
		s := f(t)()
		d1 := buryOne(t, s, bridge.Job{Lane: "timer:t1:24h", Kind: "timer", RunAt: time.Now().Add(time.Hour)}, 1, "boom")
		d2 := buryOne(t, s, bridge.Job{Lane: "timer:t2:24h", Kind: "timer", RunAt: time.Now().Add(time.Hour)}, 1, "boom")
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.SetTimer(ctx, bridge.Job{Lane: "timer:t1:24h", Kind: "timer", RunAt: time.Now().Add(2 * time.Hour)}); err != nil {
				return err
			}
			if err := tx.WakeLane(ctx, "timer:t2:24h"); err != nil {
				return err
			}
			return tx.CancelLanes(ctx, "timer:t2:24h")
		})
		d := dead(t, s)
		if len(d) != 2 || d[0].ID != d2.ID || d[1].ID != d1.ID {
			t.Fatalf("dead jobs after lane operations: %+v, want %d and %d", d, d2.ID, d1.ID)
		}
		if js := pending(t, s, ""); len(js) != 1 || js[0].Lane != "timer:t1:24h" || js[0].ID == d1.ID {
			t.Errorf("pending %+v, want only the new timer of t1", js)
		}
	})

	t.Run("DiscardJob deletes only dead jobs; Jobs lists newest first", func(t *testing.T) {
		s := f(t)()
		var ids []int64
		for i := range 5 {
			j := enqueueOne(t, s, bridge.Job{Lane: fmt.Sprintf("l%d", i), Kind: "k", RunAt: time.Now().Add(time.Hour)})
			ids = append(ids, j.ID)
		}
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			if err := tx.BuryJob(ctx, ids[1], 2, "one"); err != nil {
				return err
			}
			return tx.BuryJob(ctx, ids[3], 2, "three")
		})
		cases := []struct {
			f    jobs.Filter
			want []int64
		}{
			{jobs.Filter{}, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
			{jobs.Filter{Limit: 2}, []int64{ids[4], ids[3]}},
			{jobs.Filter{Dead: true}, []int64{ids[3], ids[1]}},
			{jobs.Filter{Dead: true, Limit: 1}, []int64{ids[3]}},
		}
		for _, c := range cases {
			var got []int64
			for _, j := range listJobs(t, s, c.f) {
				got = append(got, j.ID)
				if j.Dead != (j.ID == ids[1] || j.ID == ids[3]) {
					t.Errorf("job %d Dead = %t", j.ID, j.Dead)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Jobs(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		mustErr(t, s.DiscardJob(t.Context(), ids[0]), jobs.ErrJobAlive)
		mustErr(t, s.DiscardJob(t.Context(), 999999), bridge.ErrNotFound)
		if err := s.DiscardJob(t.Context(), ids[1]); err != nil {
			t.Fatal(err)
		}
		mustErr(t, s.DiscardJob(t.Context(), ids[1]), bridge.ErrNotFound)
		if d := dead(t, s); len(d) != 1 || d[0].ID != ids[3] {
			t.Errorf("dead after discard: %+v, want only %d", d, ids[3])
		}
		if n := len(listJobs(t, s, jobs.Filter{})); n != 4 {
			t.Errorf("%d jobs after discarding one of 5", n)
		}
	})

	t.Run("BuryJob rolls back with its transaction", func(t *testing.T) {
		s := f(t)()
		j := enqueueOne(t, s, bridge.Job{Lane: "send:t1", Kind: "send"})
		rollback := errors.New("settling failed")
		err := s.Tx(t.Context(), func(tx bridge.Tx) error {
			if err := tx.BuryJob(t.Context(), j.ID, 3, "boom"); err != nil {
				return err
			}
			return rollback
		})
		mustErr(t, err, rollback)
		if d := dead(t, s); len(d) != 0 {
			t.Errorf("rolled-back burial left %+v", d)
		}
		if js := pending(t, s, ""); len(js) != 1 || js[0].ID != j.ID || js[0].Attempts != 0 || js[0].Dead {
			t.Errorf("pending after rollback: %+v", js)
		}
		err = s.Tx(t.Context(), func(tx bridge.Tx) error { return tx.BuryJob(t.Context(), 999999, 1, "x") })
		mustErr(t, err, bridge.ErrNotFound)
	})

	t.Run("last errors are kept without credentials", func(t *testing.T) {
		s := f(t)()
		leak := `Post "https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=SECRET-TOKEN-123&debug=1": dial tcp: connection reset`
		buryOne(t, s, bridge.Job{Lane: "send:t1", Kind: "send"}, 1, leak)
		d := dead(t, s)
		if len(d) != 1 {
			t.Fatalf("dead jobs %+v, want 1", d)
		}
		if strings.Contains(d[0].LastError, "SECRET-TOKEN-123") || !strings.Contains(d[0].LastError, "connection reset") {
			t.Errorf("last error %q, want it without the token", d[0].LastError)
		}
	})
}
