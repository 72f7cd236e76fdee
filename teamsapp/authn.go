package teamsapp

import (
	"context"
	"errors"
	"net/http"
	"slices"
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
	// Admin may use the admin API: named in Config.Admins, holding RoleAdmin, or
	// signed in with the dev sign-in.
	Admin bool
	// Reviewer may review archived conversations: named in
	// Config.ComplianceReviewers or holding RoleComplianceReview (review.go).
	Reviewer bool
	// devReviewer is a dev session of a reviewer who is not an employee
	// (devlogin.go): a reviewer only, not an admin.
	devReviewer bool
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
	msgDisabled    = "WeChat is disabled for you. Ask your admin to enable it."
	msgNotAdmin    = "Only MultiLine administrators may change these settings."
)

// codeDisabled marks the answers to a disabled employee, so the tab can say it in
// the employee's language and stop trying.
const codeDisabled = "employee_disabled"

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
			a.noteRole(ctx, id)
			emp, err := a.b.EmployeeByAAD(ctx, id.TenantID, id.ObjectID)
			switch {
			case errors.Is(err, bridge.ErrUnknownEmployee):
			case err != nil:
				return a.fail(c, err)
			default:
				p.Employee, p.Known = emp, true
				a.learnUPN(ctx, &p.Employee, id.UPN)
			}
		} else if a.cfg.Dev {
			emp, ok := a.devSession(c)
			rev, isReviewer := Identity{}, false
			if !ok {
				rev, isReviewer = a.devReviewerSession(c)
			}
			if !ok && !isReviewer {
				return jsonError(c, http.StatusUnauthorized, "not signed in: open /tab/dev-login")
			}
			// The cookie goes with every request the browser makes, whoever's page
			// asks: a state change must come from the tab's own origin.
			if unsafeMethod(c.Request().Method) && !a.sameOrigin(c) {
				return jsonError(c, http.StatusForbidden, msgCrossOrigin)
			}
			if ok {
				p = principal{Employee: emp, Known: true, Dev: true,
					Identity: Identity{TenantID: emp.TenantID, ObjectID: emp.AADObjectID, Name: emp.Name}}
			} else {
				p = principal{Dev: true, devReviewer: true, Identity: rev}
			}
		} else {
			return jsonError(c, http.StatusUnauthorized, "sign-in required")
		}
		p.Admin = (p.Dev && !p.devReviewer) || a.named(a.admins, p.Identity) || slices.Contains(p.Identity.Roles, RoleAdmin)
		p.Reviewer = p.Dev || a.named(a.reviewers, p.Identity) || slices.Contains(p.Identity.Roles, RoleComplianceReview)
		c.Set(principalKey, p)
		return next(c)
	}
}

// learnUPN keeps the employee's user principal name as their token names it
// (a renamed account included). The request goes on if it cannot be stored:
// the archive falls back to the address it had, and the next sign-in tries again.
func (a *App) learnUPN(ctx context.Context, e *bridge.Employee, upn string) {
	if upn == "" || upn == e.UPN {
		return
	}
	if err := a.b.LearnUPN(ctx, e.ID, upn); err != nil {
		a.log.Warn("tab sign-in: the token's user principal name was not stored", "employee", e.ID, "err", err)
		return
	}
	e.UPN = upn
}

// named reports whether the identity's Entra object id is in ids (a configured list).
func (a *App) named(ids map[string]bool, id Identity) bool {
	return id.ObjectID != "" && ids[strings.ToLower(id.ObjectID)]
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// requireKnownOrReviewer lets through employees and the compliance reviewers
// who are not employees (GET /me tells the tab which page is theirs).
func (a *App) requireKnownOrReviewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := principalOf(c); !p.Known && !p.Reviewer {
			return jsonError(c, http.StatusForbidden, msgNotEmployee)
		}
		return next(c)
	}
}

// requireEmployee lets through only enabled employees.
func (a *App) requireEmployee(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		switch {
		case !p.Known:
			return jsonError(c, http.StatusForbidden, msgNotEmployee)
		case !p.Employee.Enabled:
			return disabled(c)
		}
		return next(c)
	}
}

// disabled answers a disabled employee: 403, plainly.
func disabled(c echo.Context) error {
	return c.JSON(http.StatusForbidden, apiError{Error: msgDisabled, Code: codeDisabled})
}

// requireAdmin lets through the admins (see principal.Admin). An admin need not
// be an employee.
func (a *App) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !principalOf(c).Admin {
			return jsonError(c, http.StatusForbidden, msgNotAdmin)
		}
		return next(c)
	}
}
