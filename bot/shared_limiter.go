package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/multiline/multiline/bridge"
)

// SharedRates keeps GCRA buckets that every replica takes from (storage.DB
// implements it on PostgreSQL), so that the replicas together keep to Teams'
// limits. TakeRates takes a token from every bucket or from none, and answers
// how long until it could when it took none.
type SharedRates interface {
	TakeRates(ctx context.Context, now time.Time, buckets []bridge.RateBucket) (wait time.Duration, err error)
}

// gate is the bot's way through Teams' limits: the in-process sliding windows
// (limiter, one replica) or buckets shared by every replica (sharedLimiter).
type gate interface {
	// admit is nil when a job's request may go now, or a *bridge.RetryAfterError
	// that says when it may; it never sleeps longer than inlineWait.
	admit(ctx context.Context, keys ...limitKey) error
	// wait sleeps until the request may go (answers to inbound activities).
	wait(ctx context.Context, keys ...limitKey) error
}

var (
	_ gate = (*limiter)(nil)
	_ gate = (*sharedLimiter)(nil)
)

// sharedLimiter keeps Teams' windows with one GCRA bucket per window and key,
// in the database every replica uses. GCRA cannot express a sliding window
// exactly, so each window {Per, N} becomes a bucket that never lets more than
// N through in any span of Per: burst B, one token every (Per+margin)/(N-B+1).
// (After i grants, grant j comes no sooner than (j-i-B+1) intervals later, so
// a span of Per holds fewer than Per/interval+B = N+1 grants.) A bigger burst
// means a slower pace after it. Small windows (N < 20: a conversation's 7/1 s
// and 8/2 s) get half their N as burst, for a conversation's few cards at
// once; their pace after it (one per 220 ms and per 420 ms) is still above
// that of the 60/30 s window, which sets a conversation's pace. Large ones
// get a tenth, for their pace: 60/30 s becomes 6 at once then one per 547 ms,
// 50/s per tenant 5 then one per 24 ms (42/s).
type sharedLimiter struct {
	rates  SharedRates
	margin time.Duration
	now    func() time.Time
}

// bucketsOf are the buckets a request with keys must pass.
func (l *sharedLimiter) bucketsOf(keys []limitKey) []bridge.RateBucket {
	var out []bridge.RateBucket
	for _, k := range keys {
		for _, w := range k.windows {
			out = append(out, windowBucket(k.name, w, l.margin))
		}
	}
	return out
}

// windowBucket is the GCRA bucket that keeps window w for key (see
// sharedLimiter).
func windowBucket(key string, w Window, margin time.Duration) bridge.RateBucket {
	burst := max(1, w.N/10)
	if w.N < 20 {
		burst = max(1, w.N/2)
	}
	return bridge.RateBucket{
		Key:      key + "/" + w.Per.String() + "/" + strconv.Itoa(w.N),
		Interval: (w.Per + margin) / time.Duration(w.N-burst+1),
		Burst:    burst,
	}
}

func (l *sharedLimiter) take(ctx context.Context, keys []limitKey) (time.Duration, error) {
	d, err := l.rates.TakeRates(ctx, l.now(), l.bucketsOf(keys))
	if err != nil {
		return 0, fmt.Errorf("bot: shared rate limits: %w", err)
	}
	return d, nil
}

func (l *sharedLimiter) admit(ctx context.Context, keys ...limitKey) error {
	d, err := l.take(ctx, keys)
	if err != nil || d == 0 {
		return err
	}
	if d <= inlineWait {
		if err := sleep(ctx, d); err != nil {
			return err
		}
		if d, err = l.take(ctx, keys); err != nil || d == 0 {
			return err
		}
	}
	return &bridge.RetryAfterError{Wait: d, Err: errPaced}
}

func (l *sharedLimiter) wait(ctx context.Context, keys ...limitKey) error {
	for {
		d, err := l.take(ctx, keys)
		if err != nil || d == 0 {
			return err
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}
