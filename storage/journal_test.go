package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// TestJournalState: the company's journaling as the admin page reads it, on
// both dialects: the last delivery MarkJournaled recorded, the delivery jobs
// alive (one retrying, with its error) and dead, and nothing of another
// company's lanes or of other jobs.
func TestJournalState(t *testing.T) {
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := migratedDB(t, be.url(t))
			now := archiveT0
			st, err := db.JournalState(ctx, "acme")
			if err != nil || st != (bridge.JournalState{}) {
				t.Fatalf("an empty database: %+v %v", st, err)
			}
			payload, _ := json.Marshal(map[string]string{"day": "2026-11-23"})
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				for _, j := range []bridge.Job{
					{Lane: bridge.JournalLanes("acme") + "T1", Kind: bridge.JobJournal, Payload: payload, RunAt: now}, // will retry
					{Lane: bridge.JournalLanes("acme") + "T2", Kind: bridge.JobJournal, Payload: payload, RunAt: now}, // will die
					{Lane: bridge.JournalLanes("acme") + "T3", Kind: bridge.JobJournal, Payload: payload, RunAt: now.Add(time.Hour)},
					{Lane: bridge.JournalLanes("acme_x") + "T9", Kind: bridge.JobJournal, Payload: payload, RunAt: now},
					{Lane: "send:T1", Kind: bridge.JobSend, Payload: payload, RunAt: now},
				} {
					if err := tx.Enqueue(ctx, j); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkJournaled(ctx, "acme", "T0", now.AddDate(0, 0, -2), now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			ran := make(chan string, 8)
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- db.RunJobs(runCtx, map[string]bridge.JobHandler{bridge.JobJournal: func(ctx context.Context, j bridge.Job) error {
					ran <- j.Lane
					if j.Lane == bridge.JournalLanes("acme")+"T2" {
						return bridge.Permanent(errors.New("535 authentication failed"))
					}
					return errors.New("451 try again later")
				}}, storage.RunOptions{Now: func() time.Time { return now }, PollInterval: 5 * time.Millisecond})
			}()
			// T1, T2 and the other company's run once each; the clock stands
			// still, so T1's retry and T3 wait.
			for range 3 {
				select {
				case <-ran:
				case <-time.After(30 * time.Second):
					t.Fatal("the journal jobs did not run")
				}
			}
			var got bridge.JournalState
			deadline := time.Now().Add(30 * time.Second)
			for {
				if got, err = db.JournalState(ctx, "acme"); err != nil {
					t.Fatal(err)
				}
				if got.Failing == 1 && got.Dead == 1 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			if got.Pending != 2 || got.Failing != 1 || got.Dead != 1 || got.LastError != "451 try again later" ||
				!got.LastDelivered.Equal(now.Add(-time.Hour)) || got.OldestPending.IsZero() {
				t.Fatalf("journal state %+v", got)
			}
		})
	}
}
