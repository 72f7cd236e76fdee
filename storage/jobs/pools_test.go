package jobs

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// bridgeKinds are the job kinds the bridge's service runs (bridge/service.go).
var bridgeKinds = []string{bridge.JobSend, bridge.JobPull, bridge.JobOptInLink, bridge.JobEndSession,
	bridge.JobDeliver, bridge.JobTimer, bridge.JobInstall, bridge.JobReceive, bridge.JobApplyPulled}

func handlersFor(kinds ...string) map[string]bridge.JobHandler {
	h := map[string]bridge.JobHandler{}
	for _, k := range kinds {
		h[k] = func(context.Context, bridge.Job) error { return nil }
	}
	return h
}

// TestDefaultPools: the bridge's kinds land where the package documentation
// says, and a kind nobody knows goes to the catch-all pool.
func TestDefaultPools(t *testing.T) {
	p, err := newPlan(DefaultPools, handlersFor(bridgeKinds...))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		bridge.JobPull: "pull", bridge.JobReceive: "inbound", bridge.JobApplyPulled: "inbound",
		bridge.JobSend: "wechat", bridge.JobOptInLink: "wechat", bridge.JobEndSession: "wechat", bridge.JobTimer: "wechat",
		bridge.JobDeliver: "teams", bridge.JobInstall: "teams",
		"from.a.newer.replica": "other",
	}
	for kind, pool := range want {
		i := p.poolOf(kind)
		if i < 0 || p.pools[i].Name != pool {
			t.Errorf("kind %s runs on pool %d, want %s", kind, i, pool)
			continue
		}
		if !p.pools[i].want.Matches(kind) {
			t.Errorf("pool %s does not claim %s", pool, kind)
		}
		for j, other := range p.pools {
			if j != i && other.want.Matches(kind) {
				t.Errorf("pool %s claims %s too", other.Name, kind)
			}
		}
	}
	if n := p.workers(); n != 31 {
		t.Errorf("default pools have %d workers", n)
	}
}

func TestPlanResolution(t *testing.T) {
	p, err := newPlan([]Pool{
		{Name: "broad", Kinds: []string{"a.*"}, Workers: 1},
		{Name: "narrow", Kinds: []string{"a.b.*", "x.exact"}, Workers: 1},
	}, handlersFor("a.b.c", "a.z", "q.none"))
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]int{"a.b.c": 1, "a.z": 0, "x.exact": 1, "q.none": -1, "a.unknown": -1} {
		if got := p.poolOf(kind); got != want {
			t.Errorf("poolOf(%s) = %d, want %d", kind, got, want)
		}
	}
	if got := p.pools[1].want.Kinds; !slices.Equal(got, []string{"a.b.c", "x.exact"}) {
		t.Errorf("narrow claims %v", got)
	}
	// Without a "*" pool, kinds no pool names are not claimed at all.
	for _, pl := range p.pools {
		if pl.want.Matches("q.none") {
			t.Errorf("pool %s claims a kind no pool names", pl.Name)
		}
	}
}

func TestBadPools(t *testing.T) {
	for name, pools := range map[string][]Pool{
		"no workers":         {{Name: "a", Kinds: []string{"*"}}},
		"no kinds":           {{Name: "a", Workers: 1}},
		"kind twice":         {{Name: "a", Kinds: []string{"k"}, Workers: 1}, {Name: "b", Kinds: []string{"k"}, Workers: 1}},
		"two catch-alls":     {{Name: "a", Kinds: []string{"*"}, Workers: 1}, {Name: "b", Kinds: []string{"*"}, Workers: 1}},
		"star in the middle": {{Name: "a", Kinds: []string{"a*b"}, Workers: 1}},
		"empty kind":         {{Name: "a", Kinds: []string{""}, Workers: 1}},
	} {
		if _, err := newPlan(pools, nil); !errors.Is(err, ErrBadPools) {
			t.Errorf("%s: newPlan = %v, want ErrBadPools", name, err)
		}
	}
	err := Run(t.Context(), nil, nil, nil, Options{Pools: []Pool{{Name: "a", Kinds: []string{"*"}}}})
	if !errors.Is(err, ErrBadPools) {
		t.Errorf("Run with a pool of no workers = %v", err)
	}
}

// TestWorkersWithoutPools: Workers alone is one pool for every kind.
func TestWorkersWithoutPools(t *testing.T) {
	o := Options{Workers: 3}.withDefaults()
	if len(o.Pools) != 1 || o.Pools[0].Workers != 3 || !slices.Equal(o.Pools[0].Kinds, []string{"*"}) {
		t.Errorf("Workers: 3 gives pools %+v", o.Pools)
	}
	if o := (Options{}).withDefaults(); len(o.Pools) != len(DefaultPools) {
		t.Errorf("zero Options give pools %+v", o.Pools)
	}
}

// TestShortClaimGap: a pool whose claim came back short is asked again on a
// wake-up only after its gap (longer after a slow claim), but at once, for as
// many jobs as lanes moved on, when its jobs end; a rescheduled job moves its
// lane on by nothing.
func TestShortClaimGap(t *testing.T) {
	p, err := newPlan([]Pool{
		{Name: "a", Kinds: []string{"a.*"}, Workers: 4},
		{Name: "b", Kinds: []string{"b.*"}, Workers: 1},
	}, handlersFor("a.x", "b.x"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	asks := func(at time.Time) map[string]int {
		wants, asked := p.wants(at)
		out := map[string]int{}
		for k, i := range asked {
			out[p.pools[i].Name] = wants[k].Limit
		}
		return out
	}
	if got := asks(t0); got["a"] != 4 || got["b"] != 1 {
		t.Fatalf("a new runner asks for %v", got)
	}
	// a gets 2 of 4 (short, in a claim of 1 ms); b gets its one (full).
	wants, asked := p.wants(t0)
	p.pools[0].inflight += 2
	p.pools[1].inflight++
	p.claimed(asked, wants, []int{2, 1}, t0, time.Millisecond)
	if got := asks(t0.Add(time.Millisecond)); len(got) != 0 {
		t.Errorf("right after the claim it asks for %v", got)
	}
	p.markAll() // a wake-up
	if got := asks(t0.Add(shortClaimGap / 2)); len(got) != 0 {
		t.Errorf("a wake-up within the gap asks for %v", got)
	}
	if at, ok := p.heldUntil(t0); !ok || !at.Equal(t0.Add(shortClaimGap)) {
		t.Errorf("heldUntil = %v, %v", at, ok)
	}
	// One of a's jobs was rescheduled, the other done: a asks for one job at once.
	p.ended(0, false)
	p.ended(0, true)
	if got := asks(t0.Add(time.Millisecond)); got["a"] != 1 || len(got) != 1 {
		t.Errorf("after one lane moved on it asks for %v", got)
	}
	wants, asked = p.wants(t0.Add(time.Millisecond))
	p.claimed(asked, wants, []int{1, 0}, t0.Add(time.Millisecond), time.Millisecond)
	p.pools[0].inflight++
	if got := asks(t0.Add(shortClaimGap)); got["a"] != 3 {
		t.Errorf("after the gap it asks for %v, want a's 3 free workers", got)
	}
	// A slow empty claim holds the pool back for longer.
	wants, asked = p.wants(t0.Add(shortClaimGap))
	p.claimed(asked, wants, []int{0, 0}, t0.Add(shortClaimGap), 10*time.Millisecond)
	p.markAll()
	later := t0.Add(shortClaimGap + shortClaimBudget*10*time.Millisecond)
	if got := asks(later.Add(-time.Millisecond)); len(got) != 0 {
		t.Errorf("within the longer gap it asks for %v", got)
	}
	if got := asks(later); got["a"] != 3 {
		t.Errorf("after the longer gap it asks for %v", got)
	}
	// A poll is not held back: it is how rescheduled jobs are found.
	wants, asked = p.wants(later)
	p.claimed(asked, wants, []int{0, 0}, later, 10*time.Millisecond)
	p.polled()
	if got := asks(later.Add(time.Millisecond)); got["a"] != 3 {
		t.Errorf("a poll right after an empty claim asks for %v", got)
	}
}
