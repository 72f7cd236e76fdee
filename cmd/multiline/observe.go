package main

// What an operator sees: the logger (text or JSON, with the attributes of the
// request or job a line belongs to), request ids, the state collector behind
// /metrics, the /metrics listener, and readiness.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/logctx"
	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/storage"
)

// newLogger writes format ("json" or "text") to w. Records logged with a
// context carry the context's attributes (request_id, job, thread, …).
func newLogger(format string, w io.Writer) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.New(logctx.NewHandler(h))
}

// requestIDRE is what an X-Request-Id from outside may look like to be kept;
// anything else is replaced by a fresh id.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestIDs gives every request an id: the caller's X-Request-Id when it is
// sane, else a new one. It is echoed in the response, carried by the request's
// context (logctx: request_id) and on the request's log line.
func requestIDs(log *slog.Logger) []echo.MiddlewareFunc {
	sanitize := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" && !requestIDRE.MatchString(id) {
				c.Request().Header.Del(echo.HeaderXRequestID)
			}
			return next(c)
		}
	}
	rid := middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(logctx.With(c.Request().Context(), "request_id", id)))
		},
	})
	access := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			began := time.Now()
			if err := next(c); err != nil {
				c.Error(err) // writes the answer, so its status is known below
			}
			level := slog.LevelInfo
			switch c.Path() {
			case "/healthz", "/readyz":
				level = slog.LevelDebug
			}
			// The route, not the URL: no ids of people, no query (tokens).
			log.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("method", c.Request().Method), slog.String("route", c.Path()),
				slog.Int("status", c.Response().Status), slog.Float64("ms", float64(time.Since(began).Microseconds())/1000))
			return nil
		}
	}
	return []echo.MiddlewareFunc{sanitize, rid, access}
}

// jobLogAttrs are the log attributes of job j: its id, kind and lane, and the
// thread and employee its payload names.
func jobLogAttrs(j bridge.Job) []any {
	attrs := []any{"job", j.ID, "kind", j.Kind, "lane", j.Lane}
	var p struct {
		Thread   string `json:"thread"`
		Employee string `json:"employee"`
	}
	if len(j.Payload) > 0 && json.Unmarshal(j.Payload, &p) == nil {
		if p.Thread != "" {
			attrs = append(attrs, "thread", p.Thread)
		}
		if p.Employee != "" {
			attrs = append(attrs, "employee", p.Employee)
		}
	}
	return attrs
}

// jobHandlers are the bridge's handlers, each noting that the runner claimed a
// job (for readiness) and giving the handler's context the job's log attributes.
func (a *application) jobHandlers() map[string]bridge.JobHandler {
	hs := a.svc.Handlers()
	out := make(map[string]bridge.JobHandler, len(hs))
	for kind, h := range hs {
		out[kind] = func(ctx context.Context, j bridge.Job) error {
			a.lastClaim.Store(a.now().UnixMicro())
			return h(logctx.With(ctx, jobLogAttrs(j)...), j)
		}
	}
	return out
}

// claimStall is how long jobs may wait to be claimed, while this process claims
// nothing, before /readyz says not ready.
const claimStall = time.Minute

// Ready reports why the service is not ready, or nil: the database does not
// answer, or a job has been claimable for over a minute while this process's
// runner claimed nothing for as long (it is stuck, or all its workers are).
func (a *application) Ready(ctx context.Context) error {
	if err := a.db.Ping(ctx); err != nil {
		return err
	}
	now := a.now()
	c, ok, err := a.db.OldestClaimable(ctx, now)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !ok {
		return nil
	}
	waited := now.Sub(c.DueSince)
	idle := now.Sub(time.UnixMicro(a.lastClaim.Load()))
	if waited > claimStall && idle > claimStall {
		return fmt.Errorf("jobs are due but none was claimed for %s: the oldest, %s job %d, has waited %s",
			idle.Round(time.Second), c.Kind, c.ID, waited.Round(time.Second))
	}
	return nil
}

// readyz answers /readyz: 200 {"status":"ready"}, or 503 with the reason.
func readyz(app *application) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		if err := app.Ready(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}

// stateSource is the database's state for the metrics (metrics.StateSource).
type stateSource struct {
	db  *storage.DB
	now func() time.Time
}

// direction maps a message's sender to the direction an operator counts.
func direction(from string) string {
	switch bridge.Party(from) {
	case bridge.FromConsumer:
		return "inbound"
	case bridge.FromEmployee, bridge.FromSystem:
		return "outbound"
	case bridge.ToEmployee:
		return "internal"
	}
	return "other"
}

// policyOutcomes are the outcomes always reported, at 0 when no message has one.
var policyOutcomes = []string{"sent", "sending", "queued", "not_queued", "failed", "blocked"}

func (s stateSource) Snapshot(ctx context.Context) (metrics.State, error) {
	now := s.now()
	msgs, err := s.db.MessageStats(ctx)
	if err != nil {
		return metrics.State{}, err
	}
	jobs, err := s.db.JobStats(ctx, now)
	if err != nil {
		return metrics.State{}, err
	}
	var st metrics.State
	for _, m := range msgs {
		st.Messages = append(st.Messages, metrics.MessageCount{Direction: direction(m.From), Kind: m.Kind, Status: m.Status, N: m.Count})
		if bridge.Party(m.From) == bridge.FromEmployee {
			// The status is the policy's outcome: sent (or sending), queued, not
			// queued, failed, and blocked once compliance rules land.
			st.Outcomes = append(st.Outcomes, metrics.OutcomeCount{Outcome: m.Status, Reason: m.Reason, N: m.Count})
		}
	}
	for _, j := range jobs {
		js := metrics.JobState{Kind: j.Kind, Due: j.Due, Scheduled: j.Scheduled, Running: j.Running, Dead: j.Dead}
		if !j.OldestCreated.IsZero() {
			js.OldestAge = now.Sub(j.OldestCreated)
		}
		if !j.OldestClaimable.IsZero() {
			js.OldestDueWait = now.Sub(j.OldestClaimable)
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st, nil
}

// stateCollector reports the database's state at scrape time. It also creates
// the job families' series of every kind, at 0.
func (a *application) stateCollector() prometheus.Collector {
	kinds := slices.Sorted(maps.Keys(a.svc.Handlers()))
	metrics.KnownJobKinds(kinds...)
	metrics.JournalKind(bridge.JobJournal)
	return metrics.NewStateCollector(stateSource{db: a.db, now: a.now}, metrics.StateOptions{
		Kinds:    kinds,
		Outcomes: policyOutcomes,
		OnError:  func(err error) { a.log.Warn("metrics: reading the stored state failed", "err", err) },
	})
}

// metricsServer serves /metrics (and nothing else) from metrics.Registry.
func metricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(metrics.Registry,
		promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 20 * time.Second})))
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// listenMetrics opens the /metrics listener. A busy default address (another
// replica on the host has it) is a warning; an address set explicitly that
// cannot be listened on stops start-up.
func listenMetrics(cfg Config, log *slog.Logger) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		log.Info("metrics off (MULTILINE_METRICS_ADDR=off)")
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err == nil {
		return ln, nil
	}
	if cfg.MetricsAddrSet {
		why := err.Error()
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			why = oe.Err.Error()
		}
		return nil, &ConfigError{Name: "MULTILINE_METRICS_ADDR", Problem: "cannot be listened on: " + why}
	}
	log.Warn("metrics not served: the default address is taken (set MULTILINE_METRICS_ADDR to another one, or off)",
		"addr", cfg.MetricsAddr, "err", err)
	return nil, nil
}
