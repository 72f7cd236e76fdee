package jobs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
)

// ErrBadPools is returned by Run for pools it cannot use.
var ErrBadPools = errors.New("bad job pools")

// pool is a Pool as a runner runs it.
type pool struct {
	Pool
	// want is what the pool claims (Limit is set at each claim).
	want Want
	// claims is false for a pool that no kind resolved to.
	claims bool
	// inflight counts the pool's handlers running.
	inflight int
	// dirty says the pool may have due jobs (a wake-up, a poll, or its last
	// claim gave it all it asked for). advanced counts its jobs that ended (done
	// or dead) since its last claim: each one's lane may have its next job due,
	// and a worker is free for it. A job that was rescheduled moves its lane on
	// by nothing, so it counts for nothing (the poll finds it when it is due).
	advanced int
	dirty    bool
	// polled says a poll came: the next claim asks with all free workers,
	// whatever the gap (a poll is how rescheduled jobs are found when due).
	polled bool
	// short is when a claim last gave the pool fewer jobs than it asked for,
	// and gap how long a wake-up then waits before the pool asks with
	// all its free workers again (see shortClaimGap).
	short time.Time
	gap   time.Duration
}

func (p *pool) free() int { return p.Workers - p.inflight }

// shortClaimGap is the least time a pool whose last claim came back short
// waits before a wake-up makes it claim again (a poll does at once); the gap grows to
// shortClaimBudget times that claim's duration, so that empty claims cost a
// pool at most about 5% of a core. Every commit of the service wakes the
// runner, and a claim that finds nothing still reads every due job of the
// pool's kinds (the lanes' heads are not indexed: with 3,000 Teams deliveries
// queued on 20 lanes, an empty Teams claim took about 12 ms on PostgreSQL).
// A pool's own jobs ending are not held back: that claim asks for as many
// jobs as lanes moved on, and finds their next jobs first.
const (
	shortClaimGap    = 50 * time.Millisecond
	shortClaimBudget = 20
)

// full says whether the pool may ask with all its free workers at now.
func (p *pool) full(now time.Time) bool {
	return p.polled || p.dirty && now.Sub(p.short) >= max(p.gap, shortClaimGap)
}

// limit is how many jobs the pool's claim asks for at now (0: none).
func (p *pool) limit(now time.Time) int {
	if !p.claims || p.free() <= 0 {
		return 0
	}
	if p.full(now) {
		return p.free()
	}
	return min(p.free(), p.advanced)
}

// plan is a runner's pools with every kind resolved to one of them.
type plan struct {
	pools  []*pool
	byKind map[string]int // kinds named exactly or matched by a prefix
	rest   int            // the "*" pool, or -1
}

// newPlan checks pools and resolves the kinds: each exact kind to its pool,
// each handler's kind that no pool names exactly to the longest prefix that
// matches it, and everything else to the "*" pool.
func newPlan(pools []Pool, handlers map[string]bridge.JobHandler) (*plan, error) {
	p := &plan{byKind: map[string]int{}, rest: -1}
	type prefix struct {
		s    string
		pool int
	}
	var prefixes []prefix
	seen := map[string]string{} // pattern → pool name
	for i, c := range pools {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if c.Workers <= 0 {
			return nil, fmt.Errorf("%w: pool %s has %d workers", ErrBadPools, name, c.Workers)
		}
		if len(c.Kinds) == 0 {
			return nil, fmt.Errorf("%w: pool %s names no kinds", ErrBadPools, name)
		}
		for _, k := range c.Kinds {
			if other, dup := seen[k]; dup {
				return nil, fmt.Errorf("%w: %q is in pools %s and %s", ErrBadPools, k, other, name)
			}
			seen[k] = name
			switch {
			case k == "*":
				p.rest = i
			case k == "" || strings.Contains(strings.TrimSuffix(k, "*"), "*"):
				return nil, fmt.Errorf("%w: pool %s: %q is not a kind or a prefix*", ErrBadPools, name, k)
			case strings.HasSuffix(k, "*"):
				prefixes = append(prefixes, prefix{strings.TrimSuffix(k, "*"), i})
			default:
				p.byKind[k] = i
			}
		}
		p.pools = append(p.pools, &pool{Pool: c, dirty: true})
	}
	for kind := range handlers {
		if _, exact := p.byKind[kind]; exact {
			continue
		}
		best := -1
		for j, pre := range prefixes {
			if strings.HasPrefix(kind, pre.s) && (best < 0 || len(pre.s) > len(prefixes[best].s)) {
				best = j
			}
		}
		if best >= 0 {
			p.byKind[kind] = prefixes[best].pool
		}
	}
	kinds := slices.Sorted(maps.Keys(p.byKind))
	for i, pl := range p.pools {
		if i == p.rest {
			pl.want, pl.claims = Want{Kinds: kinds, Except: true}, true
			continue
		}
		var mine []string
		for _, k := range kinds {
			if p.byKind[k] == i {
				mine = append(mine, k)
			}
		}
		pl.want, pl.claims = Want{Kinds: mine}, len(mine) > 0
	}
	return p, nil
}

// poolOf is the pool that runs kind, or -1 if this runner runs no such kind.
func (p *plan) poolOf(kind string) int {
	if i, ok := p.byKind[kind]; ok {
		return i
	}
	return p.rest
}

// workers is how many handlers the runner runs at most.
func (p *plan) workers() int {
	n := 0
	for _, pl := range p.pools {
		n += pl.Workers
	}
	return n
}

// inflight is how many handlers run now.
func (p *plan) inflight() int {
	n := 0
	for _, pl := range p.pools {
		n += pl.inflight
	}
	return n
}

// markAll notes that any pool may have due jobs (a wake-up).
func (p *plan) markAll() {
	for _, pl := range p.pools {
		pl.dirty = true
	}
}

// polled notes a poll: every pool asks with all its free workers.
func (p *plan) polled() {
	for _, pl := range p.pools {
		pl.dirty, pl.polled = true, true
	}
}

// wants is what a claim asks for at now: each pool with free workers that has
// or may have due jobs (see pool.limit). asked lists their indexes.
func (p *plan) wants(now time.Time) (wants []Want, asked []int) {
	for i, pl := range p.pools {
		if n := pl.limit(now); n > 0 {
			w := pl.want
			w.Limit = n
			wants, asked = append(wants, w), append(asked, i)
		}
	}
	return wants, asked
}

// claimed books a claim's answer: got[i] jobs for pool asked[k], which asked
// for wants[k].Limit, in a claim that took took. A pool that got them all may
// have more due; one that got fewer has nothing more due now.
func (p *plan) claimed(asked []int, wants []Want, got []int, now time.Time, took time.Duration) {
	for k, i := range asked {
		pl := p.pools[i]
		pl.advanced, pl.polled = 0, false
		if got[i] < wants[k].Limit {
			pl.dirty, pl.short, pl.gap = false, now, shortClaimBudget*took
		}
	}
}

// ended books the end of one of pool i's jobs; advanced says it left its lane
// (done or dead), so that the lane's next job may be due.
func (p *plan) ended(i int, advanced bool) {
	pl := p.pools[i]
	pl.inflight--
	if advanced {
		pl.advanced++
	}
}

// heldUntil is the earliest time a pool held back by its gap may ask with all
// its free workers again, if one is.
func (p *plan) heldUntil(now time.Time) (time.Time, bool) {
	var at time.Time
	for _, pl := range p.pools {
		if pl.claims && pl.dirty && pl.free() > 0 && !pl.full(now) {
			if t := pl.short.Add(max(pl.gap, shortClaimGap)); at.IsZero() || t.Before(at) {
				at = t
			}
		}
	}
	return at, !at.IsZero()
}
