package teamsapp

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
}

func toPolicyJSON(p bridge.Policy) policyJSON {
	return policyJSON{SendsPerWindow: p.SendsPerWindow, WindowHours: p.Window.Hours(), ReminderHours: p.ReminderAfter.Hours(),
		EmployeeLimit: p.EmployeeLimit, QueueLimit: p.QueueLimit, Reserve: p.Reserve, MaxParticipants: p.MaxParticipants}
}

func (p policyJSON) policy() bridge.Policy {
	return bridge.Policy{SendsPerWindow: p.SendsPerWindow, Window: hours(p.WindowHours), ReminderAfter: hours(p.ReminderHours),
		EmployeeLimit: p.EmployeeLimit, QueueLimit: p.QueueLimit, Reserve: p.Reserve, MaxParticipants: p.MaxParticipants}
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// noticeJSON describes one automatic message for the admin page.
type noticeJSON struct {
	Kind        bridge.NoticeKind          `json:"kind"`
	ForConsumer bool                       `json:"for_consumer"`
	Defaults    map[bridge.Language]string `json:"defaults"`
}

// settingsJSON is what GET /admin/policy returns; PUT takes Policy and Overrides.
type settingsJSON struct {
	Policy    policyJSON        `json:"policy"`
	Overrides bridge.Overrides  `json:"overrides"`
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
	out := settingsJSON{Policy: toPolicyJSON(co.Policy), Overrides: co.Overrides, Defaults: &def, Languages: languages}
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
	if err := c.Bind(&in); err != nil {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: {\"policy\": {…}, \"overrides\": {…}}")
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
	if err := a.b.SetPolicy(c.Request().Context(), p, in.Overrides); err != nil {
		return a.fail(c, err)
	}
	a.log.Info("tab admin: policy changed", "by", principalOf(c).Identity.ObjectID)
	return a.getPolicy(c)
}

// employeeJSON is an employee on the admin page.
type employeeJSON struct {
	ID          bridge.EmployeeID `json:"id"`
	Name        string            `json:"name"`
	Enabled     bool              `json:"enabled"`
	AADObjectID string            `json:"aad_object_id,omitempty"`
	Installed   bool              `json:"installed"` // the bot can reach them
	Blocked     bool              `json:"blocked"`
	Reason      string            `json:"blocked_reason,omitempty"`
}

func toEmployeeJSON(e bridge.Employee) employeeJSON {
	return employeeJSON{ID: e.ID, Name: e.Name, Enabled: e.Enabled, AADObjectID: e.AADObjectID,
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
	if err := c.Bind(&in); err != nil || in.Enabled == nil {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: {\"enabled\": true|false}")
	}
	ctx := c.Request().Context()
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
	}
	if err := c.Bind(&in); err != nil || strings.TrimSpace(in.AADObjectID) == "" || strings.TrimSpace(in.Name) == "" {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: {\"aad_object_id\": \"…\", \"name\": \"…\"}")
	}
	e, err := a.b.AddEmployee(c.Request().Context(), a.cfg.TenantID, in.AADObjectID, in.Name)
	if err != nil {
		return a.fail(c, err)
	}
	a.log.Info("tab admin: employee added", "employee", e.ID, "by", principalOf(c).Identity.ObjectID)
	return c.JSON(http.StatusCreated, toEmployeeJSON(e))
}
