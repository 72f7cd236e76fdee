package jobs

import (
	"context"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Queue is the storage side of the runner. Every method acts only on jobs held by
// owner, so a runner whose lease expired (and whose job another runner took over)
// cannot delete or reschedule work it no longer holds.
type Queue interface {
	// Claim leases due jobs to owner until until, for each Want up to its Limit
	// jobs of its kinds, all in one transaction. A job is due when it is alive,
	// its RunAt is not after now, it is the oldest live job of its lane, and no job
	// of its lane is leased past now. Dead jobs count for none of this. Each
	// Want's jobs are the earliest due (by RunAt, then id); the jobs come back in
	// that order per Want, and carry their Created, Attempts and LastError.
	Claim(ctx context.Context, owner string, now, until time.Time, wants []Want) ([]bridge.Job, error)
	// Complete deletes a finished job. It is not an error if the job is gone already
	// (the handler completed it in its own transaction).
	Complete(ctx context.Context, owner string, id int64) error
	// Retry releases the job to run again at runAt with attempts recorded, saving
	// the failure's text.
	Retry(ctx context.Context, owner string, id int64, runAt time.Time, attempts int, lastErr string) error
	// Bury ends a job owner holds dead, with attempts and lastErr recorded: it
	// stays for an operator and its lane moves on. It is the runner's fallback when
	// Options.OnDead is nil or failed; it is not an error if owner no longer holds
	// the job (OnDead buried it after all, or another runner took it over).
	Bury(ctx context.Context, owner string, id int64, attempts int, lastErr string) error
	// Extend pushes the lease of the listed jobs, those of them owner holds, to
	// until. The runner lists the jobs whose handlers it is running, so that a job
	// whose outcome it failed to write (the database was unreachable) is not kept
	// leased by the heartbeat for ever: its lease runs out and it runs again.
	Extend(ctx context.Context, owner string, ids []int64, until time.Time) error
}

// Want is what one claim asks for one pool of workers: up to Limit due jobs
// whose kind is one of Kinds or, with Except, is none of them.
type Want struct {
	Kinds  []string
	Except bool
	Limit  int
}

// Matches says whether a job of kind is one w asks for.
func (w Want) Matches(kind string) bool {
	for _, k := range w.Kinds {
		if k == kind {
			return !w.Except
		}
	}
	return w.Except
}
