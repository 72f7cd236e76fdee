package teamsapp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
)

// The dev sign-in exists only in local mode (Config.Dev), where there is no Entra
// tenant to issue SSO tokens: pick an employee, get a session cookie signed with a
// per-process key. Outside Dev every dev route answers 404, as if it did not exist.
const (
	devCookie     = "multiline_dev_session"
	devPurpose    = "dev-session"
	devLifetime   = 12 * time.Hour
	devFormFields = "employee"
	// devReviewerPurpose seals a session of a compliance reviewer who is not an
	// employee ("id:name"), to try the review page and what a reviewer may not
	// do; its cookie is devCookie too, so a sign-in replaces the other kind.
	devReviewerPurpose = "dev-reviewer"
)

var devLoginTmpl = template.Must(template.New("dev").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MultiLine dev sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/tab/dev.css"></head>
<body class="dev-login"><main>
<h1>MultiLine dev sign-in</h1>
<p>Local mode: choose whom to be. In Teams the tab signs you in with your Microsoft account.</p>
{{if not .}}<p class="empty">No employees yet: install the bot in the Agents Playground (make playground), or add a local employee below.</p>{{end}}
<ul class="people">{{range .}}<li><form method="post" action="/tab/dev-login">
<input type="hidden" name="employee" value="{{.ID}}">
<button type="submit" data-employee="{{.ID}}">{{.Name}}</button>{{if not .Enabled}} <span class="muted">(WeChat not enabled)</span>{{end}}
</form></li>{{end}}</ul>
<form method="post" action="/tab/dev-login" class="new-employee">
<label>New local employee <input name="new_name" required maxlength="64" placeholder="Name"></label>
<button type="submit">Add and sign in</button>
</form>
<form method="post" action="/tab/dev-login" class="reviewer">
<label>Compliance reviewer, not an employee <input name="reviewer_name" required maxlength="64" placeholder="Name"></label>
<button type="submit">Sign in as reviewer</button>
</form>
</main></body></html>`))

func (a *App) devLoginPage(c echo.Context) error {
	if !a.cfg.Dev {
		return echo.ErrNotFound
	}
	all, err := a.b.Employees(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	a.tabHeaders(c, "")
	c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return devLoginTmpl.Execute(c.Response(), all)
}

func (a *App) devLogin(c echo.Context) error {
	if !a.cfg.Dev {
		return echo.ErrNotFound
	}
	// Another site must not sign a visitor in as someone of its choosing.
	if !a.sameOrigin(c) {
		return jsonError(c, http.StatusForbidden, msgCrossOrigin)
	}
	if err := c.Request().ParseForm(); isTooLarge(err) {
		return tooLarge(c, maxJSONBody)
	} else if err != nil {
		return jsonError(c, http.StatusBadRequest, "send the sign-in form")
	}
	id := bridge.EmployeeID(c.FormValue(devFormFields))
	if name := strings.TrimSpace(c.FormValue("reviewer_name")); name != "" && id == "" && c.FormValue("new_name") == "" {
		if len(name) > 64 {
			return jsonError(c, http.StatusBadRequest, "the reviewer's name is longer than 64 characters")
		}
		a.setDevCookie(c, devReviewerPurpose, "local-reviewer-"+newLocalID()+":"+name)
		return c.Redirect(http.StatusSeeOther, "/tab/")
	}
	if name := strings.TrimSpace(c.FormValue("new_name")); name != "" && id == "" {
		// A local employee with no Teams account: enough to play both sides locally.
		e, err := a.b.AddEmployee(c.Request().Context(), "local", "local-"+newLocalID(), name)
		if err != nil {
			return a.fail(c, err)
		}
		id = e.ID
	}
	if _, err := a.b.Employee(c.Request().Context(), id); errors.Is(err, bridge.ErrUnknownEmployee) || id == "" {
		return jsonError(c, http.StatusBadRequest, "no such employee")
	} else if err != nil {
		return a.fail(c, err)
	}
	a.setDevCookie(c, devPurpose, string(id))
	return c.Redirect(http.StatusSeeOther, "/tab/")
}

// setDevCookie starts a dev session: value sealed for purpose.
func (a *App) setDevCookie(c echo.Context, purpose, value string) {
	c.SetCookie(&http.Cookie{Name: devCookie, Value: a.devSign.seal(purpose, value, a.wall().Add(devLifetime)),
		Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(devLifetime / time.Second)})
}

func (a *App) devLogout(c echo.Context) error {
	if !a.cfg.Dev {
		return echo.ErrNotFound
	}
	if !a.sameOrigin(c) {
		return jsonError(c, http.StatusForbidden, msgCrossOrigin)
	}
	c.SetCookie(&http.Cookie{Name: devCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/tab/dev-login")
}

// newLocalID names a local employee's made-up Entra object id.
func newLocalID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// devSession returns the employee of a valid dev session cookie.
func (a *App) devSession(c echo.Context) (bridge.Employee, bool) {
	ck, err := c.Cookie(devCookie)
	if err != nil {
		return bridge.Employee{}, false
	}
	id, err := a.devSign.open(devPurpose, ck.Value, a.wall())
	if err != nil {
		return bridge.Employee{}, false
	}
	e, err := a.b.Employee(c.Request().Context(), bridge.EmployeeID(id))
	if err != nil {
		return bridge.Employee{}, false
	}
	return e, true
}

// devReviewerSession returns the identity of a valid dev reviewer's session.
func (a *App) devReviewerSession(c echo.Context) (Identity, bool) {
	ck, err := c.Cookie(devCookie)
	if err != nil {
		return Identity{}, false
	}
	v, err := a.devSign.open(devReviewerPurpose, ck.Value, a.wall())
	if err != nil {
		return Identity{}, false
	}
	id, name, ok := strings.Cut(v, ":")
	return Identity{ObjectID: id, Name: name}, ok
}
