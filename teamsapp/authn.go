package teamsapp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/multiline/multiline/bridge"
)

// principal is who made a request: an Entra identity (or a dev session), and the
// employee it maps to when there is one.
type principal struct {
	Identity Identity
	Employee bridge.Employee
	Known    bool // Employee was found
	Dev      bool // signed in with the dev sign-in
}

const principalKey = "teamsapp.principal"

func principalOf(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}

// Messages shown to people who are signed in but may not use the tab.
const (
	msgNotEmployee = "Your account is not set up for WeChat in MultiLine. Please ask your administrator to enable WeChat for you."
	msgNotEnabled  = "WeChat is not enabled for your account. Please ask your administrator to enable it."
	msgNotAdmin    = "Only MultiLine administrators may change these settings."
)

// authenticate finds the principal: a bearer SSO token, or in Dev a dev session cookie.
func (a *App) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var p principal
		if tok, ok := bearer(c.Request()); ok {
			if a.auth == nil {
				return jsonError(c, http.StatusUnauthorized, "SSO sign-in is not configured on this server")
			}
			id, err := a.auth.Authenticate(ctx, tok)
			switch {
			case errors.Is(err, ErrKeysUnavailable):
				a.log.Error("tab sign-in: keys unavailable", "err", err)
				return jsonError(c, http.StatusServiceUnavailable, "sign-in is unavailable right now, try again in a minute")
			case err != nil:
				a.log.Info("tab sign-in refused", "err", err)
				return jsonError(c, http.StatusUnauthorized, "your sign-in token was not accepted; reload the tab")
			}
			p.Identity = id
			emp, err := a.b.EmployeeByAAD(ctx, id.TenantID, id.ObjectID)
			switch {
			case errors.Is(err, bridge.ErrUnknownEmployee):
			case err != nil:
				return a.fail(c, err)
			default:
				p.Employee, p.Known = emp, true
			}
		} else if a.cfg.Dev {
			emp, ok := a.devSession(c)
			if !ok {
				return jsonError(c, http.StatusUnauthorized, "not signed in: open /tab/dev-login")
			}
			p = principal{Employee: emp, Known: true, Dev: true,
				Identity: Identity{TenantID: emp.TenantID, ObjectID: emp.AADObjectID, Name: emp.Name}}
		} else {
			return jsonError(c, http.StatusUnauthorized, "sign-in required")
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// requireEmployee lets through only enabled employees.
func (a *App) requireEmployee(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		switch {
		case !p.Known:
			return jsonError(c, http.StatusForbidden, msgNotEmployee)
		case !p.Employee.Enabled:
			return jsonError(c, http.StatusForbidden, msgNotEnabled)
		}
		return next(c)
	}
}

// requireAdmin lets through the configured admins (by Entra object id), and
// everyone signed in with the dev sign-in. An admin need not be an employee.
func (a *App) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !a.isAdmin(principalOf(c)) {
			return jsonError(c, http.StatusForbidden, msgNotAdmin)
		}
		return next(c)
	}
}

func (a *App) isAdmin(p principal) bool {
	return p.Dev || (p.Identity.ObjectID != "" && a.admins[p.Identity.ObjectID])
}
