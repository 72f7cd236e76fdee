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
	// Pools are the runner's worker pools: each job kind runs on one pool's
	// workers only, so kinds of different pools never wait for each other's
	// workers (see the package documentation). Empty means DefaultPools, unless
	// Workers is set.
	Pools []Pool
	// Workers, when Pools is empty, runs every kind on one pool of this many
	// workers, first due first run (the runner before pools; tests use it). It is
	// ignored when Pools is set.
	Workers int
	// Lease is how long a claimed job stays reserved for its runner (default 30 s).
	// A live runner renews it every Lease/3; a dead one's jobs become claimable again
	// when it runs out.
	Lease time.Duration
	// PollInterval is how often the queue is checked without a wake-up (default
	// 250 ms). Timers that came due are found this way, and jobs enqueued by
	// other processes when no wake-up reaches this one (storage's PostgreSQL
	// runners get NOTIFY wake-ups and poll every few seconds only).
	PollInterval time.Duration
	// RecheckInterval is how often the queue is checked while a job that this
	// runner rescheduled (a deferral, a backoff) waits to be due, so that a long
	// PollInterval does not delay it (default 250 ms). A rescheduled job is
	// found by such a check rather than by an alarm at its time: see Run.
	RecheckInterval time.Duration
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

// Pool is a set of job kinds and the workers that run them.
type Pool struct {
	// Name names the pool in errors and documentation.
	Name string
	// Kinds are the job kinds the pool runs: an exact kind ("wechat.pull"), a
	// prefix ending in "*" ("teams.*": every kind with a handler that starts
	// with "teams."), or "*" alone: every kind no other pool takes, including
	// kinds without a handler here (retried until a replica that knows them
	// takes them). A kind goes to the pool that names it exactly, else to the
	// longest matching prefix, else to the "*" pool; with no "*" pool, this
	// runner leaves such kinds to other runners.
	Kinds []string
	// Workers is how many of the pool's jobs run at once; it must be positive.
	Workers int
}

// DefaultPools keep the two sides apart, and consumers' input apart from our
// output:
//
//   - pull (2): wechat.pull, WeCom kf's sync_msg. One lane per account, and a
//     pull only fetches a page and queues it, so a callback's pull is never
//     behind the applying of a backlog, a send or a delivery.
//   - inbound (4): what consumers sent, applied: the pulled pages'
//     wechat.apply_pulled (four lanes per account, a consumer always on the
//     same one) and wechat.receive (Official Account callbacks, one lane per
//     consumer).
//   - wechat (16): sends to consumers, opt-in links, session ends, and thread
//     timers, whose work is mostly WeChat's. WeCom allows about 166 calls/s per
//     API; a send is one call (tens of ms away) and two short transactions, so
//     16 at once reach that pace at 80–100 ms per call without queueing far
//     beyond it.
//   - teams (8): deliveries and app installs. Teams allows 50 requests/s per app
//     and tenant; 8 at about 150 ms each is that pace. A delivery that must wait
//     for the limiter returns a *bridge.RetryAfterError and gives its worker back.
//   - other (1): anything else, such as kinds a newer replica enqueued.
var DefaultPools = []Pool{
	{Name: "pull", Kinds: []string{bridge.JobPull}, Workers: 2},
	{Name: "inbound", Kinds: []string{bridge.JobReceive, bridge.JobApplyPulled}, Workers: 4},
	{Name: "wechat", Kinds: []string{"wechat.*", "thread.*"}, Workers: 16},
	{Name: "teams", Kinds: []string{"teams.*"}, Workers: 8},
	{Name: "other", Kinds: []string{"*"}, Workers: 1},
}

// Defaults used when an Options field is zero.
const (
	DefaultLease        = 30 * time.Second
	DefaultPollInterval = 250 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if len(o.Pools) == 0 {
		o.Pools = DefaultPools
		if o.Workers > 0 {
			o.Pools = []Pool{{Name: "all", Kinds: []string{"*"}, Workers: o.Workers}}
		}
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = DefaultPollInterval
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
