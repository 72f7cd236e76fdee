package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// BenchmarkCaptureInbound measures what the archive capture costs on the
// inbound path: the same consumer traffic as BenchmarkInbound, through two
// services on two fresh databases of the same backend, one capturing (as
// production always does) and one with capture off (the baseline, possible in
// tests only). The two run in alternating rounds so that the neighbours' load
// falls on both alike, and the benchmark reports capture_ratio, the capturing
// rate over the baseline's (target ≥ 0.8):
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
				on := benchService(b, be.url(b), true)
				off := benchService(b, be.url(b), false)
				const rounds = 6
				per := max(b.N/rounds, 1)
				var tOn, tOff time.Duration
				b.ResetTimer()
				for r := range rounds {
					// Each goes first in every other round, so neither is favoured
					// by what ran just before it.
					if r%2 == 0 {
						tOff += benchReceive(b, off, r*per, per, batch)
						tOn += benchReceive(b, on, r*per, per, batch)
					} else {
						tOn += benchReceive(b, on, r*per, per, batch)
						tOff += benchReceive(b, off, r*per, per, batch)
					}
				}
				b.StopTimer()
				n := float64(rounds * per)
				b.ReportMetric(n/tOn.Seconds(), "msgs/s_on")
				b.ReportMetric(n/tOff.Seconds(), "msgs/s_off")
				b.ReportMetric(tOff.Seconds()/tOn.Seconds(), "capture_ratio")
			})
		}
	}
}

// benchService is BenchmarkInbound's service (20 enabled employees) on the
// database at url, capturing or not.
func benchService(b *testing.B, url string, capture bool) *bridge.Service {
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
	if !capture {
		bridge.DisableCapture(svc)
	}
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

// benchReceive applies messages first … first+count-1 (200 consumers, so
// threads see repeat messages as in real traffic) in batches and returns the
// time it took.
func benchReceive(b *testing.B, svc *bridge.Service, first, count, batch int) time.Duration {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	for n := first; n < first+count; {
		var in []bridge.Inbound
		for j := 0; j < batch && n < first+count; j++ {
			in = append(in, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("m%d", n), Account: "kf",
				Consumer: bridge.ConsumerID(fmt.Sprintf("c%d", n%200)), At: now, Body: bridge.Content{Text: "hello"}})
			n++
		}
		if err := svc.Receive(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}
