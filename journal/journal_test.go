package journal_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/testenv"
	"github.com/multiline/multiline/journal"
	"github.com/multiline/multiline/storage"
)

// smtpServer is npm smtp-server run by testdata/smtp_server.js.
type smtpServer struct {
	port     int
	mu       sync.Mutex
	accepted []string // Message-IDs, in order
	rejected []string
	to       [][]string
}

func startSMTP(t *testing.T, user, pass string, failFirst int) *smtpServer {
	t.Helper()
	node, modules := testenv.Node(t), testenv.Modules(t, "smtp-server")
	cmd := exec.Command(node, filepath.Join("testdata", "smtp_server.js"), modules, user, pass, fmt.Sprint(failFirst))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	s := &smtpServer{}
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Port     int
				Accepted *string
				Rejected *string
				To       []string
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			s.mu.Lock()
			switch {
			case line.Port != 0:
				ready <- line.Port
			case line.Accepted != nil:
				s.accepted = append(s.accepted, *line.Accepted)
				s.to = append(s.to, line.To)
			case line.Rejected != nil:
				s.rejected = append(s.rejected, *line.Rejected)
			}
			s.mu.Unlock()
		}
	}()
	select {
	case s.port = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("smtp-server did not start")
	}
	return s
}

func (s *smtpServer) seen() (accepted, rejected []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted), slices.Clone(s.rejected)
}

// clock is the runner's time, moved on by the test past each retry's backoff.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openDB is a migrated SQLite database of the test's own.
func openDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// runJournal runs svc's anchor and journaling jobs on the clock now until the
// test ends.
func runJournal(t *testing.T, db *storage.DB, svc *bridge.Service, now func() time.Time) {
	t.Helper()
	handlers := map[string]bridge.JobHandler{}
	for k, h := range svc.Handlers() {
		if k == bridge.JobJournalDay || k == bridge.JobJournal || k == bridge.JobAnchor {
			handlers[k] = h
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.RunJobs(ctx, handlers, storage.RunOptions{Now: now, PollInterval: 5 * time.Millisecond, Workers: 2, OnDead: svc.JobDied})
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestJournalDay: when a day ends, its anchor job hands it to journaling, and
// its two conversations are sent by durable jobs to
// a real SMTP server (npm smtp-server, with AUTH), which refuses the first
// delivery with 451; the job is retried, and each conversation arrives exactly
// once, by Message-ID, at the journaling mailbox. Journaling the day again
// sends the same Message-IDs, which is how the archive knows to replace.
func TestJournalDay(t *testing.T) {
	srv := startSMTP(t, "archiver", "s3cret", 1)
	ctx := context.Background()
	db := openDB(t)
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i, th := range []string{"T1", "T2"} {
		if err := db.Tx(ctx, func(tx bridge.Tx) error {
			return tx.Archive(ctx,
				archive.Draft{Company: "default", Thread: th, Time: day.Add(9 * time.Hour), Kind: archive.KindMessageIn,
					Body: archive.MessageBody{MessageID: th + "-1", Author: archive.Party{Role: archive.RoleConsumer, ID: fmt.Sprint("wm", i), Name: "Consumer " + th}, Text: "hello"}},
				archive.Draft{Company: "default", Thread: th, Time: day.Add(10 * time.Hour), Kind: archive.KindMessageOut,
					Body: archive.MessageBody{MessageID: th + "-2", Author: archive.Party{Role: archive.RoleEmployee, ID: "oid-ann", Name: "Ann"}, Text: "hi"}})
		}); err != nil {
			t.Fatal(err)
		}
	}

	mailer, err := journal.NewMailer(fmt.Sprintf("smtp://archiver:s3cret@127.0.0.1:%d", srv.port), "journal@archive.example", "multiline@example.com")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: day.Add(12 * time.Hour)}
	svc := bridge.NewService(db, bridge.Options{Now: clk.now})
	if err := svc.EnsureCompany(ctx, "Acme", "t", bridge.English); err != nil {
		t.Fatal(err)
	}
	svc.AttachJournal(journal.New(db, mailer, archive.ExportOptions{Channel: archive.ChannelWeComKF}))
	runJournal(t, db, svc, clk.now)

	want := slices.Sorted(slices.Values([]string{"<" + archive.DayMessageID("default", "T1", day, "") + ">",
		"<" + archive.DayMessageID("default", "T2", day, "") + ">"}))
	waitDelivered := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			acc, _ := srv.seen()
			if len(acc) >= n {
				return acc
			}
			if time.Now().After(deadline) {
				jobs, _ := db.PendingJobs(ctx, "")
				t.Fatalf("delivered %q; jobs %+v", acc, jobs)
			}
			clk.advance(10 * time.Second) // past the retry's backoff
			time.Sleep(10 * time.Millisecond)
		}
	}

	// The day's anchor job, scheduled at start-up, runs when the day ends and
	// hands the day to journaling.
	if err := svc.ScheduleAnchors(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(12 * time.Hour)
	acc := waitDelivered(2)
	_, rej := srv.seen()
	if len(rej) != 1 || !slices.Contains(want, rej[0]) {
		t.Fatalf("rejected %q, want one of %q", rej, want)
	}
	got := slices.Sorted(slices.Values(acc))
	if !slices.Equal(got, want) {
		t.Fatalf("accepted %q, want each of %q exactly once", acc, want)
	}
	for _, to := range srv.to {
		if !slices.Equal(to, []string{"journal@archive.example"}) {
			t.Errorf("sent to %q", to)
		}
	}
	// Wait until every job ended, so nothing is in flight, and check that
	// nothing was sent twice meanwhile.
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := db.PendingJobs(ctx, "archive:journal:")
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal jobs left: %+v", jobs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if acc, _ := srv.seen(); len(acc) != 2 {
		t.Fatalf("accepted %q after the jobs ended", acc)
	}
	var anchors int
	if err := db.Events(ctx, archive.ChainID{Company: "default", Thread: archive.CompanyThread}, func(e archive.Event) error {
		if e.Kind == archive.KindAnchor {
			anchors++
		}
		return nil
	}); err != nil || anchors != 1 {
		t.Fatalf("%d anchors (%v), want the day's one", anchors, err)
	}

	// A re-send of the day: the same two Message-IDs again.
	if err := svc.JournalDay(ctx, day); err != nil {
		t.Fatal(err)
	}
	acc = waitDelivered(4)
	if again := slices.Sorted(slices.Values(acc[2:])); !slices.Equal(again, want) {
		t.Fatalf("re-sent %q, want %q", acc[2:], want)
	}
}

// TestMailerRefusals: a wrong password is a final refusal (not retried for
// ever), and a URL the service cannot use is refused at start-up.
func TestMailerRefusals(t *testing.T) {
	srv := startSMTP(t, "archiver", "s3cret", 0)
	m, err := journal.NewMailer(fmt.Sprintf("smtp://archiver:wrong@127.0.0.1:%d", srv.port), "journal@archive.example", "multiline@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !errorsIsPermanent(err) {
		t.Fatalf("wrong password: %v, want a permanent error", err)
	}
	for _, u := range []string{"http://h:25", "smtp://h", "smtp://:25", "::"} {
		if _, err := journal.NewMailer(u, "j@x.example", "m@x.example"); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := journal.NewMailer("smtp://h:25", "nobody", "m@x.example"); err == nil {
		t.Error("a mailbox without @ accepted")
	}
}

func errorsIsPermanent(err error) bool { return errors.Is(err, bridge.ErrPermanent) }
