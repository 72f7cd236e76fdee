package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/jobs"
)

// BenchmarkReplicaPickup measures, on PostgreSQL, the time from the commit of
// a job enqueued through replica A to its handler starting, one job at a time:
//
//   - same-replica: A's own runner, woken in-process (Wake), the floor;
//   - other-replica-notify: replica B's runner, which hears of it by NOTIFY
//     (its poll is an hour);
//   - other-replica-poll: B's runner as before LISTEN/NOTIFY, polling every
//     250 ms (jobs.DefaultPollInterval) with no wake-ups.
//
// The runner idles 100 ms between jobs. It reports p50 and p99 in ms and p50_ratio, each p50 over the floor's
// measured in the same run.
//
//	go test -run '^$' -bench ReplicaPickup -benchtime 100x ./storage
func BenchmarkReplicaPickup(b *testing.B) {
	var floor float64
	for _, mode := range []string{"same-replica", "other-replica-notify", "other-replica-poll"} {
		b.Run(mode, func(b *testing.B) {
			a, other := twoReplicasB(b)
			started := make(chan time.Time, 1)
			h := map[string]bridge.JobHandler{"wechat.send": func(context.Context, bridge.Job) error {
				started <- time.Now()
				return nil
			}}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			opts := jobs.Options{Workers: 1, PollInterval: time.Hour, RecheckInterval: time.Hour}
			switch mode {
			case "same-replica":
				go func() { done <- a.RunJobs(ctx, h, opts) }()
			case "other-replica-notify":
				go func() { done <- other.RunJobs(ctx, h, opts) }()
			default:
				opts.PollInterval = jobs.DefaultPollInterval
				go func() { done <- other.RunJobsPolledForTest(ctx, h, opts) }()
			}
			defer func() { cancel(); <-done }()
			time.Sleep(200 * time.Millisecond) // the runner's first claim, the listener's connection
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				err := a.Tx(ctx, func(tx bridge.Tx) error {
					return tx.Enqueue(ctx, bridge.Job{Lane: fmt.Sprintf("send:%d", i), Kind: "wechat.send"})
				})
				committed := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if mode == "same-replica" {
					a.Wake()
				}
				select {
				case at := <-started:
					lat = append(lat, at.Sub(committed))
				case <-time.After(10 * time.Second):
					b.Fatal("the job was not picked up")
				}
				// Idle between jobs, longer than a runner holds back a claim
				// after an empty one (shortClaimGap), as under a trickle of
				// traffic: the next job must be found by a wake-up or a poll.
				time.Sleep(100 * time.Millisecond)
			}
			b.StopTimer()
			slices.Sort(lat)
			p50 := float64(lat[len(lat)/2].Microseconds()) / 1000
			b.ReportMetric(p50, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			if mode == "same-replica" {
				floor = p50
			} else if floor > 0 {
				b.ReportMetric(p50/floor, "p50_ratio")
			}
		})
	}
}

// twoReplicasB opens two handles ("replicas") on one fresh PostgreSQL schema.
func twoReplicasB(b *testing.B) (a, other *storage.DB) {
	b.Helper()
	open := postgresFactory(b)
	return open().(*storage.DB), open().(*storage.DB)
}

// BenchmarkNotifyCost measures what the NOTIFY in every enqueuing transaction
// costs on PostgreSQL (PostgreSQL serializes the commits of notifying
// transactions on one lock): 4 producers, one job per transaction, or a
// message's storage work (BenchmarkInbound's) 1 or 100 per transaction, with
// the notices on and off, alternating, and notify_ratio: the rate with notices
// over the rate without, from the pair measured together.
//
//	go test -run '^$' -bench NotifyCost -benchtime 2000x ./storage
func BenchmarkNotifyCost(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("inbound/batch=%d", batch), func(b *testing.B) {
			var on, off float64
			for range 2 {
				for _, quiet := range []bool{false, true} {
					s := postgresFactory(b)().(*storage.DB)
					if quiet {
						s.QuietForTest()
					}
					rate := inbound(b, s, batch, false)
					if quiet {
						off += rate
					} else {
						on += rate
					}
				}
			}
			b.ReportMetric(on/2, "msgs/s_notify")
			b.ReportMetric(off/2, "msgs/s_quiet")
			b.ReportMetric(on/off, "notify_ratio")
		})
	}
}
