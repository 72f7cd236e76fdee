package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// quietWeChat accepts every send at once, like the fake WeCom of the burst test.
type quietWeChat struct{ sends atomic.Int64 }

func (w *quietWeChat) Send(context.Context, bridge.OutboundMessage) error {
	w.sends.Add(1)
	return nil
}
func (w *quietWeChat) Pull(context.Context, string, string, string) (bridge.PullBatch, error) {
	return bridge.PullBatch{}, nil
}
func (w *quietWeChat) ContactLink(_ context.Context, account, scene, param string) (string, error) {
	return "https://work.weixin.qq.com/kfid/" + account + "?enc_scene=" + scene + "&scene_param=" + param, nil
}
func (w *quietWeChat) EndSession(context.Context, string, bridge.ConsumerID) error { return nil }
func (w *quietWeChat) FetchMedia(_ context.Context, _ string, m bridge.PendingMedia) (bridge.Content, error) {
	return bridge.Content{MediaKind: m.Kind, MediaRef: "ref-" + m.MediaID}, nil
}
func (w *quietWeChat) CanSend(bridge.Content) error { return nil }
func (w *quietWeChat) Profiles(context.Context, string, []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Profile, error) {
	return nil, nil
}

// cardTeams posts every delivery at once and does what the bot does after a
// post: it records the card, and now and then the employee acts on it, which
// moves their focus (an employee row written while pages and deliveries run).
type cardTeams struct {
	svc        *bridge.Service
	deliveries atomic.Int64
}

func (c *cardTeams) Deliver(ctx context.Context, d bridge.Delivery) error {
	n := c.deliveries.Add(1)
	card := bridge.CardRecord{Employee: d.Employee.ID, Thread: d.Thread.ID, ActivityID: fmt.Sprintf("act-%d", n)}
	if d.Message.ID != "" {
		card.Messages = []bridge.MessageID{d.Message.ID}
	}
	if err := c.svc.SaveCard(ctx, card); err != nil {
		return err
	}
	if n%5 == 0 {
		return c.svc.SetFocus(ctx, d.Employee.ID, d.Thread.ID)
	}
	return nil
}

// TestPostgresNoDeadlocks runs what the burst of issue 10 runs at once on one
// PostgreSQL database: pages of inbound messages (new consumers, routed to the
// pool, mixed with messages of consumers whose threads exist) applied by
// Service.Receive the way the pull lane applies them, single messages applied by
// receive jobs, employees replying from the tab, and the job runner delivering
// cards (which records them and moves the employee's focus) and sending to
// WeChat. The database is the test's own, so pg_stat_database.deadlocks counts
// only this work; it must not move.
func TestPostgresNoDeadlocks(t *testing.T) {
	t.Parallel()
	dbURL, dbName := pgtest.Database(t)
	before := pgtest.Deadlocks(t, dbName)
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			db.Close()
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	t0 := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return t0 } // no 24 h or 48 h timer comes due
	svc := bridge.NewService(db, bridge.Options{Now: clock, AutoEnable: true, Account: "kf1"})
	teams := &cardTeams{svc: svc}
	svc.Attach(&quietWeChat{}, teams)
	if err := svc.EnsureCompany(ctx, "Burst", "tenant", bridge.English); err != nil {
		t.Fatal(err)
	}
	const employees = 20
	for i := range employees {
		_, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: "tenant", TeamsUserID: fmt.Sprintf("29:e%02d", i),
			Name: fmt.Sprintf("Employee %02d", i), Locale: "en-US",
			Conversation: bridge.ConversationRef{ServiceURL: "https://smba.example", ConversationID: fmt.Sprintf("a:%02d", i)}})
		if err != nil {
			t.Fatal(err)
		}
	}

	var jobFailures atomic.Int64
	var firstFailure atomic.Value
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan error, 1)
	go func() {
		runnerDone <- db.RunJobs(runCtx, svc.Handlers(), storage.RunOptions{Now: clock, PollInterval: 5 * time.Millisecond,
			OnDead: svc.JobDied, OnError: func(j bridge.Job, err error) {
				jobFailures.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("job %d (%s): %v", j.ID, j.Kind, err))
			}})
	}()

	// The pull lane: pages one after the other, each with new consumers and
	// consumers from earlier pages (whose threads it locks before it routes).
	const pages, perPage = 12, 40
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Go(func() {
		for p := range pages {
			var batch []bridge.Inbound
			for k := range perPage {
				c := fmt.Sprintf("wm-%02d-%02d", p, k)
				if k%2 == 1 && p > 0 {
					c = fmt.Sprintf("wm-%02d-%02d", (p*7+k)%p, (k*3)%perPage)
				}
				batch = append(batch, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("m-%d-%d", p, k),
					Account: "kf1", Consumer: bridge.ConsumerID(c), At: t0, Body: bridge.Content{Text: "hello " + c}})
			}
			if err := svc.Receive(ctx, batch); err != nil {
				errs <- fmt.Errorf("page %d: %w", p, err)
				return
			}
		}
	})
	// Receive jobs: one consumer's message per transaction, for consumers of the
	// first pages, while later pages are applied.
	for g := range 3 {
		wg.Go(func() {
			for i := range 40 {
				c := fmt.Sprintf("wm-%02d-%02d", i%3, (g*13+i)%perPage)
				in := bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("r-%d-%d", g, i),
					Account: "kf1", Consumer: bridge.ConsumerID(c), At: t0, Body: bridge.Content{Text: "again"}}
				if err := svc.Receive(ctx, []bridge.Inbound{in}); err != nil {
					errs <- fmt.Errorf("receive %s: %w", c, err)
					return
				}
			}
		})
	}
	// Employees reply from the tab: employee read, then the thread locked.
	wg.Go(func() {
		for round := range 6 {
			list, err := svc.Employees(ctx)
			if err != nil {
				errs <- err
				return
			}
			for _, e := range list {
				threads, err := svc.Threads(ctx, e.ID)
				if err != nil {
					errs <- fmt.Errorf("threads of %s: %w", e.ID, err)
					return
				}
				if len(threads) == 0 {
					continue
				}
				th := threads[round%len(threads)]
				if _, err := svc.Send(ctx, e.ID, th.ID, bridge.Content{Text: "reply"}); err != nil && !isPolicyRefusal(err) {
					errs <- fmt.Errorf("reply of %s: %w", e.ID, err)
					return
				}
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Let the runner finish what the burst enqueued, then stop it.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		js, err := db.PendingJobs(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		due := 0
		for _, j := range js {
			if !j.RunAt.After(t0) {
				due++
			}
		}
		if due == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still due after the burst", due)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopRunner()
	if err := <-runnerDone; err != nil {
		t.Fatal(err)
	}
	if n := jobFailures.Load(); n > 0 {
		t.Errorf("%d job attempts failed; the first: %v", n, firstFailure.Load())
	}
	if teams.deliveries.Load() == 0 {
		t.Fatal("no delivery ran: the test exercised nothing")
	}

	// Every backend of the test's database must have flushed its statistics:
	// closing the pool ends them, and a backend flushes as it exits.
	db.Close()
	closed = true
	after := pgtest.Deadlocks(t, dbName)
	if after != before {
		t.Errorf("pg_stat_database.deadlocks went from %d to %d", before, after)
	}
	t.Logf("%d deliveries, deadlocks %d → %d", teams.deliveries.Load(), before, after)
}

// isPolicyRefusal says a reply was refused by the policy or the thread's state
// (not the employee's thread any more, chat inactive), which this test does not
// care about.
func isPolicyRefusal(err error) bool {
	return errors.Is(err, bridge.ErrUnknownThread) || errors.Is(err, bridge.ErrNotParticipant)
}
