package teamsapp

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/multiline/multiline/bridge"
)

// meJSON is the signed-in employee as the tab shows them.
type meJSON struct {
	ID               bridge.EmployeeID `json:"id"`
	Name             string            `json:"name"`
	Locale           string            `json:"locale,omitempty"`
	ContactLink      string            `json:"contact_link,omitempty"`
	ContactLinkError string            `json:"contact_link_error,omitempty"`
	// ContactQR is ContactLink as a QR code (a PNG data URL).
	ContactQR string `json:"contact_qr,omitempty"`
	Admin     bool   `json:"admin"`
	// ComplianceReviewer may open the compliance review page (review.html).
	ComplianceReviewer bool `json:"compliance_reviewer,omitempty"`
	Dev                bool `json:"dev"`
	// NotEmployee is a compliance reviewer who is not an employee: the tab
	// offers them the review page and nothing to send with.
	NotEmployee bool `json:"not_employee,omitempty"`
	// Disabled says an admin disabled WeChat for this employee: the tab says so
	// plainly and offers nothing else; DisabledMessage is that sentence.
	Disabled        bool   `json:"disabled,omitempty"`
	DisabledMessage string `json:"disabled_message,omitempty"`
	// Unreachable is set when Teams refuses the bot's messages to this employee
	// (bot blocked or disabled): their cards wait until they write to the bot.
	Unreachable string `json:"unreachable,omitempty"`
}

func (a *App) getMe(c echo.Context) error {
	p := principalOf(c)
	me := meJSON{ID: p.Employee.ID, Name: p.Employee.Name, Locale: p.Employee.Locale, Admin: p.Admin,
		ComplianceReviewer: p.Reviewer, Dev: p.Dev}
	if !p.Known { // a reviewer (requireKnownOrReviewer)
		me.Name, me.NotEmployee = p.Identity.Name, true
		return c.JSON(http.StatusOK, me)
	}
	if !p.Employee.Enabled {
		// No contact link either: asking for one would create it.
		me.Disabled, me.DisabledMessage = true, msgDisabled
		return c.JSON(http.StatusOK, me)
	}
	if p.Employee.Blocked {
		me.Unreachable = p.Employee.BlockedReason
		if me.Unreachable == "" {
			me.Unreachable = "blocked"
		}
	}
	link, err := a.b.ContactLinkFor(c.Request().Context(), p.Employee.ID)
	if err != nil {
		// The link comes from WeChat; the tab is still useful without it.
		a.log.Warn("tab: contact link", "employee", p.Employee.ID, "err", err)
		me.ContactLinkError = "Your WeChat contact link could not be created right now."
	}
	me.ContactLink = link
	if link != "" {
		me.ContactQR = qrDataURL(link)
	}
	return c.JSON(http.StatusOK, me)
}

// sentJSON is a message just accepted, with what the tab needs to say "Queued 2 of 5".
type sentJSON struct {
	bridge.MessageView
	QueueLimit int `json:"queue_limit"`
}

func (a *App) postMessage(c echo.Context) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := bindJSON(c, &in, `{"text": "…"}`); err != nil {
		return bodyDone(err)
	}
	return a.send(c, bridge.Content{Text: in.Text})
}

func (a *App) send(c echo.Context, body bridge.Content) error {
	ctx := c.Request().Context()
	p := principalOf(c)
	v, err := a.b.Send(ctx, p.Employee.ID, bridge.ThreadID(c.Param("id")), body)
	if err != nil {
		return a.fail(c, err)
	}
	a.signMedia(&v)
	out := sentJSON{MessageView: v}
	if co, err := a.b.CompanySettings(ctx); err == nil {
		out.QueueLimit = co.Policy.QueueLimit
	}
	return c.JSON(http.StatusCreated, out)
}

func (a *App) leave(c echo.Context) error {
	p := principalOf(c)
	if err := a.b.Leave(c.Request().Context(), p.Employee.ID, bridge.ThreadID(c.Param("id"))); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *App) addParticipant(c echo.Context) error {
	var in struct {
		Employee bridge.EmployeeID `json:"employee"`
	}
	const usage = `{"employee": "<id>"}`
	if err := bindJSON(c, &in, usage); err != nil {
		return bodyDone(err)
	}
	if in.Employee == "" {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: "+usage)
	}
	ctx := c.Request().Context()
	col, err := a.b.Employee(ctx, in.Employee)
	switch {
	case errors.Is(err, bridge.ErrUnknownEmployee):
		return jsonError(c, http.StatusNotFound, "No such colleague.")
	case err != nil:
		return a.fail(c, err)
	case !col.Enabled:
		return jsonError(c, http.StatusBadRequest, "WeChat is not enabled for "+col.Name+".")
	}
	p := principalOf(c)
	if err := a.b.AddParticipant(ctx, p.Employee.ID, bridge.ThreadID(c.Param("id")), in.Employee); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *App) removeParticipant(c echo.Context) error {
	p := principalOf(c)
	err := a.b.RemoveParticipant(c.Request().Context(), p.Employee.ID, bridge.ThreadID(c.Param("id")), bridge.EmployeeID(c.Param("employee")))
	if err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *App) optIn(c echo.Context) error {
	p := principalOf(c)
	id, err := a.b.RequestOptIn(c.Request().Context(), p.Employee.ID)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusCreated, map[string]bridge.ThreadID{"thread": id})
}

// colleagueJSON is an employee another may add to a thread.
type colleagueJSON struct {
	ID   bridge.EmployeeID `json:"id"`
	Name string            `json:"name"`
}

// maxColleagues bounds the picker's answer; people narrow it by typing.
const maxColleagues = 20

func (a *App) colleagues(c echo.Context) error {
	p := principalOf(c)
	all, err := a.b.Employees(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	q := strings.ToLower(strings.TrimSpace(c.QueryParam("q")))
	out := []colleagueJSON{}
	for _, e := range all {
		if e.ID == p.Employee.ID || !e.Enabled || !strings.Contains(strings.ToLower(e.Name), q) {
			continue
		}
		out = append(out, colleagueJSON{ID: e.ID, Name: e.Name})
	}
	slices.SortFunc(out, func(x, y colleagueJSON) int { return strings.Compare(x.Name, y.Name) })
	if len(out) > maxColleagues {
		out = out[:maxColleagues]
	}
	return c.JSON(http.StatusOK, out)
}

// configJSON tells the UI how to sign in before it has signed in.
type configJSON struct {
	Dev      bool         `json:"dev"`
	AppID    string       `json:"app_id,omitempty"`
	SSO      bool         `json:"sso"`
	Features featuresJSON `json:"features"`
}

func (a *App) getConfig(c echo.Context) error {
	return c.JSON(http.StatusOK, configJSON{Dev: a.cfg.Dev, AppID: a.cfg.AppID, SSO: a.auth != nil, Features: a.features()})
}
