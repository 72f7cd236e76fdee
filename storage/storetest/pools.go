package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// gate holds the handlers that enter it until it opens, counting them.
type gate struct {
	open     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	in, most int // handlers inside now, and the most there were at once
	entered  atomic.Int64
}

// newGate returns a closed gate. Register g.release as a cleanup after the
// runner starts, so that it runs before the runner's stop, which waits for the
// handlers.
func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) handler(ctx context.Context, j bridge.Job) error {
	g.mu.Lock()
	g.in++
	g.most = max(g.most, g.in)
	g.mu.Unlock()
	g.entered.Add(1)
	<-g.open
	g.mu.Lock()
	g.in--
	g.mu.Unlock()
	return nil
}

func (g *gate) mostAtOnce() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// counter is a handler that counts its runs.
type counter struct{ n atomic.Int64 }

func (c *counter) handler(context.Context, bridge.Job) error {
	c.n.Add(1)
	return nil
}

// spread makes n jobs of kind, each on a lane of its own.
func spread(kind, lanePrefix string, n int) []bridge.Job {
	js := make([]bridge.Job, n)
	for i := range js {
		js[i] = bridge.Job{Lane: fmt.Sprintf("%s%d", lanePrefix, i), Kind: kind}
	}
	return js
}

// The pools of these tests: the Teams side, the WeChat side, and a pull pool.
var testPools = []jobs.Pool{
	{Name: "inbound", Kinds: []string{"wechat.pull"}, Workers: 1},
	{Name: "wechat", Kinds: []string{"wechat.*"}, Workers: 2},
	{Name: "teams", Kinds: []string{"teams.*"}, Workers: 2},
}

func runPools(t *testing.T, f Factory) {
	t.Run("Teams jobs that hold their workers do not delay WeChat jobs", func(t *testing.T) {
		s := f(t)()
		teams := newGate()
		var sends counter
		startRunner(t, s, map[string]bridge.JobHandler{"teams.deliver": teams.handler, "wechat.send": sends.handler},
			jobs.Options{Now: newClock().Now, Pools: testPools})
		t.Cleanup(teams.release)
		// More deliveries than the teams pool has workers, enqueued first: with
		// one shared pool they would take every worker and the sends would wait.
		enqueue(t, s, spread("teams.deliver", "teams:e", 6)...)
		eventually(t, 10*time.Second, "the teams pool to be busy", func() bool { return teams.entered.Load() == 2 })
		enqueue(t, s, spread("wechat.send", "send:t", 20)...)
		eventually(t, 10*time.Second, "20 sends while the deliveries hold their workers", func() bool { return sends.n.Load() == 20 })
		if n := teams.entered.Load(); n != 2 {
			t.Errorf("%d deliveries started on a pool of 2 workers", n)
		}
		teams.release()
		eventually(t, 10*time.Second, "the deliveries", func() bool { return len(pending(t, s, "teams:")) == 0 })
		if m := teams.mostAtOnce(); m > 2 {
			t.Errorf("%d deliveries ran at once on a pool of 2 workers", m)
		}
	})

	t.Run("WeChat jobs that hold their workers do not delay Teams jobs", func(t *testing.T) {
		s := f(t)()
		sends := newGate()
		var deliveries counter
		startRunner(t, s, map[string]bridge.JobHandler{"teams.deliver": deliveries.handler, "wechat.send": sends.handler},
			jobs.Options{Now: newClock().Now, Pools: testPools})
		t.Cleanup(sends.release)
		enqueue(t, s, spread("wechat.send", "send:t", 6)...)
		eventually(t, 10*time.Second, "the wechat pool to be busy", func() bool { return sends.entered.Load() == 2 })
		enqueue(t, s, spread("teams.deliver", "teams:e", 20)...)
		eventually(t, 10*time.Second, "20 deliveries while the sends hold their workers", func() bool { return deliveries.n.Load() == 20 })
		sends.release()
		eventually(t, 10*time.Second, "the sends", func() bool { return len(pending(t, s, "send:")) == 0 })
	})

	t.Run("a deferred Teams job gives its worker back and waits for its time", func(t *testing.T) {
		s := f(t)()
		clk := newClock()
		var mu sync.Mutex
		deferred := map[int64]int{} // runs per job
		var sends counter
		deliver := func(ctx context.Context, j bridge.Job) error {
			mu.Lock()
			defer mu.Unlock()
			deferred[j.ID]++
			if deferred[j.ID] == 1 {
				// The Teams limiter's answer: not before a minute from now.
				return &bridge.RetryAfterError{Wait: time.Minute, Err: fmt.Errorf("teams limiter")}
			}
			return nil
		}
		startRunner(t, s, map[string]bridge.JobHandler{"teams.deliver": deliver, "wechat.send": sends.handler},
			jobs.Options{Now: clk.Now, Pools: []jobs.Pool{
				{Name: "wechat", Kinds: []string{"wechat.*"}, Workers: 1},
				{Name: "teams", Kinds: []string{"teams.*"}, Workers: 1},
			}})
		enqueue(t, s, spread("teams.deliver", "teams:e", 5)...)
		enqueue(t, s, spread("wechat.send", "send:t", 5)...)
		// One teams worker ran all five deliveries: each deferral freed it.
		eventually(t, 10*time.Second, "five deferrals", func() bool {
			js := pending(t, s, "teams:")
			if len(js) != 5 {
				return false
			}
			for _, j := range js {
				if !j.RunAt.Equal(clk.Now().Add(time.Minute)) || j.Attempts != 0 {
					return false
				}
			}
			return true
		})
		eventually(t, 10*time.Second, "the sends", func() bool { return sends.n.Load() == 5 })
		mu.Lock()
		for id, n := range deferred {
			if n != 1 {
				t.Errorf("job %d ran %d times before its time", id, n)
			}
		}
		mu.Unlock()
		clk.Add(time.Minute)
		s.Wake()
		eventually(t, 10*time.Second, "the deliveries at their time", func() bool { return len(pending(t, s, "teams:")) == 0 })
	})

	t.Run("a pull gets a worker while sends drain", func(t *testing.T) {
		s := f(t)()
		sends := newGate()
		var pulls counter
		startRunner(t, s, map[string]bridge.JobHandler{"wechat.send": sends.handler, "wechat.pull": pulls.handler},
			jobs.Options{Now: newClock().Now, Pools: testPools})
		t.Cleanup(sends.release)
		// A backlog of sends, every one due, more than the wechat pool runs at once.
		enqueue(t, s, spread("wechat.send", "send:t", 50)...)
		eventually(t, 10*time.Second, "the wechat pool to be busy", func() bool { return sends.entered.Load() == 2 })
		// A new callback's pull, enqueued behind all of them.
		enqueue(t, s, bridge.Job{Lane: "pull:kf1", Kind: "wechat.pull"})
		eventually(t, 10*time.Second, "the pull while 48 sends wait", func() bool { return pulls.n.Load() == 1 })
		if n := sends.entered.Load(); n != 2 {
			t.Errorf("%d sends started on a pool of 2 workers", n)
		}
		sends.release()
		eventually(t, 20*time.Second, "the backlog", func() bool { return len(pending(t, s, "send:")) == 0 })
	})

	t.Run("a kind that no pool takes is left to other runners", func(t *testing.T) {
		open := f(t)
		s1, s2 := open(), open()
		var sends, deliveries counter
		h := map[string]bridge.JobHandler{"wechat.send": sends.handler, "teams.deliver": deliveries.handler}
		// A Teams-only runner, as a replica dedicated to Teams would run.
		startRunner(t, s1, h, jobs.Options{Now: newClock().Now, Pools: []jobs.Pool{{Name: "teams", Kinds: []string{"teams.*"}, Workers: 2}}})
		enqueue(t, s1, bridge.Job{Lane: "send:t1", Kind: "wechat.send"}, bridge.Job{Lane: "teams:e1", Kind: "teams.deliver"})
		eventually(t, 10*time.Second, "the delivery", func() bool { return len(pending(t, s1, "teams:")) == 0 })
		if sends.n.Load() != 0 {
			t.Fatal("a Teams-only runner ran a send")
		}
		startRunner(t, s2, h, jobs.Options{Now: newClock().Now, Pools: []jobs.Pool{{Name: "rest", Kinds: []string{"*"}, Workers: 1}}})
		s2.Wake()
		eventually(t, 10*time.Second, "the send on the other runner", func() bool { return sends.n.Load() == 1 })
	})

	t.Run("pools keep lanes in order and never overlap", func(t *testing.T) {
		s := f(t)()
		log := newLaneLog(t)
		const lanes, perLane = 6, 8
		var js []bridge.Job
		for i := range perLane {
			for l := range lanes {
				kind := "wechat.send"
				if l%2 == 1 {
					kind = "teams.deliver"
				}
				js = append(js, bridge.Job{Lane: fmt.Sprintf("lane%d", l), Kind: kind, Payload: payload(i)})
			}
		}
		enqueue(t, s, js...)
		h := log.handler(0)
		startRunner(t, s, map[string]bridge.JobHandler{"wechat.send": h, "teams.deliver": h},
			jobs.Options{Pools: testPools})
		eventually(t, 20*time.Second, "all jobs", func() bool { return log.total.Load() == lanes*perLane })
		log.check(lanes, perLane)
	})
}
