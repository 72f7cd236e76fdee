package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/memstore"
	"github.com/multiline/multiline/storage/pgtest"
)

// BenchmarkInbound measures the inbound path: consumer messages applied by the
// policy and stored with their effects (message rows, thread state, Teams delivery
// jobs, timers, audit), in sync_msg-sized batches and one at a time. Each backend
// reports msgs/s and mem_ratio, its rate over the memory store's measured just
// before it in the same run (these machines are noisy; ratios travel better):
//
//	go test -run '^$' -bench Inbound ./bridge/
func BenchmarkInbound(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) bridge.Store
	}{
		{"memory", func(b *testing.B) bridge.Store { return memstore.New() }},
		{"sqlite", func(b *testing.B) bridge.Store {
			db, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return db
		}},
		{"postgres", func(b *testing.B) bridge.Store {
			url := pgtest.Schema(b)
			db, err := storage.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return db
		}},
	}
	baseline := map[int]float64{} // the memory store's msgs/s per batch size, this run
	for _, batch := range []int{1, 100} {
		for _, be := range backends {
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, batch), func(b *testing.B) {
				store := be.open(b)
				svc := bridge.NewService(store, bridge.Options{AutoEnable: true, Account: "kf"})
				ctx := context.Background()
				if err := svc.EnsureCompany(ctx, "Bench", "t", bridge.English); err != nil {
					b.Fatal(err)
				}
				for i := range 20 {
					if _, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: "t", TeamsUserID: fmt.Sprintf("29:e%d", i), Name: "E",
						Conversation: bridge.ConversationRef{ConversationID: "a"}}); err != nil {
						b.Fatal(err)
					}
				}
				now := time.Now()
				b.ResetTimer()
				n := 0
				for n < b.N {
					var in []bridge.Inbound
					for j := 0; j < batch && n < b.N; j++ {
						// 200 consumers, so threads see repeat messages as in real traffic.
						in = append(in, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("m%d", n), Account: "kf",
							Consumer: bridge.ConsumerID(fmt.Sprintf("c%d", n%200)), At: now, Body: bridge.Content{Text: "hello"}})
						n++
					}
					if err := svc.Receive(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
				rate := float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(rate, "msgs/s")
				if be.name == "memory" {
					baseline[batch] = rate
				} else if base := baseline[batch]; base > 0 {
					b.ReportMetric(rate/base, "mem_ratio")
				}
			})
		}
	}
}
