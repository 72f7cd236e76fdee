package jobs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
	// dirty says the pool may have due jobs: set by a wake-up, a poll, and each
	// of its jobs ending (its lane's next job may be due); cleared when a claim
	// gave it fewer jobs than it asked for.
	dirty bool
}

func (p *pool) free() int { return p.Workers - p.inflight }

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

// markAll notes that any pool may have due jobs (a wake-up, a poll).
func (p *plan) markAll() {
	for _, pl := range p.pools {
		pl.dirty = true
	}
}

// wants is what a claim asks for now: each pool with free workers that may
// have due jobs, up to its free workers. asked lists their pools' indexes.
func (p *plan) wants() (wants []Want, asked []int) {
	for i, pl := range p.pools {
		if pl.claims && pl.dirty && pl.free() > 0 {
			w := pl.want
			w.Limit = pl.free()
			wants, asked = append(wants, w), append(asked, i)
		}
	}
	return wants, asked
}
