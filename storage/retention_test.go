package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// TestRetentionPurgesAllButHeld: consumers write, one with a picture, an
// employee answers, the company keeps records 30 days, and holds are set on a
// consumer, a thread and an employee. With the clock moved 40 days on, a
// retention run purges the unheld thread's texts, media and archive bodies,
// keeps the held ones and everything newer than the period, records a purge
// event, and archive.Verify still passes. Lifting a hold lets the next run
// purge that thread too. On SQLite and on PostgreSQL.
func TestRetentionPurgesAllButHeld(t *testing.T) {
	t.Parallel()
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openDB(t, be.url(t))
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			svc := bridge.NewService(db, bridge.Options{Company: "acme", Now: func() time.Time { return now }})
			svc.AttachRetention(db)
			if err := svc.EnsureCompany(ctx, "Acme", "tenant", bridge.English); err != nil {
				t.Fatal(err)
			}
			ctx = bridge.WithAdmin(ctx, archive.Party{ID: "admin-1", Name: "Ada Admin"})
			ann := addEnabled(t, svc, "aad-ann", "Ann")

			img, err := db.PutMedia(ctx, "acme", "image/png", "chart.png", []byte("png bytes"))
			if err != nil {
				t.Fatal(err)
			}
			say := func(consumer, text string, body bridge.Content) bridge.ThreadID {
				t.Helper()
				body.Text = text
				if err := svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: consumer + text,
					Consumer: bridge.ConsumerID(consumer), ConsumerName: consumer, At: now, Body: body}}); err != nil {
					t.Fatal(err)
				}
				return threadOf(t, db, consumer)
			}
			heldByConsumer := say("wmHeldConsumer", "consumer on hold", bridge.Content{})
			free := say("wmFree", "please forget me", bridge.Content{MediaKind: "image", MediaRef: img, FileName: "chart.png"})
			if _, err := svc.Send(ctx, ann, free, bridge.Content{Text: "noted, Ann here"}); err != nil {
				t.Fatal(err)
			}
			heldThread := say("wmHeldThread", "thread on hold", bridge.Content{})

			// Ann adds Eve to one thread, and Eve leaves it: only the archive
			// remembers she was there, and she is then held.
			heldByEmployee := say("wmEve", "employee on hold", bridge.Content{})
			eve := addEnabled(t, svc, "aad-eve", "Eve")
			if err := svc.AddParticipant(ctx, ann, heldByEmployee, eve); err != nil {
				t.Fatal(err)
			}
			if err := svc.Leave(ctx, eve, heldByEmployee); err != nil {
				t.Fatal(err)
			}

			p, err := svc.CompanySettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			p.Policy.RetentionDays = 30
			if err := svc.SetPolicy(ctx, p.Policy, p.Overrides); err != nil {
				t.Fatal(err)
			}
			consumerHold, err := svc.SetHold(ctx, bridge.HoldConsumer, "wmHeldConsumer", "SEC inquiry 2026-01")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetHold(ctx, bridge.HoldThread, string(heldThread), "litigation"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetHold(ctx, bridge.HoldEmployee, string(eve), "internal review"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetHold(ctx, bridge.HoldThread, "nosuchthread", "typo"); !errors.Is(err, bridge.ErrUnknownThread) {
				t.Fatalf("a hold on an unknown thread: %v", err)
			}
			holds, err := svc.Holds(ctx)
			if err != nil || len(holds) != 3 {
				t.Fatalf("holds in force: %v %+v", err, holds)
			}

			// Within the period, nothing goes.
			now = now.AddDate(0, 0, 20)
			if res, err := svc.Purge(ctx); err != nil || res.Events+res.Messages+res.Media != 0 {
				t.Fatalf("purge within the period: %+v %v", res, err)
			}

			now = now.AddDate(0, 0, 20) // 40 days after the messages
			recent := say("wmFree", "a recent message", bridge.Content{})
			if recent != free {
				t.Fatalf("the free consumer's new message went to %s, not %s", recent, free)
			}
			res, err := svc.Purge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Events == 0 || res.Messages < 2 || res.Media != 1 || len(res.Holds) != 3 {
				t.Fatalf("purge result: %+v", res)
			}
			for _, th := range []bridge.ThreadID{heldByConsumer, heldThread, heldByEmployee} {
				if texts := messageTexts(t, db, th); len(texts) == 0 || texts[0] == "" {
					t.Errorf("held thread %s lost its texts: %q", th, texts)
				}
				if n := purgedEvents(t, db, th); n != 0 {
					t.Errorf("held thread %s has %d purged archive events", th, n)
				}
			}
			texts := messageTexts(t, db, free)
			if texts[0] != "" || texts[len(texts)-1] != "a recent message" {
				t.Errorf("the free thread's texts after the purge: %q", texts)
			}
			for _, s := range texts[:len(texts)-1] {
				// Ann's answer never left (no WeChat in this test): a message
				// still being sent is not a record yet, and stays.
				if s != "" && s != "noted, Ann here" {
					t.Errorf("an old message of the free thread kept its text %q", s)
				}
			}
			if n := purgedEvents(t, db, free); n == 0 {
				t.Error("no archive body of the free thread was purged")
			}
			before := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC).UnixMicro()
			auditKept := func(th bridge.ThreadID) (n int) {
				t.Helper()
				if err := db.SQLForTest().QueryRow(`SELECT COUNT(*) FROM audit WHERE thread = $1 AND at < $2 AND detail <> 'null'`,
					string(th), before).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := auditKept(free); n != 0 {
				t.Errorf("%d old audit details of the free thread kept", n)
			}
			if n := auditKept(heldThread); n == 0 {
				t.Error("the held thread's audit details were purged")
			}
			if _, _, _, err := db.Media(ctx, img); !errors.Is(err, bridge.ErrNotFound) {
				t.Errorf("the purged picture is still stored: %v", err)
			}
			mustVerify(t, db)
			purges := companyEvents(t, db, archive.KindPurge)
			if len(purges) != 1 {
				t.Fatalf("%d purge events", len(purges))
			}
			var pb archive.PurgeBody
			if err := purges[0].Decode(&pb); err != nil || pb.RetentionDays != 30 || len(pb.Holds) != 3 ||
				!pb.Before.Equal(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("purge event: %+v %v", pb, err)
			}

			// A second run finds nothing more; lifting a hold frees that thread.
			if res, err := svc.Purge(ctx); err != nil || res.Events+res.Messages+res.Media != 0 {
				t.Fatalf("a repeated purge: %+v %v", res, err)
			}
			if _, err := svc.LiftHold(ctx, consumerHold.ID, "inquiry closed"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			if texts := messageTexts(t, db, heldByConsumer); texts[0] != "" {
				t.Errorf("after the hold was lifted, the consumer's thread kept %q", texts)
			}
			if texts := messageTexts(t, db, heldThread); texts[0] == "" {
				t.Error("the thread still on hold was purged")
			}
			mustVerify(t, db)
			if n := len(companyEvents(t, db, archive.KindHoldSet)); n != 3 {
				t.Errorf("%d hold.set events", n)
			}
			if n := len(companyEvents(t, db, archive.KindHoldLifted)); n != 1 {
				t.Errorf("%d hold.lifted events", n)
			}
		})
	}
}

// TestRetentionJournaledOnly: with journaling on, a purge drops only the
// conversation-days the journal delivered.
func TestRetentionJournaledOnly(t *testing.T) {
	t.Parallel()
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openDB(t, be.url(t))
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			svc := bridge.NewService(db, bridge.Options{Company: "acme", Now: func() time.Time { return now }})
			svc.AttachRetention(db)
			svc.PurgeJournaledOnly()
			if err := svc.EnsureCompany(ctx, "Acme", "tenant", bridge.English); err != nil {
				t.Fatal(err)
			}
			addEnabled(t, svc, "aad-ann", "Ann")
			var threads []bridge.ThreadID
			for _, c := range []string{"wmSent", "wmUnsent"} {
				if err := svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: c,
					Consumer: bridge.ConsumerID(c), At: now, Body: bridge.Content{Text: "hello from " + c}}}); err != nil {
					t.Fatal(err)
				}
				threads = append(threads, threadOf(t, db, c))
			}
			if err := db.MarkJournaled(ctx, "acme", string(threads[0]), now, now); err != nil {
				t.Fatal(err)
			}
			p, _ := svc.CompanySettings(ctx)
			p.Policy.RetentionDays = 1
			if err := svc.SetPolicy(ctx, p.Policy, p.Overrides); err != nil {
				t.Fatal(err)
			}
			now = now.AddDate(0, 0, 3)
			if _, err := svc.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			if s := messageTexts(t, db, threads[0]); s[0] != "" {
				t.Errorf("the journaled day was kept: %q", s)
			}
			if s := messageTexts(t, db, threads[1]); s[0] != "hello from wmUnsent" {
				t.Errorf("a day never journaled was purged: %q", s)
			}
			mustVerify(t, db)
		})
	}
}

func addEnabled(t *testing.T, svc *bridge.Service, aad, name string) bridge.EmployeeID {
	t.Helper()
	ctx := context.Background()
	e, err := svc.AddEmployee(ctx, "tenant", aad, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetEmployeeEnabled(ctx, e.ID, true); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

func threadOf(t *testing.T, db *storage.DB, consumer string) bridge.ThreadID {
	t.Helper()
	var id string
	if err := db.SQLForTest().QueryRow(`SELECT id FROM threads WHERE consumer = $1`, consumer).Scan(&id); err != nil {
		t.Fatalf("thread of %s: %v", consumer, err)
	}
	return bridge.ThreadID(id)
}

// messageTexts are the thread's consumer and employee messages' texts, in order.
func messageTexts(t *testing.T, db *storage.DB, th bridge.ThreadID) []string {
	t.Helper()
	rows, err := db.SQLForTest().Query(`SELECT text FROM messages WHERE thread = $1 AND notice = '' ORDER BY seq`, string(th))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("thread %s has no messages", th)
	}
	return out
}

func purgedEvents(t *testing.T, db *storage.DB, th bridge.ThreadID) int {
	t.Helper()
	var n int
	err := db.Events(context.Background(), archive.ChainID{Company: "acme", Thread: string(th)}, func(e archive.Event) error {
		if e.Purged() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func companyEvents(t *testing.T, db *storage.DB, kind archive.Kind) []archive.Event {
	t.Helper()
	var out []archive.Event
	err := db.Events(context.Background(), archive.ChainID{Company: "acme", Thread: archive.CompanyThread}, func(e archive.Event) error {
		if e.Kind == kind {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustVerify(t *testing.T, db *storage.DB) {
	t.Helper()
	rep, err := archive.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify after the purge: %+v", rep.Problems)
	}
}

// TestRetentionDailyJob: the retention job the service schedules at start-up
// runs through the durable job runner once its day is past, purges what is
// older than the period, and schedules the next day's run.
func TestRetentionDailyJob(t *testing.T) {
	t.Parallel()
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := openDB(t, be.url(t))
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			svc := bridge.NewService(db, bridge.Options{Company: "acme", Now: clock})
			svc.AttachRetention(db)
			if err := svc.EnsureCompany(ctx, "Acme", "tenant", bridge.English); err != nil {
				t.Fatal(err)
			}
			addEnabled(t, svc, "aad-ann", "Ann")
			if err := svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "old", Consumer: "wmOld",
				At: now, Body: bridge.Content{Text: "an old message"}}}); err != nil {
				t.Fatal(err)
			}
			th := threadOf(t, db, "wmOld")
			p, _ := svc.CompanySettings(ctx)
			p.Policy.RetentionDays = 2
			if err := svc.SetPolicy(ctx, p.Policy, p.Overrides); err != nil {
				t.Fatal(err)
			}
			if err := svc.ScheduleRetention(ctx); err != nil {
				t.Fatal(err)
			}
			if err := svc.ScheduleRetention(ctx); err != nil { // a second replica starting
				t.Fatal(err)
			}

			ran := make(chan error, 4)
			h := svc.Handlers()[bridge.JobRetention]
			handlers := map[string]bridge.JobHandler{bridge.JobRetention: func(ctx context.Context, j bridge.Job) error {
				err := h(ctx, j)
				ran <- err
				return err
			}}
			mu.Lock()
			now = now.AddDate(0, 0, 5)
			mu.Unlock()
			runnerDone := make(chan error, 1)
			go func() {
				runnerDone <- db.RunJobs(ctx, handlers, storage.RunOptions{Now: clock, PollInterval: 10 * time.Millisecond})
			}()
			select {
			case err := <-ran:
				if err != nil {
					t.Fatalf("the retention job: %v", err)
				}
			case err := <-runnerDone:
				t.Fatalf("the runner stopped: %v", err)
			}
			if s := messageTexts(t, db, th); s[0] != "" {
				t.Errorf("the daily job kept %q", s)
			}
			if n := len(companyEvents(t, db, archive.KindPurge)); n != 1 {
				t.Errorf("%d purge events", n)
			}
			var next []time.Time
			rows, err := db.SQLForTest().Query(`SELECT run_at FROM jobs WHERE kind = $1`, bridge.JobRetention)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var us int64
				if err := rows.Scan(&us); err != nil {
					t.Fatal(err)
				}
				next = append(next, time.UnixMicro(us).UTC())
			}
			rows.Close()
			if len(next) != 1 || !next[0].Equal(time.Date(2026, 1, 11, 1, 0, 0, 0, time.UTC)) {
				t.Errorf("the next runs: %v, want one at 2026-01-11 01:00", next)
			}
			mustVerify(t, db)
			cancel()
			<-runnerDone
		})
	}
}
