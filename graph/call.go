package graph

import (
	"context"
	"errors"
	"time"
)

// call runs one Graph request, retrying throttled (429) and unavailable
// (503, 504) answers. It waits Retry-After when Graph gives one and it is
// within maxWait, else backs off 1 s, 2 s, 4 s…; a Retry-After longer than
// maxWait ends the call at once, so a worker is never parked for minutes.
func (c *Client) call(ctx context.Context, op, permission string, do func(context.Context) error) error {
	var last *Error
	for attempt := 1; ; attempt++ {
		err := do(ctx)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return &Error{Op: op, Err: errors.Join(ctxErr, err)}
		}
		last = classify(op, permission, err)
		if !retryable(last.Status) || attempt >= c.attempts {
			return last
		}
		wait := last.RetryAfter
		if wait == 0 {
			wait = time.Duration(1<<(attempt-1)) * time.Second
		}
		if wait > c.maxWait {
			return last
		}
		if err := c.sleep(ctx, wait); err != nil {
			return &Error{Op: op, Status: last.Status, RetryAfter: last.RetryAfter, Err: errors.Join(err, last)}
		}
	}
}

func retryable(status int) bool {
	return status == 429 || status == 503 || status == 504
}
