package jobs

import (
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
	return o
}

// NewOwner returns a random runner name.
func NewOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
