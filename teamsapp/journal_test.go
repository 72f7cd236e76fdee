package teamsapp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// journalStub reports a fixed journaling status (the fixture's: off, nothing
// pending).
type journalStub struct{ st bridge.JournalStatus }

func (j journalStub) JournalStatus(context.Context) (bridge.JournalStatus, error) { return j.st, nil }

// TestAdminJournalStatus: admins read journaling's status (last success,
// what waits and since when, failures, the last error cut to a readable
// length); others get 403; a server that cannot tell says so (501).
func TestAdminJournalStatus(t *testing.T) {
	var f *fixture
	delivered := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	st := bridge.JournalStatus{Enabled: true, Server: "mail.example:587", Mailbox: "journal@archive.example",
		JournalState: bridge.JournalState{LastDelivered: delivered, Pending: 3, Failing: 1, Dead: 2,
			LastError: "journal: send to mail.example:587: 451 " + strings.Repeat("x", 600)}}
	f = newFixtureWith(t, false, func(c *Config) { c.Journal = journalStub{st: st} })
	// The oldest waiting job was stamped by the wall clock (the fixture's), which ages it.
	st.OldestPending = f.clock.Now().Add(-90 * time.Second)
	f.app.journal = journalStub{st: st}
	var got journalJSON
	if code := f.call(t, "GET", "/api/v1/admin/archive/journal", "alice", nil, &got); code != 200 {
		t.Fatalf("status = %d", code)
	}
	if !got.Enabled || got.Server != "mail.example:587" || got.Mailbox != "journal@archive.example" || got.LastSuccess == nil ||
		!got.LastSuccess.Equal(delivered) || got.Pending != 3 || got.Failing != 1 || got.Dead != 2 ||
		got.OldestPendingSeconds != 90 {
		t.Errorf("status %+v", got)
	}
	if !strings.HasPrefix(got.LastError, "journal: send to mail.example:587: 451 x") || len(got.LastError) > maxJobError+len("…") {
		t.Errorf("last error %q", got.LastError)
	}
	var e apiError
	if code := f.call(t, "GET", "/api/v1/admin/archive/journal", "bob", nil, &e); code != 403 || e.Error != msgNotAdmin {
		t.Errorf("non-admin = %d %q", code, e.Error)
	}
	none := newFixtureWith(t, false, func(c *Config) { c.Journal = nil }) // and memBridge cannot tell
	if code := none.call(t, "GET", "/api/v1/admin/archive/journal", "alice", nil, &e); code != 501 {
		t.Errorf("without a monitor = %d %q", code, e.Error)
	}
	var never journalJSON
	f.app.journal = journalStub{}
	if code := f.call(t, "GET", "/api/v1/admin/archive/journal", "alice", nil, &never); code != 200 || never.Enabled || never.LastSuccess != nil || never.OldestPendingSeconds != 0 {
		t.Errorf("journaling off = %d %+v", code, never)
	}
}
