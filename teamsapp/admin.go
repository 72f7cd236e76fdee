package teamsapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// policyJSON is bridge.Policy with durations in hours, as admins think of them.
type policyJSON struct {
	SendsPerWindow  int     `json:"sends_per_window"`
	WindowHours     float64 `json:"window_hours"`
	ReminderHours   float64 `json:"reminder_after_hours"`
	EmployeeLimit   int     `json:"employee_limit"`
	QueueLimit      int     `json:"queue_limit"`
	Reserve         int     `json:"reserve"`
	MaxParticipants int     `json:"max_participants"`
	// ConsumerLanguage is auto, en or zh-CN (bridge.Policy.ConsumerLanguage).
	ConsumerLanguage string `json:"consumer_language"`
	// RetentionDays is how long records are kept (0: for ever).
	RetentionDays int `json:"retention_days"`
}

func toPolicyJSON(p bridge.Policy) policyJSON {
	lang := p.ConsumerLanguage
	if lang == "" {
		lang = bridge.ConsumerLanguageAuto
	}
	return policyJSON{SendsPerWindow: p.SendsPerWindow, WindowHours: p.Window.Hours(), ReminderHours: p.ReminderAfter.Hours(),
		EmployeeLimit: p.EmployeeLimit, QueueLimit: p.QueueLimit, Reserve: p.Reserve, MaxParticipants: p.MaxParticipants,
		ConsumerLanguage: lang, RetentionDays: p.RetentionDays}
}

func (p policyJSON) policy() bridge.Policy {
	lang := p.ConsumerLanguage
	if lang == "" {
		lang = bridge.ConsumerLanguageAuto // an older page that does not send it
	}
	return bridge.Policy{SendsPerWindow: p.SendsPerWindow, Window: hours(p.WindowHours), ReminderAfter: hours(p.ReminderHours),
		EmployeeLimit: p.EmployeeLimit, QueueLimit: p.QueueLimit, Reserve: p.Reserve, MaxParticipants: p.MaxParticipants,
		ConsumerLanguage: lang, RetentionDays: p.RetentionDays}
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// noticeJSON describes one automatic message for the admin page.
type noticeJSON struct {
	Kind        bridge.NoticeKind          `json:"kind"`
	ForConsumer bool                       `json:"for_consumer"`
	Defaults    map[bridge.Language]string `json:"defaults"`
}

// settingsJSON is what GET /admin/policy returns; PUT takes Policy, Overrides
// and, when set, Language.
type settingsJSON struct {
	Policy    policyJSON       `json:"policy"`
	Overrides bridge.Overrides `json:"overrides"`
	// Language is the company's default language (en or zh-CN): consumers' notices
	// use it when the policy says auto and WeChat does not report theirs.
	Language  bridge.Language   `json:"language,omitempty"`
	Defaults  *policyJSON       `json:"defaults,omitempty"`
	Notices   []noticeJSON      `json:"notices,omitempty"`
	Languages []bridge.Language `json:"languages,omitempty"`
}

var languages = []bridge.Language{bridge.English, bridge.SimplifiedChinese}

func (a *App) getPolicy(c echo.Context) error {
	co, err := a.b.CompanySettings(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	def := toPolicyJSON(bridge.DefaultPolicy())
	lang := co.Language
	if lang == "" {
		lang = bridge.English
	}
	out := settingsJSON{Policy: toPolicyJSON(co.Policy), Overrides: co.Overrides, Language: lang, Defaults: &def, Languages: languages}
	if out.Overrides == nil {
		out.Overrides = bridge.Overrides{}
	}
	for _, k := range bridge.NoticeKinds() {
		n := noticeJSON{Kind: k, ForConsumer: k.ForConsumer(), Defaults: map[bridge.Language]string{}}
		for _, l := range languages {
			// Rendering with the placeholders as the values shows the template itself.
			n.Defaults[l] = bridge.Render(nil, k, l, bridge.NoticeParams{Reason: "{reason}"}, bridge.Names{Employee: "{employee}"})
		}
		out.Notices = append(out.Notices, n)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *App) putPolicy(c echo.Context) error {
	var in settingsJSON
	if err := bindJSON(c, &in, `{"policy": {…}, "overrides": {…}, "language": "en"}`); err != nil {
		return bodyDone(err)
	}
	if in.Language != "" && !slices.Contains(languages, in.Language) {
		return jsonError(c, http.StatusBadRequest, fmt.Sprintf("language must be en or zh-CN, got %q", in.Language))
	}
	p := in.Policy.policy()
	// Validate here too: Overrides.Validate has reasons without a sentinel, and
	// every one of them is the admin's to fix.
	if err := p.Validate(); err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	if err := in.Overrides.Validate(); err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	ctx := adminContext(c)
	if err := a.b.SetPolicy(ctx, p, in.Overrides); err != nil {
		return a.fail(c, err)
	}
	if in.Language != "" {
		if err := a.b.SetLanguage(ctx, in.Language); err != nil {
			return a.fail(c, err)
		}
	}
	a.log.Info("tab admin: policy changed", "by", principalOf(c).Identity.ObjectID,
		"consumer_language", p.ConsumerLanguage, "language", in.Language)
	return a.getPolicy(c)
}

// employeeJSON is an employee on the admin page.
type employeeJSON struct {
	ID          bridge.EmployeeID `json:"id"`
	Name        string            `json:"name"`
	Enabled     bool              `json:"enabled"`
	AADObjectID string            `json:"aad_object_id,omitempty"`
	UPN         string            `json:"upn,omitempty"`
	Installed   bool              `json:"installed"` // the bot can reach them
	Blocked     bool              `json:"blocked"`
	Reason      string            `json:"blocked_reason,omitempty"`
}

func toEmployeeJSON(e bridge.Employee) employeeJSON {
	return employeeJSON{ID: e.ID, Name: e.Name, Enabled: e.Enabled, AADObjectID: e.AADObjectID, UPN: e.UPN,
		Installed: e.Conversation.ConversationID != "", Blocked: e.Blocked, Reason: e.BlockedReason}
}

func (a *App) adminEmployees(c echo.Context) error {
	all, err := a.b.Employees(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]employeeJSON, 0, len(all))
	for _, e := range all {
		out = append(out, toEmployeeJSON(e))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *App) adminSetEmployee(c echo.Context) error {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	const usage = `{"enabled": true|false}`
	if err := bindJSON(c, &in, usage); err != nil {
		return bodyDone(err)
	}
	if in.Enabled == nil {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: "+usage)
	}
	ctx := adminContext(c)
	id := bridge.EmployeeID(c.Param("id"))
	if _, err := a.b.Employee(ctx, id); errors.Is(err, bridge.ErrUnknownEmployee) {
		return jsonError(c, http.StatusNotFound, "No such employee.")
	} else if err != nil {
		return a.fail(c, err)
	}
	if err := a.b.SetEmployeeEnabled(ctx, id, *in.Enabled); err != nil {
		return a.fail(c, err)
	}
	e, err := a.b.Employee(ctx, id)
	if err != nil {
		return a.fail(c, err)
	}
	a.log.Info("tab admin: employee changed", "employee", id, "enabled", *in.Enabled, "by", principalOf(c).Identity.ObjectID)
	return c.JSON(http.StatusOK, toEmployeeJSON(e))
}

// directoryLimit bounds a directory search; admins narrow it by typing.
const directoryLimit = 15

// adminDirectory searches the organization's directory for people to add.
func (a *App) adminDirectory(c echo.Context) error {
	if a.cfg.Directory == nil {
		return jsonError(c, http.StatusNotImplemented, "Directory search needs Microsoft Graph (the bot's client secret and the User.Read.All permission).")
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) < 2 {
		return jsonError(c, http.StatusBadRequest, "Type at least two characters.")
	}
	users, err := a.cfg.Directory.FindUsers(c.Request().Context(), q, directoryLimit)
	if err != nil {
		// Graph's errors say what to grant (e.g. User.Read.All); admins may read them.
		a.log.Warn("tab admin: directory search", "err", err)
		return jsonError(c, http.StatusBadGateway, err.Error())
	}
	if users == nil {
		users = []DirectoryUser{}
	}
	return c.JSON(http.StatusOK, users)
}

// adminAddEmployee adds and enables a person from the directory; the bridge then
// installs the app for them so the bot can reach them.
func (a *App) adminAddEmployee(c echo.Context) error {
	var in struct {
		AADObjectID string `json:"aad_object_id"`
		Name        string `json:"name"`
		// UPN is the directory's userPrincipalName, which the archive
		// addresses the employee by until their own sign-in says otherwise.
		UPN string `json:"upn"`
	}
	const usage = `{"aad_object_id": "…", "name": "…", "upn": "…"}`
	if err := bindJSON(c, &in, usage); err != nil {
		return bodyDone(err)
	}
	if strings.TrimSpace(in.AADObjectID) == "" || strings.TrimSpace(in.Name) == "" {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: "+usage)
	}
	if in.UPN != "" {
		if err := bridge.CheckUPN(in.UPN); err != nil {
			return jsonError(c, http.StatusBadRequest, "upn: "+err.Error())
		}
	}
	ctx := adminContext(c)
	e, err := a.b.AddEmployee(ctx, a.cfg.TenantID, in.AADObjectID, in.Name)
	if err != nil {
		return a.fail(c, err)
	}
	if in.UPN != "" && in.UPN != e.UPN {
		if err := a.b.LearnUPN(ctx, e.ID, in.UPN); err != nil {
			return a.fail(c, err)
		}
		e.UPN = in.UPN
	}
	a.log.Info("tab admin: employee added", "employee", e.ID, "by", principalOf(c).Identity.ObjectID)
	return c.JSON(http.StatusCreated, toEmployeeJSON(e))
}

// jobJSON is a durable job on the admin page.
type jobJSON struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Lane     string    `json:"lane"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	// AgeSeconds is how long ago the job was enqueued, by the server's clock.
	AgeSeconds int64  `json:"age_seconds"`
	LastError  string `json:"last_error,omitempty"`
	Dead       bool   `json:"dead"`
}

// maxJobError bounds the error text shown for one job; the log has the rest.
const maxJobError = 500

func (a *App) toJobJSON(j bridge.Job) jobJSON {
	e := j.LastError
	if len(e) > maxJobError {
		e = strings.ToValidUTF8(e[:maxJobError], "") + "…"
	}
	age := int64(0)
	if !j.Created.IsZero() {
		age = max(0, int64(a.now().Sub(j.Created)/time.Second))
	}
	return jobJSON{ID: j.ID, Kind: j.Kind, Lane: j.Lane, Attempts: j.Attempts, Created: j.Created, AgeSeconds: age,
		LastError: e, Dead: j.Dead}
}

const msgNoJobs = "This server cannot list its jobs here; use `multiline admin jobs` on the server."

// adminJobs lists the dead jobs (or, with ?dead=false, all jobs).
func (a *App) adminJobs(c echo.Context) error {
	if a.cfg.Jobs == nil {
		return jsonError(c, http.StatusNotImplemented, msgNoJobs)
	}
	dead := c.QueryParam("dead") != "false"
	jobs, err := a.cfg.Jobs.Jobs(c.Request().Context(), dead)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]jobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, a.toJobJSON(j))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *App) adminRetryJob(c echo.Context) error {
	return a.actOnJob(c, "retried", func(jobs JobAdmin, id int64) error { return jobs.RetryJob(c.Request().Context(), id) })
}

func (a *App) adminDiscardJob(c echo.Context) error {
	return a.actOnJob(c, "discarded", func(jobs JobAdmin, id int64) error { return jobs.DiscardJob(c.Request().Context(), id) })
}

// actOnJob runs an admin's action on the job named in the path, and says so in the log.
func (a *App) actOnJob(c echo.Context, done string, act func(JobAdmin, int64) error) error {
	if a.cfg.Jobs == nil {
		return jsonError(c, http.StatusNotImplemented, msgNoJobs)
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return jsonError(c, http.StatusBadRequest, "a job id is a positive number")
	}
	if err := act(a.cfg.Jobs, id); err != nil {
		switch {
		case errors.Is(err, bridge.ErrNotFound):
			return jsonError(c, http.StatusNotFound, "No such job.")
		case errors.Is(err, ErrJobNotDead):
			return jsonError(c, http.StatusConflict, "This job has not failed for good: it is waiting or running, and it will be tried again.")
		}
		return a.fail(c, err)
	}
	a.log.Info("tab admin: job "+done, "job", id, "by", principalOf(c).Identity.ObjectID)
	return c.NoContent(http.StatusNoContent)
}

// adminContext is the request's context naming the signed-in admin, so the
// compliance archive records who made the change.
func adminContext(c echo.Context) context.Context {
	id := principalOf(c).Identity
	return bridge.WithAdmin(c.Request().Context(), archive.Party{Role: archive.RoleAdmin, ID: id.ObjectID, Name: id.Name, Address: id.UPN})
}
