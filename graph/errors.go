package graph

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Sentinel errors a caller acts on; every *Error matches exactly one of
// them (or none, for other failures) through errors.Is.
var (
	// ErrThrottled: Graph answered 429 (or 503) and the retries allowed by
	// Config were used up or Retry-After was too long to wait. Error.RetryAfter
	// says when to try again.
	ErrThrottled = errors.New("graph: throttled")
	// ErrForbidden: the app lacks a permission (Error.Permission names the
	// application permission an admin must grant and consent to), or the
	// tenant blocks the operation.
	ErrForbidden = errors.New("graph: forbidden")
	// ErrNotFound: the user, app or resource does not exist.
	ErrNotFound = errors.New("graph: not found")
	// ErrAuthentication: no token could be obtained or Graph rejected it
	// (wrong tenant, client id or secret, or an expired secret).
	ErrAuthentication = errors.New("graph: authentication failed")
)

// Error is a failed Graph call, with what an admin needs to fix it.
type Error struct {
	// Op is the operation, e.g. "send activity notification".
	Op string
	// Status is the HTTP status (0 when no response was received).
	Status int
	// Code and Message come from Graph's error body.
	Code    string
	Message string
	// RetryAfter is Graph's Retry-After for throttling responses.
	RetryAfter time.Duration
	// Permission is the application permission this operation needs; set
	// on 403 so the admin page can say what to grant.
	Permission string
	// Err is the underlying error, for errors.Is/As and logs.
	Err error
}

// Error returns a single line.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: %s: ", e.Op)
	switch {
	case e.Status == 0 && errors.Is(e.Err, ErrAuthentication):
		b.WriteString("cannot get an app-only token; check MicrosoftAppTenantId, MicrosoftAppId and MicrosoftAppPassword (client secret, not expired)")
	case e.Status == 0:
		b.WriteString("request failed")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Code != "" || e.Message != "" {
		fmt.Fprintf(&b, " (%s: %s)", e.Code, e.Message)
	}
	switch {
	case e.Status == 403 && e.Permission != "":
		fmt.Fprintf(&b, "; the Entra app needs the Microsoft Graph application permission %s with admin consent", e.Permission)
	case e.Status == 401:
		b.WriteString("; Graph rejected the token: check the app registration's tenant and admin consent")
	case e.RetryAfter > 0:
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Status == 0 && e.Err != nil && !errors.Is(e.Err, ErrAuthentication) {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is maps the HTTP status to the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrThrottled:
		return e.Status == 429 || (e.Status == 503 && e.RetryAfter > 0)
	case ErrForbidden:
		return e.Status == 403
	case ErrNotFound:
		return e.Status == 404
	case ErrAuthentication:
		return e.Status == 401
	}
	return false
}

// authError marks token acquisition failures so Error.Is/Unwrap can tell
// them apart from transport failures.
type authError struct{ err error }

func (a authError) Error() string        { return a.err.Error() }
func (a authError) Unwrap() []error      { return []error{ErrAuthentication, a.err} }
func (a authError) Is(target error) bool { return target == ErrAuthentication }

// classify turns an SDK error into *Error. permission is what op needs.
func classify(op, permission string, err error) *Error {
	e := &Error{Op: op, Err: err}
	var authFailed *azidentity.AuthenticationFailedError
	if errors.As(err, &authFailed) {
		e.Err = authError{err}
		return e
	}
	var apiErr abs.ApiErrorable
	if !errors.As(err, &apiErr) {
		return e
	}
	e.Status = apiErr.GetStatusCode()
	if h := apiErr.GetResponseHeaders(); h != nil {
		if v := h.Get("Retry-After"); len(v) > 0 {
			e.RetryAfter = parseRetryAfter(v[0], time.Now())
		}
	}
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		// ODataError.Error() dereferences the body without a nil check,
		// so read the fields through the getters only.
		if me := odata.GetErrorEscaped(); me != nil {
			if c := me.GetCode(); c != nil {
				e.Code = *c
			}
			if m := me.GetMessage(); m != nil {
				e.Message = *m
			}
		}
	}
	if e.Status == 403 {
		e.Permission = permission
	}
	return e
}

// parseRetryAfter reads delta-seconds or an HTTP date; unparsable or past
// values give 0 (the caller then backs off on its own).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}
