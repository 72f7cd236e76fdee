package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage/jobs"
	"github.com/multiline/multiline/storage/memstore"
)

// runs reads how many runs of kind with outcome multiline_job_run_seconds has
// recorded.
func runs(t *testing.T, kind, outcome string) uint64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "multiline_job_run_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["outcome"] == outcome {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestRunRecordsMetrics: every handler run is recorded with its kind and what
// became of the job.
func TestRunRecordsMetrics(t *testing.T) {
	s := memstore.New()
	now := time.Now()
	var clockMu sync.Mutex
	clock := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return now
	}
	var mu sync.Mutex
	calls := map[string]int{}
	handler := func(ctx context.Context, j bridge.Job) error {
		mu.Lock()
		calls[j.Kind]++
		n := calls[j.Kind]
		mu.Unlock()
		switch {
		case j.Kind == "metrics.defer" && n == 1:
			return &bridge.RetryAfterError{Wait: time.Hour, Err: errors.New("limiter")}
		case j.Kind == "metrics.retry" && n == 1:
			return errors.New("502")
		case j.Kind == "metrics.dead":
			return bridge.Permanent(errors.New("400"))
		}
		return nil
	}
	h := map[string]bridge.JobHandler{}
	kinds := []string{"metrics.done", "metrics.defer", "metrics.retry", "metrics.dead"}
	for _, k := range kinds {
		h[k] = handler
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunJobs(ctx, h, jobs.Options{Now: clock, PollInterval: 5 * time.Millisecond}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if err := s.Tx(ctx, func(tx bridge.Tx) error {
		for _, k := range kinds {
			if err := tx.Enqueue(ctx, bridge.Job{Lane: k, Kind: k}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Wake()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	wait("first runs", func() bool {
		return runs(t, "metrics.done", metrics.JobDone) == 1 && runs(t, "metrics.defer", metrics.JobDeferred) == 1 &&
			runs(t, "metrics.retry", metrics.JobRetry) == 1 && runs(t, "metrics.dead", metrics.JobDead) == 1
	})
	clockMu.Lock()
	now = now.Add(2 * time.Hour)
	clockMu.Unlock()
	s.Wake()
	wait("second runs", func() bool {
		return runs(t, "metrics.defer", metrics.JobDone) == 1 && runs(t, "metrics.retry", metrics.JobDone) == 1
	})
}
