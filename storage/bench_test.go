package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/memstore"
	"github.com/multiline/multiline/storage/storetest"
)

// BenchmarkInbound measures the storage side of the inbound path alone: per
// message, lock and read its thread, insert the message, save the thread, and
// enqueue one job, with one transaction per message or 100 per transaction, from
// 4 producers each with threads of its own. It reports msgs/s, and mem_ratio: the
// backend's rate divided by memstore's on the same work measured right after, so
// that the figure survives noisy machines.
//
//	go test -run '^$' -bench Inbound -benchtime 3000x ./storage
func BenchmarkInbound(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) func() storetest.Backend
	}{
		{"memstore", nil},
		{"sqlite", sqliteFactory},
		{"postgres", postgresFactory},
	}
	for _, be := range backends {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, batch), func(b *testing.B) {
				var s storetest.Backend = memstore.New()
				if be.open != nil {
					s = be.open(b)()
				}
				rate := inbound(b, s, batch, true)
				b.ReportMetric(rate, "msgs/s")
				if be.open != nil {
					b.ReportMetric(rate/inbound(b, memstore.New(), batch, false), "mem_ratio")
				}
			})
		}
	}
}

// inbound pushes b.N messages through s and returns messages per second. timed
// says whether this is the benchmark's own measurement (with its timer) or the
// memstore baseline measured after it.
func inbound(b *testing.B, s storetest.Backend, batch int, timed bool) float64 {
	ctx := context.Background()
	if err := s.Tx(ctx, func(tx bridge.Tx) error {
		return tx.SaveCompany(ctx, bridge.Company{ID: "c1", Policy: bridge.DefaultPolicy(), Language: bridge.English})
	}); err != nil {
		b.Fatal(err)
	}
	const producers, threadsEach = 4, 8
	for p := range producers {
		for k := range threadsEach {
			tr := bridge.ThreadRecord{
				Thread:  bridge.Thread{ID: threadID(p, k), Consumer: bridge.ConsumerID("wm" + strconv.Itoa(p*100+k)), Status: bridge.StatusActive, Participants: []bridge.EmployeeID{"e1"}},
				Company: "c1", Account: "wk", CreatedAt: time.Now(), UpdatedAt: time.Now(),
			}
			if err := s.Tx(ctx, func(tx bridge.Tx) error {
				if _, err := tx.LoadThread(ctx, tr.ID); err == nil {
					return nil
				} else if !errors.Is(err, bridge.ErrUnknownThread) {
					return err
				}
				return tx.SaveThread(ctx, tr)
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	n := int64(b.N)
	work := func(p int) error {
		k := 0
		for {
			var err error
			done := false
			err = s.Tx(ctx, func(tx bridge.Tx) error {
				for range batch {
					if next.Add(1) > n {
						done = true
						return nil
					}
					if err := oneMessage(ctx, tx, threadID(p, k%threadsEach)); err != nil {
						return err
					}
					k++
				}
				return nil
			})
			if err != nil || done {
				return err
			}
		}
	}
	errs := make(chan error, producers)
	if timed {
		b.ResetTimer()
	}
	start := time.Now()
	for p := range producers {
		go func() { errs <- work(p) }()
	}
	for range producers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	if timed {
		b.StopTimer()
	}
	return float64(b.N) / elapsed.Seconds()
}

func threadID(p, k int) bridge.ThreadID { return bridge.ThreadID(fmt.Sprintf("b%dx%d", p, k)) }

// oneMessage is the storage work of one inbound consumer message.
func oneMessage(ctx context.Context, tx bridge.Tx, id bridge.ThreadID) error {
	th, err := tx.LoadThread(ctx, id)
	if err != nil {
		return err
	}
	now := time.Now()
	th.Seq++
	th.LastConsumerAt, th.UpdatedAt, th.Sends, th.Streak = now, now, 0, 0
	mid := bridge.MessageIDFor(id, th.Seq)
	if err := tx.InsertMessage(ctx, bridge.MessageRecord{
		ID: mid, Thread: id, Seq: th.Seq, From: bridge.FromConsumer, Body: bridge.Content{Text: "hello from WeChat"},
		Text: "hello from WeChat", Status: bridge.StatusReceived, WeChatMsgID: "wx" + string(mid), At: now,
	}); err != nil {
		return err
	}
	if err := tx.SaveThread(ctx, th); err != nil {
		return err
	}
	return tx.Enqueue(ctx, bridge.Job{Lane: "teams:e1", Kind: "deliver", Payload: []byte(`{"message":"` + string(mid) + `"}`)})
}
