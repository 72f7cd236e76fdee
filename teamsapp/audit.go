package teamsapp

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
)

// AuditLog reads the audit log of policy decisions (storage.DB implements it),
// which the admin page lists. Optional: Config.Audit.
type AuditLog interface {
	AuditLog(ctx context.Context, q bridge.AuditQuery) ([]bridge.AuditEntry, error)
}

// auditJSON is one policy decision on the admin page.
type auditJSON struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Thread  bridge.ThreadID `json:"thread"`
	Event   string          `json:"event"`
	Detail  json.RawMessage `json:"detail"`
	Actions json.RawMessage `json:"actions"`
}

// auditPage bounds how many recent decisions the admin page gets at once.
const auditPage = 200

// adminAudit answers GET /admin/audit?thread=&limit=: the most recent policy
// decisions, newest first.
func (a *App) adminAudit(c echo.Context) error {
	if a.cfg.Audit == nil {
		return jsonError(c, http.StatusNotImplemented, "The audit log is not available on this server.")
	}
	limit := auditPage
	if v, err := strconv.Atoi(c.QueryParam("limit")); err == nil && v > 0 && v < auditPage {
		limit = v
	}
	entries, err := a.cfg.Audit.AuditLog(c.Request().Context(), bridge.AuditQuery{Thread: bridge.ThreadID(c.QueryParam("thread")), Limit: limit})
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]auditJSON, 0, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		out = append(out, auditJSON{ID: e.ID, At: e.At, Thread: e.Thread, Event: e.Event, Detail: e.Detail, Actions: e.Actions})
	}
	return c.JSON(http.StatusOK, out)
}
