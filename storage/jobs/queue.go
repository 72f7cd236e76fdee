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
	// Claim leases up to limit due jobs to owner until until. A job is due when its
	// RunAt is not after now, it is the oldest job of its lane, and no job of its lane
	// is leased past now.
	Claim(ctx context.Context, owner string, now, until time.Time, limit int) ([]bridge.Job, error)
	// Complete deletes a finished job. It is not an error if the job is gone already
	// (the handler completed it in its own transaction).
	Complete(ctx context.Context, owner string, id int64) error
	// Retry releases the job to run again at runAt with attempts recorded, saving
	// the failure's text.
	Retry(ctx context.Context, owner string, id int64, runAt time.Time, attempts int, lastErr string) error
	// Extend pushes the lease of every job owner holds to until.
	Extend(ctx context.Context, owner string, until time.Time) error
}
