package jobs

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Backoff limits: the first retry waits about BackoffBase, each further one twice
// as long, never more than BackoffCap.
const (
	BackoffBase = time.Second
	BackoffCap  = 5 * time.Minute
)

// Backoff is the wait before the next attempt of a job that has failed attempts+1
// times: BackoffBase·2^attempts capped at BackoffCap, drawn uniformly from its upper
// half so that jobs failing together do not retry together.
func Backoff(attempts int) time.Duration {
	d := BackoffCap
	if attempts < 20 { // beyond 2^20 s the cap applies anyway; avoids overflow
		d = min(BackoffBase<<attempts, BackoffCap)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// NextRun is when a job whose handler returned err at now should run again: after
// the wait a *bridge.RetryAfterError asks for, or else after Backoff.
func NextRun(now time.Time, attempts int, err error) time.Time {
	if ra, ok := errors.AsType[*bridge.RetryAfterError](err); ok && ra.Wait >= 0 {
		return now.Add(ra.Wait)
	}
	return now.Add(Backoff(attempts))
}
