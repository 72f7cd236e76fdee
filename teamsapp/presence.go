package teamsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Presence: whether an employee has the tab open, on any replica, so that a
// delivery run by one replica sends a Teams activity feed notification only
// when no replica has a live-update stream of that employee open.
//
// Each replica answers for its own streams from memory and shares them through
// Config.Presence as leases, one per employee with a stream open here: made
// when the employee's first stream opens (before the stream's "ready" event, so
// a tab that is ready is seen by every replica), renewed for all of them at
// once every PresenceRenewal, and dropped when the last one closes. A replica
// that dies drops nothing; its leases stop counting PresenceLease after their
// last renewal.
//
// The lengths: a renewal is one statement per replica whatever the number of
// open tabs, so renewing every 10 s costs nothing measurable; the lease is
// three renewals (30 s), so two renewals in a row may fail (a PostgreSQL
// restart, a failover, a stalled process) before other replicas take an open
// tab for closed and notify for nothing. The price of a longer lease is paid
// only when a replica dies: an employee who closed the tab in the last 30 s
// before the crash gets no feed notification for a message in the remaining
// seconds (the bot's card still arrives; a clean close or shutdown drops the
// lease at once). And a tab open on the dead replica reconnects (the stream
// asks for retry after 3 s) to another replica, which makes its own lease, so
// the dead one's leases are mostly true while they last.
const (
	PresenceRenewal = 10 * time.Second
	PresenceLease   = presenceRenewalsPerLease * PresenceRenewal
)

// presenceRenewalsPerLease is how many renewals a lease outlives.
const presenceRenewalsPerLease = 3

// presenceDropTimeout bounds the drop of a lease when a stream closes: the
// stream's own context is over by then.
const presenceDropTimeout = 5 * time.Second

// Presence shares the tab's open streams between replicas (the storage
// package implements it, in the database). Times are the replica's wall clock.
type Presence interface {
	// HoldPresence makes (or extends) replica's lease of employee e until until.
	HoldPresence(ctx context.Context, replica string, e bridge.EmployeeID, until time.Time) error
	// RenewPresence extends replica's existing leases of es to until, never
	// making one, deletes every replica's leases expired before now, and
	// returns how many it extended.
	RenewPresence(ctx context.Context, replica string, es []bridge.EmployeeID, now, until time.Time) (int, error)
	// DropPresence deletes replica's lease of e.
	DropPresence(ctx context.Context, replica string, e bridge.EmployeeID) error
	// DropReplicaPresence deletes every lease of replica.
	DropReplicaPresence(ctx context.Context, replica string) error
	// Present reports whether any replica's lease of e is alive at now.
	Present(ctx context.Context, e bridge.EmployeeID, now time.Time) (bool, error)
}

// presenceStripes is how many locks order the lease writes of employees: the
// writes for one employee (first stream opened, last one closed, a repair)
// must reach the database in the order they were decided, or a reload (the
// old stream closing as the new one opens) could leave the new stream without
// a lease; one lock for all would queue every tab's open behind one round trip.
const presenceStripes = 64

// presence is this replica's side: its streams by employee, and their leases.
type presence struct {
	store   Presence // nil: this replica's streams only
	replica string
	renewal time.Duration
	now     func() time.Time
	log     *slog.Logger

	seed  maphash.Seed
	locks [presenceStripes]sync.Mutex

	mu      sync.Mutex
	streams map[bridge.EmployeeID]int // open streams per employee
	stop    chan struct{}             // closed to end the renewer; nil while none runs
	closed  bool                      // after close: no more renewers
}

func newPresence(store Presence, renewal time.Duration, now func() time.Time, log *slog.Logger) *presence {
	if renewal <= 0 {
		renewal = PresenceRenewal
	}
	return &presence{store: store, replica: replicaName(), renewal: renewal, now: now, log: log,
		seed: maphash.MakeSeed(), streams: map[bridge.EmployeeID]int{}}
}

// replicaName names this process in the leases: the host, for the operator
// who reads the table, and a random part, since one host may run several.
func replicaName() string {
	host, _ := os.Hostname() // best effort: the random part is what must differ
	if len(host) > 40 {
		host = host[:40]
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return host + "/" + hex.EncodeToString(b)
}

func (p *presence) lock(e bridge.EmployeeID) *sync.Mutex {
	return &p.locks[maphash.String(p.seed, string(e))%presenceStripes]
}

// open counts a new stream of e and, for e's first, makes the lease.
func (p *presence) open(ctx context.Context, e bridge.EmployeeID) {
	l := p.lock(e)
	l.Lock()
	defer l.Unlock()
	p.mu.Lock()
	p.streams[e]++
	first := p.streams[e] == 1
	if p.store != nil && p.stop == nil && !p.closed {
		p.stop = make(chan struct{})
		go p.renewLoop(p.stop)
	}
	p.mu.Unlock()
	if first && p.store != nil {
		// A failure leaves the stream without a lease until the next renewal
		// finds it missing.
		if err := p.store.HoldPresence(ctx, p.replica, e, p.now().Add(p.lease())); err != nil {
			p.log.Warn("tab presence: hold a lease", "employee", e, "err", err)
		}
	}
}

// close uncounts a stream of e and, with e's last gone, drops the lease.
func (p *presence) close(e bridge.EmployeeID) {
	l := p.lock(e)
	l.Lock()
	defer l.Unlock()
	p.mu.Lock()
	p.streams[e]--
	last := p.streams[e] <= 0
	if last {
		delete(p.streams, e)
	}
	if len(p.streams) == 0 && p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.mu.Unlock()
	if last && p.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), presenceDropTimeout)
		defer cancel()
		// A failure leaves the lease to expire: it is no longer renewed.
		if err := p.store.DropPresence(ctx, p.replica, e); err != nil {
			p.log.Warn("tab presence: drop a lease", "employee", e, "err", err)
		}
	}
}

func (p *presence) lease() time.Duration { return presenceRenewalsPerLease * p.renewal }

// local reports whether e has a stream open on this replica.
func (p *presence) local(e bridge.EmployeeID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streams[e] > 0
}

// holding reports whether e's lease should exist: a stream of e is open here
// and the replica is not shutting down.
func (p *presence) holding(e bridge.EmployeeID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed && p.streams[e] > 0
}

// watching reports whether e has a stream open on this replica (from memory)
// or on any other (one lookup). When the lookup fails it answers false: a
// redundant notification is better than a missed one.
func (p *presence) watching(ctx context.Context, e bridge.EmployeeID) bool {
	if here := p.local(e); here || p.store == nil {
		return here
	}
	ok, err := p.store.Present(ctx, e, p.now())
	if err != nil {
		p.log.WarnContext(ctx, "tab presence: look up", "employee", e, "err", err)
		return false
	}
	return ok
}

func (p *presence) renewLoop(stop <-chan struct{}) {
	t := time.NewTicker(p.renewal)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.renew()
		}
	}
}

// renew extends the leases of every employee with a stream here, and makes
// again those it finds missing.
func (p *presence) renew() {
	// A renewal that a stop overtakes finishes: it never makes a lease, and a
	// repair makes only those of streams still open.
	ctx, cancel := context.WithTimeout(context.Background(), p.renewal)
	defer cancel()
	p.mu.Lock()
	held := make([]bridge.EmployeeID, 0, len(p.streams))
	for e := range p.streams {
		held = append(held, e)
	}
	p.mu.Unlock()
	now := p.now()
	n, err := p.store.RenewPresence(ctx, p.replica, held, now, now.Add(p.lease()))
	if err != nil {
		p.log.Warn("tab presence: renew the leases", "streams", len(held), "err", err)
		return
	}
	if n >= len(held) {
		return
	}
	// Some are missing: a hold failed, or they expired and were deleted while
	// this replica could not reach the database, or PostgreSQL lost its
	// unlogged table in a crash. Each is made again under its employee's lock,
	// if a stream of theirs is still open.
	p.log.Info("tab presence: leases missing, making them again", "missing", len(held)-n)
	for _, e := range held {
		l := p.lock(e)
		l.Lock()
		if p.holding(e) {
			if err := p.store.HoldPresence(ctx, p.replica, e, p.now().Add(p.lease())); err != nil {
				p.log.Warn("tab presence: hold a lease", "employee", e, "err", err)
			}
		}
		l.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

// shutdown stops renewing and drops every lease of this replica.
func (p *presence) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.mu.Unlock()
	if p.store == nil {
		return nil
	}
	return p.store.DropReplicaPresence(ctx, p.replica)
}
