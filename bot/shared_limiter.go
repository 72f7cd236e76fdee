package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/multiline/multiline/bridge"
)

// SharedRates keeps each key's recent grants where every replica takes from
// them (storage.DB implements it on PostgreSQL), so that the replicas together
// keep to Teams' limits. TakeRates lets a request through every limit or
// through none, and answers how long until it could when it let none.
type SharedRates interface {
	TakeRates(ctx context.Context, now time.Time, limits []bridge.RateLimit) (wait time.Duration, err error)
}

// gate is the bot's way through Teams' limits: the in-process sliding windows
// (limiter, one replica) or the same windows shared by every replica
// (sharedLimiter).
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

// sharedLimiter keeps Teams' sliding windows exactly, as the in-process
// limiter does, but with each key's grants in the database every replica uses:
// a request goes when, for every window {Per, N} of its keys, fewer than N
// grants are younger than Per (+margin), and otherwise waits until the N-th
// latest leaves the window. An earlier version kept one GCRA bucket per window:
// a bucket cannot express a sliding window, and the burst it must trade for
// its pace held a conversation to 1.83 of the 60/30 s window's 2 per second.
type sharedLimiter struct {
	rates  SharedRates
	margin time.Duration
	now    func() time.Time
}

// limitsOf are the limits a request with keys must pass.
func (l *sharedLimiter) limitsOf(keys []limitKey) []bridge.RateLimit {
	out := make([]bridge.RateLimit, len(keys))
	for i, k := range keys {
		ws := make([]bridge.RateWindow, len(k.windows))
		for j, w := range k.windows {
			ws[j] = bridge.RateWindow{Per: w.Per + l.margin, N: w.N}
		}
		out[i] = bridge.RateLimit{Key: k.name, Windows: ws}
	}
	return out
}

func (l *sharedLimiter) take(ctx context.Context, keys []limitKey) (time.Duration, error) {
	d, err := l.rates.TakeRates(ctx, l.now(), l.limitsOf(keys))
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
