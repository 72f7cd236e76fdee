package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// grants records, per limit key, the clock times at which the shared windows
// let a request through: what Teams would have seen from all replicas.
type grants struct {
	mu sync.Mutex
	at map[string][]time.Time // limitKey name → times
}

func (g *grants) record(now time.Time, ls []bridge.RateLimit) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, l := range ls {
		g.at[l.Key] = append(g.at[l.Key], now)
	}
}

// recorder is one replica's SharedRates, recording its grants in g.
type recorder struct {
	next SharedRates
	g    *grants
}

func (r recorder) TakeRates(ctx context.Context, now time.Time, ls []bridge.RateLimit) (time.Duration, error) {
	d, err := r.next.TakeRates(ctx, now, ls)
	if err == nil && d == 0 {
		r.g.record(now, ls)
	}
	return d, err
}

// mostInWindow is the largest number of times within any span of per.
func mostInWindow(ts []time.Time, per time.Duration) int {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, time.Time.Compare)
	most, i := 0, 0
	for j := range ts {
		for ts[j].Sub(ts[i]) >= per {
			i++
		}
		most = max(most, j-i+1)
	}
	return most
}

// twoSharedLimiters are two replicas' limiters on one PostgreSQL schema, with
// one clock, recording their grants.
func twoSharedLimiters(t *testing.T, now func() time.Time) (a, b *sharedLimiter, g *grants) {
	t.Helper()
	u := pgtest.Schema(t)
	open := func() *storage.DB {
		db, err := storage.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	da := open()
	if err := da.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db := open()
	g = &grants{at: map[string][]time.Time{}}
	margin := 100 * time.Millisecond
	return &sharedLimiter{rates: recorder{da, g}, margin: margin, now: now}, &sharedLimiter{rates: recorder{db, g}, margin: margin, now: now}, g
}

// checkWindows fails the test if the grants of any key exceed one of Teams'
// windows.
func checkWindows(t *testing.T, g *grants) (total int) {
	t.Helper()
	for name, ts := range g.at {
		windows := ConversationLimits
		if name[:2] == "t:" {
			windows = TenantLimits
		}
		for _, w := range windows {
			if most := mostInWindow(ts, w.Per); most > w.N {
				t.Errorf("%s: %d grants within %s, the limit is %d", name, most, w.Per, w.N)
			}
		}
		if name[:2] == "t:" {
			total = len(ts)
		}
	}
	return total
}

// Two replicas' limiters on one database answer exactly as one process's
// sliding windows would for both, request by request and to the microsecond,
// and together never exceed Teams' windows: per conversation and per tenant.
// The clock is the test's: it moves 4 ms between requests, which ask for ten
// conversations of one tenant in turn, from either replica.
func TestSharedLimitsHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()) }
	a, b, g := twoSharedLimiters(t, now)
	ref := newLimiter(a.margin, now)
	ctx := t.Context()
	const steps = 1000 // 4 s of the clock
	sliding := 0
	for i := range steps {
		l := a
		if i%3 == 1 {
			l = b
		}
		conv := bridge.ConversationRef{ConversationID: fmt.Sprintf("a:conv%d", i%10), TenantID: "tenant1"}
		keys := []limitKey{convKey(conv), tenantKey(conv, &bridge.Employee{})}
		r := ref.reserve(keys...)
		want := r.At.Sub(now())
		if want > 0 {
			r.Cancel()
		} else {
			sliding++
		}
		err := l.admit(ctx, keys...)
		var ra *bridge.RetryAfterError
		switch {
		case want <= 0 && err != nil:
			t.Fatalf("request %d: %v, want it through", i, err)
		case want > 0 && !errors.As(err, &ra):
			t.Fatalf("request %d: %v, want a RetryAfterError of %s", i, err, want)
		case want > 0 && ra.Wait != want:
			t.Fatalf("request %d: not before +%s, want +%s", i, ra.Wait, want)
		}
		clock.Add(4000)
	}
	if total := checkWindows(t, g); total != sliding {
		t.Errorf("the shared windows let %d of %d requests through, one process's sliding windows %d", total, steps, sliding)
	}
}

// Concurrent requests from both replicas, the clock moving under them, never
// exceed Teams' windows together.
func TestSharedLimitsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()) }
	a, b, g := twoSharedLimiters(t, now)
	var wg sync.WaitGroup
	for w := range 4 {
		l := a
		if w%2 == 1 {
			l = b
		}
		wg.Go(func() {
			for i := range 120 {
				conv := bridge.ConversationRef{ConversationID: fmt.Sprintf("a:conv%d", (i+w)%3), TenantID: "tenant1"}
				err := l.admit(t.Context(), convKey(conv), tenantKey(conv, &bridge.Employee{}))
				if _, paced := errors.AsType[*bridge.RetryAfterError](err); err != nil && !paced {
					t.Error(err)
					return
				}
				clock.Add(2000)
			}
		})
	}
	wg.Wait()
	if total := checkWindows(t, g); total == 0 {
		t.Error("nothing went through")
	}
}

// BenchmarkRateTake measures one admission through Teams' limits (a
// conversation's four windows and the tenant's): in memory (one process's
// sliding windows, the baseline) and through the shared windows on
// PostgreSQL (one statement). It reports us/take and shared_ratio, the shared
// take's time over the in-memory one measured in the same run. Requests go to
// 1,000 conversations in turn, with the clock moving an hour between rounds,
// so that every take is admitted.
//
//	go test -run '^$' -bench RateTake -benchtime 3000x ./bot
func BenchmarkRateTake(b *testing.B) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()) }
	keys := func(i int) []limitKey {
		conv := bridge.ConversationRef{ConversationID: fmt.Sprintf("a:conv%d", i%1000), TenantID: fmt.Sprintf("tenant%d", i%1000)}
		if i%1000 == 999 {
			clock.Add(int64(time.Hour / time.Microsecond))
		}
		return []limitKey{convKey(conv), tenantKey(conv, &bridge.Employee{})}
	}
	run := func(b *testing.B, g gate) float64 {
		start := time.Now()
		for i := range b.N {
			if err := g.admit(context.Background(), keys(i)...); err != nil {
				b.Fatal(err)
			}
		}
		return float64(time.Since(start).Microseconds()) / float64(b.N)
	}
	var mem float64
	b.Run("memory", func(b *testing.B) {
		mem = run(b, newLimiter(100*time.Millisecond, now))
		b.ReportMetric(mem, "us/take")
	})
	b.Run("postgres", func(b *testing.B) {
		u := pgtest.Schema(b)
		db, err := storage.Open(b.Context(), u)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		us := run(b, &sharedLimiter{rates: db, margin: 100 * time.Millisecond, now: now})
		b.ReportMetric(us, "us/take")
		if mem > 0 {
			b.ReportMetric(us/mem, "shared_ratio")
		}
	})
}
