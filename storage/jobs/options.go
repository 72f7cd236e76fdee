package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Options tune a runner. The zero value gives the defaults.
type Options struct {
	// Workers is how many handlers run at once (default 4).
	Workers int
	// Lease is how long a claimed job stays reserved for its runner (default 30 s).
	// A live runner renews it every Lease/3; a dead one's jobs become claimable again
	// when it runs out.
	Lease time.Duration
	// PollInterval is how often the queue is checked without a wake-up (default
	// 250 ms). Jobs enqueued by other processes are found this way.
	PollInterval time.Duration
	// Now is the clock used for due times and leases (default time.Now).
	Now func() time.Time
	// Owner names this runner in the jobs' locked_by column (default: random). Two
	// runners must never share one.
	Owner string
	// OnError, if set, is told about each failed attempt (with its job) and each
	// queue error (with a zero Job). The runner keeps going either way.
	OnError func(j bridge.Job, err error)
	// Limits bounds each job kind's life (default bridge.LimitsFor): a failing job
	// ends dead after MaxAttempts attempts or once older than MaxAge. A zero
	// MaxAttempts or MaxAge is no limit of that sort.
	Limits func(kind string) bridge.JobLimits
	// OnDead, if set, settles the outcome of a job that ended without success and
	// buries it in the same transaction (the service passes its JobDied, which
	// calls bridge.Tx.BuryJob). cause is the failure that ended it; j is the job as
	// claimed (Attempts counts the attempts before the last). It runs with a context
	// that a shutdown does not cancel. If it is nil or fails, the runner buries the
	// job itself (Queue.Bury), so that a job never runs again by itself once it
	// ended, whatever its outcome's settlement did.
	OnDead func(ctx context.Context, j bridge.Job, cause error) error
}

// Defaults used when an Options field is zero.
const (
	DefaultWorkers      = 4
	DefaultLease        = 30 * time.Second
	DefaultPollInterval = 250 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Owner == "" {
		o.Owner = NewOwner()
	}
	if o.OnError == nil {
		o.OnError = func(bridge.Job, error) {}
	}
	if o.Limits == nil {
		o.Limits = bridge.LimitsFor
	}
	return o
}

// NewOwner returns a random runner name.
func NewOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
