package teamsapp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
)

// JournalMonitor reports how SMTP journaling fares (*bridge.Service
// implements it), for the admin page's status card. Optional: Config.Journal,
// else Config.Bridge when it implements it.
type JournalMonitor interface {
	JournalStatus(ctx context.Context) (bridge.JournalStatus, error)
}

var _ JournalMonitor = (*bridge.Service)(nil)

// journalJSON is the journaling's status on the admin page.
type journalJSON struct {
	// Enabled says this server journals; Server (host:port) and Mailbox say
	// where to.
	Enabled bool   `json:"enabled"`
	Server  string `json:"server,omitempty"`
	Mailbox string `json:"mailbox,omitempty"`
	// LastSuccess is when the mailbox last accepted a conversation-day (null: never).
	LastSuccess *time.Time `json:"last_success"`
	// Pending conversation-days wait to be sent, the oldest for OldestPendingSeconds.
	Pending              int   `json:"pending"`
	OldestPendingSeconds int64 `json:"oldest_pending_seconds"`
	// Failing deliveries will be retried; Dead ones failed for good (Failed jobs).
	Failing int `json:"failing"`
	Dead    int `json:"dead"`
	// LastError is the latest failure, without credentials.
	LastError string `json:"last_error,omitempty"`
}

// adminJournal answers GET /admin/archive/journal.
func (a *App) adminJournal(c echo.Context) error {
	if a.journal == nil {
		return jsonError(c, http.StatusNotImplemented, "The journaling status is not available on this server.")
	}
	st, err := a.journal.JournalStatus(c.Request().Context())
	if errors.Is(err, bridge.ErrNoRetention) {
		return jsonError(c, http.StatusNotImplemented, "The journaling status is not available on this server.")
	}
	if err != nil {
		return a.fail(c, err)
	}
	out := journalJSON{Enabled: st.Enabled, Server: st.Server, Mailbox: st.Mailbox, Pending: st.Pending,
		Failing: st.Failing, Dead: st.Dead, LastError: st.LastError}
	if !st.LastDelivered.IsZero() {
		t := st.LastDelivered
		out.LastSuccess = &t
	}
	if !st.OldestPending.IsZero() {
		// Jobs are stamped by the wall clock, not by the service's (which local
		// mode's simulator moves on).
		out.OldestPendingSeconds = max(0, int64(a.wall().Sub(st.OldestPending)/time.Second))
	}
	if len(out.LastError) > maxJobError {
		out.LastError = strings.ToValidUTF8(out.LastError[:maxJobError], "") + "…"
	}
	return c.JSON(http.StatusOK, out)
}
