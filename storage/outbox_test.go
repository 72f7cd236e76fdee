package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/storetest"
)

// One transaction's jobs, written together at its end, come out as if written
// one by one: in order within a lane, a timer replaced again and again once,
// cancelled lanes without this transaction's jobs, a woken lane due at once.
func TestOutboxKeepsJobSemantics(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) func() storetest.Backend{"sqlite": sqliteFactory, "postgres": postgresFactory} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)().(*storage.DB)
			ctx := context.Background()
			later := time.Now().Add(time.Hour).Truncate(time.Microsecond)
			// A job already there on the timer lane, from an earlier transaction.
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				return tx.Enqueue(ctx, bridge.Job{Lane: "timer:t1:", Kind: "thread.timer", Payload: []byte(`{"n":0}`), RunAt: later})
			}); err != nil {
				t.Fatal(err)
			}
			err := db.Tx(ctx, func(tx bridge.Tx) error {
				for i, p := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
					if err := tx.Enqueue(ctx, bridge.Job{Lane: "send:t1", Kind: "wechat.send", Payload: []byte(p), Attempts: i}); err != nil {
						return err
					}
				}
				for _, p := range []string{`{"n":4}`, `{"n":5}`} { // messages of one page: timers replaced twice
					if err := tx.CancelLanes(ctx, "timer:t1:"); err != nil {
						return err
					}
					if err := tx.Enqueue(ctx, bridge.Job{Lane: "timer:t1:", Kind: "thread.timer", Payload: []byte(p), RunAt: later}); err != nil {
						return err
					}
				}
				for _, p := range []string{`{"n":6}`, `{"n":7}`} {
					if err := tx.SetTimer(ctx, bridge.Job{Lane: "pull:kf", Kind: "wechat.pull", Payload: []byte(p), RunAt: later}); err != nil {
						return err
					}
				}
				if err := tx.Enqueue(ctx, bridge.Job{Lane: "teams:e1", Kind: "teams.deliver", RunAt: later}); err != nil {
					return err
				}
				return tx.WakeLane(ctx, "teams:e1")
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"send:":  {`{"n":1}`, `{"n":2}`, `{"n":3}`},
				"timer:": {`{"n":5}`},
				"pull:":  {`{"n":7}`},
				"teams:": {`null`},
			}
			for prefix, payloads := range want {
				js, err := db.PendingJobs(ctx, prefix)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, j := range js {
					got = append(got, string(j.Payload))
				}
				if len(got) != len(payloads) {
					t.Fatalf("%s: jobs %v, want %v", prefix, got, payloads)
				}
				for i := range got {
					if got[i] != payloads[i] {
						t.Fatalf("%s: jobs %v, want %v", prefix, got, payloads)
					}
				}
				for i, j := range js {
					switch {
					case prefix == "send:" && j.Attempts != i:
						t.Errorf("send job %d: attempts %d", i, j.Attempts)
					case prefix == "teams:" && !j.RunAt.IsZero():
						t.Errorf("the woken delivery is due at %v, want at once", j.RunAt)
					case (prefix == "timer:" || prefix == "pull:") && !j.RunAt.Equal(later):
						t.Errorf("%s job due at %v, want %v", prefix, j.RunAt, later)
					}
				}
			}
		})
	}
}
