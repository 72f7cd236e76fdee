package bridge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/memstore"
)

// ledger is a Retention that reports a fixed journaling state.
type ledger struct {
	bridge.Retention // not called
	st               bridge.JournalState
}

func (l ledger) JournalState(context.Context, bridge.CompanyID) (bridge.JournalState, error) {
	return l.st, nil
}

// stubJournal is a Journaler that removes its password from errors.
type stubJournal struct{ pass string }

func (stubJournal) Threads(context.Context, string, time.Time) ([]string, error) { return nil, nil }
func (stubJournal) Send(context.Context, string, string, time.Time) error        { return nil }
func (stubJournal) Target() (string, string)                                     { return "mail.example:587", "journal@archive.example" }
func (j stubJournal) Redact(msg string) string                                   { return strings.ReplaceAll(msg, j.pass, "[REDACTED]") }

// TestJournalStatusScrubs: the admin reads the store's journaling state with
// where this server sends to, and the last error without the SMTP password
// or any URL's user information, even when the journal is off here.
func TestJournalStatusScrubs(t *testing.T) {
	ctx := context.Background()
	svc := bridge.NewService(memstore.New(), bridge.Options{})
	if _, err := svc.JournalStatus(ctx); !errors.Is(err, bridge.ErrNoRetention) {
		t.Fatalf("without retention: %v", err)
	}
	failure := "journal: dial smtp://archiver:s3cret@mail.example:587 (as archiver): auth s3cret refused; retry smtps://other@x.example:465"
	svc.AttachRetention(ledger{st: bridge.JournalState{Pending: 2, Failing: 1, LastError: failure}})
	st, err := svc.JournalStatus(ctx)
	if err != nil || st.Enabled || st.Pending != 2 || st.Failing != 1 {
		t.Fatalf("journal off: %+v %v", st, err)
	}
	if strings.Contains(st.LastError, "archiver:") || strings.Contains(st.LastError, "other@") {
		t.Errorf("URL user information shown: %q", st.LastError)
	}
	svc.AttachJournal(stubJournal{pass: "s3cret"})
	st, err = svc.JournalStatus(ctx)
	if err != nil || !st.Enabled || st.Server != "mail.example:587" || st.Mailbox != "journal@archive.example" {
		t.Fatalf("journal on: %+v %v", st, err)
	}
	if strings.Contains(st.LastError, "s3cret") || strings.Contains(st.LastError, "archiver:") ||
		!strings.Contains(st.LastError, "smtp://[REDACTED]@mail.example:587") {
		t.Errorf("last error %q", st.LastError)
	}
}
