package bot

import (
	"context"
	"sync"
	"time"
)

// Window allows at most N requests in any span of Per.
type Window struct {
	Per time.Duration
	N   int
}

// Teams' documented limits: per bot per conversation, and per app per tenant.
var (
	ConversationLimits = []Window{{time.Second, 7}, {2 * time.Second, 8}, {30 * time.Second, 60}, {time.Hour, 1800}}
	TenantLimits       = []Window{{time.Second, 50}}
)

// limiter is an exact sliding-window limiter over several windows at once, which
// token buckets cannot express (7 per second but 8 per two seconds). Each key keeps
// the times of its granted requests; a request is granted at the earliest time at
// which, for every window, the n-th latest grant is at least Per (+margin) old.
// Grants can lie in the future: the caller sleeps until its slot. Limits are per
// process; with several replicas each one keeps to them for the conversations
// whose jobs it runs.
type limiter struct {
	margin time.Duration // added to every window, for clock jitter between us and Teams
	now    func() time.Time

	mu      sync.Mutex
	hist    map[string][]time.Time
	sweepAt time.Time
}

type limitKey struct {
	name    string
	windows []Window
}

func newLimiter(margin time.Duration, now func() time.Time) *limiter {
	return &limiter{margin: margin, now: now, hist: map[string][]time.Time{}}
}

// reserve takes the earliest slot allowed for all keys and returns its time.
func (l *limiter) reserve(keys ...limitKey) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	t := now
	for _, k := range keys {
		h := l.hist[k.name]
		if len(h) > 0 {
			t = later(t, h[len(h)-1]) // grants stay sorted
		}
		for _, w := range k.windows {
			if len(h) >= w.N {
				t = later(t, h[len(h)-w.N].Add(w.Per+l.margin))
			}
		}
	}
	for _, k := range keys {
		h := append(l.hist[k.name], t)
		l.hist[k.name] = h[firstLive(h, longest(k.windows)+l.margin, now):]
	}
	if now.After(l.sweepAt) {
		l.sweep(now)
	}
	return t
}

// wait reserves a slot and sleeps until it comes.
func (l *limiter) wait(ctx context.Context, keys ...limitKey) error {
	d := l.reserve(keys...).Sub(l.now())
	if d <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}

// sweep forgets keys idle for longer than any window, so that memory follows the
// active conversations only.
func (l *limiter) sweep(now time.Time) {
	for name, h := range l.hist {
		if len(h) == 0 || now.Sub(h[len(h)-1]) > time.Hour+l.margin {
			delete(l.hist, name)
		}
	}
	l.sweepAt = now.Add(time.Minute)
}

func firstLive(h []time.Time, span time.Duration, now time.Time) int {
	i := 0
	for i < len(h) && now.Sub(h[i]) >= span {
		i++
	}
	return i
}

func longest(ws []Window) time.Duration {
	var d time.Duration
	for _, w := range ws {
		d = max(d, w.Per)
	}
	return d
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// IdealDuration is the least time n requests to one key can take under windows:
// the span from the first to the last grant of a perfect scheduler. Benchmarks
// compare measured throughput with it.
func IdealDuration(n int, windows []Window) time.Duration {
	start := time.Unix(0, 0)
	l := newLimiter(0, func() time.Time { return start })
	var last time.Time
	for range n {
		last = l.reserve(limitKey{"k", windows})
	}
	return last.Sub(start)
}
