package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// grants records, per limit key, the clock times at which the shared buckets
// let a request through: what Teams would have seen from all replicas.
type grants struct {
	mu sync.Mutex
	at map[string][]time.Time // limitKey name → times
}

func (g *grants) record(now time.Time, bs []bridge.RateBucket) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := map[string]bool{}
	for _, b := range bs {
		name := b.Key[:strings.LastIndex(b.Key[:strings.LastIndex(b.Key, "/")], "/")] // without "/Per/N"
		if !seen[name] {
			seen[name] = true
			g.at[name] = append(g.at[name], now)
		}
	}
}

// recorder is one replica's SharedRates, recording its grants in g.
type recorder struct {
	next SharedRates
	g    *grants
}

func (r recorder) TakeRates(ctx context.Context, now time.Time, bs []bridge.RateBucket) (time.Duration, error) {
	d, err := r.next.TakeRates(ctx, now, bs)
	if err == nil && d == 0 {
		r.g.record(now, bs)
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

// refGCRA is the arithmetic of the shared buckets, in memory: what one
// limiter for all replicas would answer.
type refGCRA map[string]int64 // key → tat, µs

func (r refGCRA) take(now time.Time, bs []bridge.RateBucket) time.Duration {
	n := now.UnixMicro()
	var wait int64
	for _, b := range bs {
		iv := b.Interval.Microseconds()
		if w := max(r[b.Key], n) - int64(b.Burst-1)*iv - n; w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return time.Duration(wait) * time.Microsecond
	}
	for _, b := range bs {
		r[b.Key] = max(r[b.Key], n) + b.Interval.Microseconds()
	}
	return 0
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

// Two replicas' limiters on one database answer exactly as one GCRA for both
// would, and together never exceed Teams' windows: per conversation and per
// tenant. The clock is the test's: it moves 4 ms between requests, which ask
// for ten conversations of one tenant in turn, from either replica.
func TestSharedLimitsHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()) }
	a, b, g := twoSharedLimiters(t, now)
	ref := refGCRA{}
	ctx := t.Context()
	const steps = 1000 // 4 s of the clock
	for i := range steps {
		l := a
		if i%3 == 1 {
			l = b
		}
		conv := bridge.ConversationRef{ConversationID: fmt.Sprintf("a:conv%d", i%10), TenantID: "tenant1"}
		keys := []limitKey{convKey(conv), tenantKey(conv, &bridge.Employee{})}
		want := ref.take(now(), l.bucketsOf(keys))
		err := l.admit(ctx, keys...)
		var ra *bridge.RetryAfterError
		switch {
		case want == 0 && err != nil:
			t.Fatalf("request %d: %v, want it through", i, err)
		case want > 0 && !errors.As(err, &ra):
			t.Fatalf("request %d: %v, want a RetryAfterError of %s", i, err, want)
		case want > 0 && ra.Wait != want:
			t.Fatalf("request %d: not before +%s, want +%s", i, ra.Wait, want)
		}
		clock.Add(4000)
	}
	total := checkWindows(t, g)
	// What the in-process sliding windows (one replica) let through of the
	// same requests: the buckets trade some burst for holding across replicas.
	clock.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro())
	mem := newLimiter(100*time.Millisecond, now)
	sliding := 0
	for i := range steps {
		conv := bridge.ConversationRef{ConversationID: fmt.Sprintf("a:conv%d", i%10), TenantID: "tenant1"}
		if r := mem.reserve(convKey(conv), tenantKey(conv, &bridge.Employee{})); r.At.After(now()) {
			r.Cancel()
		} else {
			sliding++
		}
		clock.Add(4000)
	}
	t.Logf("of %d requests in 4 s of the clock, the shared buckets let %d through, one process's sliding windows %d", steps, total, sliding)
	if 2*total < sliding {
		t.Errorf("the shared buckets let %d through, less than half of the sliding windows' %d", total, sliding)
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
// sliding windows, the baseline) and through the shared buckets on
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
