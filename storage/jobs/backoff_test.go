package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

func TestBackoff(t *testing.T) {
	cases := []struct {
		attempts int
		lo, hi   time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, time.Second, 2 * time.Second},
		{5, 16 * time.Second, 32 * time.Second},
		{8, 128 * time.Second, 256 * time.Second},
		{9, BackoffCap / 2, BackoffCap},
		{63, BackoffCap / 2, BackoffCap},
	}
	for _, c := range cases {
		for range 200 {
			if d := Backoff(c.attempts); d < c.lo || d > c.hi {
				t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", c.attempts, d, c.lo, c.hi)
			}
		}
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	ra := &bridge.RetryAfterError{Wait: 42 * time.Second, Err: errors.New("429")}
	cases := []struct {
		name   string
		err    error
		lo, hi time.Duration
	}{
		{"plain error backs off", errors.New("502"), 4 * time.Second, 8 * time.Second},
		{"Retry-After is honoured", ra, 42 * time.Second, 42 * time.Second},
		{"wrapped Retry-After too", fmt.Errorf("send: %w", ra), 42 * time.Second, 42 * time.Second},
	}
	for _, c := range cases {
		if d := NextRun(now, 3, c.err).Sub(now); d < c.lo || d > c.hi {
			t.Errorf("%s: next run in %s, want within [%s, %s]", c.name, d, c.lo, c.hi)
		}
	}
}
