package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// BenchmarkCaptureInbound measures what the archive capture costs on the
// inbound path: the same consumer traffic as BenchmarkInbound through one
// service and database, in short rounds that alternate capturing (as
// production always does) and not capturing (the baseline, possible in tests
// only), so that the database, its caches and the neighbours' load are the
// same for both. It reports capture_ratio, the capturing rate over the
// baseline's (target ≥ 0.8), as the median over the rounds' pairs:
//
//	go test -run '^$' -bench CaptureInbound -benchtime 2000x ./bridge/
func BenchmarkCaptureInbound(b *testing.B) {
	backends := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "bench.db") }},
		{"postgres", func(b *testing.B) string { return pgtest.Schema(b) }},
	}
	for _, be := range backends {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, batch), func(b *testing.B) {
				svc := benchService(b, be.url(b))
				// Many short rounds, each a pair (off, on) in alternating order:
				// the median of the pairs' ratios shrugs off the bursts of the
				// neighbours' load that a total would carry.
				const rounds = 20
				per := max(b.N/rounds, 1)
				var on, off benchCost
				var ratios, cpuRatios []float64
				b.ResetTimer()
				for r := range rounds {
					var x, y benchCost
					if r%2 == 0 {
						x = benchReceive(b, svc, false, 2*r*per, per, batch)
						y = benchReceive(b, svc, true, (2*r+1)*per, per, batch)
					} else {
						y = benchReceive(b, svc, true, 2*r*per, per, batch)
						x = benchReceive(b, svc, false, (2*r+1)*per, per, batch)
					}
					off.add(x)
					on.add(y)
					ratios = append(ratios, x.wall.Seconds()/y.wall.Seconds())
					cpuRatios = append(cpuRatios, x.cpu.Seconds()/y.cpu.Seconds())
				}
				b.StopTimer()
				n := float64(rounds * per)
				b.ReportMetric(n/on.wall.Seconds(), "msgs/s_on")
				b.ReportMetric(n/off.wall.Seconds(), "msgs/s_off")
				b.ReportMetric(median(ratios), "capture_ratio")
				// This process's CPU time per message: all of SQLite's work, and
				// the client side of PostgreSQL's.
				b.ReportMetric(median(cpuRatios), "capture_cpu_ratio")
			})
		}
	}
}

// benchService is BenchmarkInbound's service (20 enabled employees) on the
// database at url.
func benchService(b *testing.B, url string) *bridge.Service {
	b.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	svc := bridge.NewService(db, bridge.Options{AutoEnable: true, Account: "kf"})
	if err := svc.EnsureCompany(ctx, "Bench", "t", bridge.English); err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		if _, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: "t", TeamsUserID: fmt.Sprintf("29:e%d", i), Name: "E",
			Conversation: bridge.ConversationRef{ConversationID: "a"}}); err != nil {
			b.Fatal(err)
		}
	}
	return svc
}

// benchCost is what a round took: wall-clock time and this process's CPU time.
type benchCost struct{ wall, cpu time.Duration }

func (c *benchCost) add(o benchCost) { c.wall += o.wall; c.cpu += o.cpu }

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchReceive applies messages first … first+count-1 (200 consumers, so
// threads see repeat messages as in real traffic, each with the nickname
// WeChat reports) in batches and returns what it cost.
func benchReceive(b *testing.B, svc *bridge.Service, capture bool, first, count, batch int) benchCost {
	b.Helper()
	bridge.SetCapture(svc, capture)
	ctx := context.Background()
	now := time.Now()
	start, cpu := time.Now(), processCPU(b)
	for n := first; n < first+count; {
		var in []bridge.Inbound
		for j := 0; j < batch && n < first+count; j++ {
			in = append(in, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("m%d", n), Account: "kf",
				Consumer: bridge.ConsumerID(fmt.Sprintf("c%d", n%200)), ConsumerName: fmt.Sprintf("Consumer %d", n%200),
				At: now, Body: bridge.Content{Text: "hello"}})
			n++
		}
		if err := svc.Receive(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	return benchCost{wall: time.Since(start), cpu: processCPU(b) - cpu}
}
