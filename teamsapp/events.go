package teamsapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/multiline/multiline/bridge"
)

// Live updates. EventSource cannot send the SSO token, so the tab first trades its
// token for a ticket (POST /api/v1/events/ticket, a signed employee id valid for a
// minute) and opens GET /api/v1/events?ticket=…. Each connection reads a
// fingerprint of what the employee sees from the bridge, and again whenever
// Config.Changes signals a change to one of the employee's threads (made on
// any replica), and every PollInterval as a fallback (without Changes, that
// poll is how changes are found).
const (
	ticketPurpose  = "events"
	ticketLifetime = time.Minute
	// streamLifetime ends a connection now and then so that a disabled employee
	// stops getting updates; the browser reconnects with a fresh ticket.
	streamLifetime = 30 * time.Minute
)

func (a *App) eventsTicket(c echo.Context) error {
	p := principalOf(c)
	t := a.sign.seal(ticketPurpose, string(p.Employee.ID), a.now().Add(ticketLifetime))
	return c.JSON(http.StatusOK, map[string]string{"ticket": t})
}

func (a *App) events(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := a.sign.open(ticketPurpose, c.QueryParam("ticket"), a.now())
	if err != nil {
		return jsonError(c, http.StatusUnauthorized, "the live-update ticket is missing or expired")
	}
	emp, err := a.b.Employee(ctx, bridge.EmployeeID(id))
	if err != nil {
		return jsonError(c, http.StatusForbidden, msgNotEmployee)
	}
	if !emp.Enabled {
		return disabled(c)
	}
	thread := bridge.ThreadID(c.QueryParam("thread"))

	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold the stream back
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	w.Flush()

	ctx, cancel := context.WithTimeout(ctx, streamLifetime)
	defer cancel()
	a.presence.open(ctx, emp.ID)
	defer a.presence.close(emp.ID)
	poll := time.NewTicker(a.cfg.PollInterval)
	defer poll.Stop()
	var changed <-chan struct{}
	if a.cfg.Changes != nil {
		var stop func()
		changed, stop = a.cfg.Changes.WatchEmployee(emp.ID)
		defer stop()
	}
	beat := time.NewTicker(a.cfg.Heartbeat)
	defer beat.Stop()

	var lastList, lastThread string
	first := true
	for {
		list, one, err := a.fingerprints(ctx, emp.ID, thread)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("tab events: poll", "employee", emp.ID, "err", err)
		}
		if err == nil {
			var out []string
			if !first && list != lastList {
				out = append(out, "event: threads\ndata: "+list+"\n\n")
			}
			if !first && thread != "" && one != lastThread {
				out = append(out, "event: thread\ndata: "+string(thread)+"\n\n")
			}
			if first {
				out = append(out, "event: ready\ndata: "+list+"\n\n")
			}
			first, lastList, lastThread = false, list, one
			for _, s := range out {
				if _, err := fmt.Fprint(w, s); err != nil {
					return nil
				}
			}
			if len(out) > 0 {
				w.Flush()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-changed:
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}

// fingerprints hash the employee's thread list and, when asked, one thread with
// its messages; any change the tab would show changes a hash.
func (a *App) fingerprints(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) (list, one string, err error) {
	ts, err := a.b.Threads(ctx, e)
	if err != nil {
		return "", "", err
	}
	if list, err = hashJSON(ts); err != nil || t == "" {
		return list, "", err
	}
	th, err := a.b.Thread(ctx, e, t)
	switch {
	case errors.Is(err, bridge.ErrUnknownThread) || errors.Is(err, bridge.ErrNotParticipant):
		return list, "gone", nil // left or removed: the list change tells the tab
	case err != nil:
		return "", "", err
	}
	one, err = hashJSON(th)
	return list, one, err
}

func hashJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12]), nil
}

// Watching reports whether the employee has the tab open (a live-update
// stream connected) on this replica or, with Config.Presence, on any other, so
// that a Teams notification would be redundant. It runs for every delivery of
// a consumer's message: this replica's streams answer from memory, and only
// when none of them is the employee's does it cost one lookup.
func (a *App) Watching(ctx context.Context, e bridge.EmployeeID) bool {
	return a.presence.watching(ctx, e)
}

// Close stops renewing this replica's presence leases and drops them, so that
// other replicas stop counting its tabs as open at once (a replica that dies
// instead leaves them to expire). The tab is not to serve streams afterwards.
func (a *App) Close(ctx context.Context) error {
	return a.presence.shutdown(ctx)
}
