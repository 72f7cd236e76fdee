package bot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Window allows at most N requests in any span of Per.
type Window = bridge.RateWindow

// Teams' documented limits: per bot per conversation, and per app per tenant.
var (
	ConversationLimits = []Window{{Per: time.Second, N: 7}, {Per: 2 * time.Second, N: 8}, {Per: 30 * time.Second, N: 60}, {Per: time.Hour, N: 1800}}
	TenantLimits       = []Window{{Per: time.Second, N: 50}}
)

// limiter is an exact sliding-window limiter over several windows at once, which
// token buckets cannot express (7 per second but 8 per two seconds). Each key keeps
// the times of its granted requests; a request is granted at the earliest time at
// which, for every window, the n-th latest grant is at least Per (+margin) old.
//
// The limiter answers "not before T" (reserve): a job delivery that would have to
// wait cancels its reservation and hands the wait back to the job runner as a
// *bridge.RetryAfterError, so that no worker sleeps in here; an answer to an
// inbound activity (an HTTP request Teams waits on) sleeps until its slot
// instead (wait). Its limits are per process: with several replicas on
// PostgreSQL, Config.Rates replaces it with windows all replicas share
// (sharedLimiter).
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

// reservation is a slot taken for a set of keys: At is when the request may go.
// Cancel gives the slot back if the request will not be made at At.
type reservation struct {
	l    *limiter
	At   time.Time
	keys []limitKey
}

func newLimiter(margin time.Duration, now func() time.Time) *limiter {
	return &limiter{margin: margin, now: now, hist: map[string][]time.Time{}}
}

// reserve takes the earliest slot allowed for all keys. The slot counts against
// the limits until it is cancelled.
func (l *limiter) reserve(keys ...limitKey) reservation {
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
	return reservation{l: l, At: t, keys: keys}
}

// Cancel gives the slot back, as if it had never been reserved. Slots reserved
// after it keep their (later) times: that errs on the side of Teams' limits.
func (r reservation) Cancel() {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	for _, k := range r.keys {
		h := r.l.hist[k.name]
		// The latest grant at r.At: grants are sorted, and equal times are alike.
		for i := len(h) - 1; i >= 0 && !h[i].Before(r.At); i-- {
			if h[i].Equal(r.At) {
				r.l.hist[k.name] = slices.Delete(h, i, i+1)
				break
			}
		}
	}
}

// inlineWait is the longest wait a job delivery sleeps through in place. A
// longer one is handed back to the job runner (a deferral costs a database
// write and the runner's poll), so that no worker is held by Teams' pace.
const inlineWait = 5 * time.Millisecond

// admit is the job deliveries' way through the limits: nil when the request may
// go now (after at most inlineWait), or a *bridge.RetryAfterError that says how
// long until it may, with the slot given back so that the deferred request
// takes no one's place meanwhile.
func (l *limiter) admit(ctx context.Context, keys ...limitKey) error {
	r := l.reserve(keys...)
	d := r.At.Sub(l.now())
	switch {
	case d <= 0:
		return ctx.Err()
	case d <= inlineWait:
		return sleep(ctx, d)
	}
	r.Cancel()
	return &bridge.RetryAfterError{Wait: d, Err: errPaced}
}

// errPaced is the cause of a deferral by our own limiter.
var errPaced = errors.New("bot: Teams' rate limits for this conversation or tenant are reached for now")

// wait reserves a slot and sleeps until it comes (answers to inbound activities).
func (l *limiter) wait(ctx context.Context, keys ...limitKey) error {
	d := l.reserve(keys...).At.Sub(l.now())
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
		last = l.reserve(limitKey{"k", windows}).At
	}
	return last.Sub(start)
}
