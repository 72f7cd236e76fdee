package teamsapp

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/multiline/multiline/bridge"
)

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	// Code names a condition the UI acts on (codeDisabled); usually empty.
	Code string `json:"code,omitempty"`
}

func jsonError(c echo.Context, status int, msg string) error {
	return c.JSON(status, apiError{Error: msg})
}

// errorStatus maps the bridge's errors to what the client can do about them.
var errorStatus = []struct {
	err    error
	status int
	msg    string // shown to the employee; empty: the error's own text
	code   string
}{
	{bridge.ErrEmployeeDisabled, http.StatusForbidden, msgDisabled, codeDisabled},
	{bridge.ErrUnsupportedContent, http.StatusUnprocessableEntity, "", ""},
	{bridge.ErrUnknownThread, http.StatusNotFound, "This conversation does not exist or you are not in it.", ""},
	{bridge.ErrNoThread, http.StatusNotFound, "This conversation does not exist.", ""},
	{bridge.ErrUnknownMessage, http.StatusNotFound, "No such message.", ""},
	{bridge.ErrNotParticipant, http.StatusForbidden, "You are not a participant of this conversation.", ""},
	{bridge.ErrUnknownEmployee, http.StatusForbidden, msgNotEnabled, ""},
	{bridge.ErrTooManyParticipants, http.StatusConflict, "This conversation already has the maximum number of participants.", ""},
	{bridge.ErrAlreadyParticipant, http.StatusConflict, "This colleague is already in the conversation.", ""},
	{bridge.ErrThreadExists, http.StatusConflict, "This conversation already exists.", ""},
	{bridge.ErrEmptyMessage, http.StatusBadRequest, "The message is empty.", ""},
	{bridge.ErrMessageTooLong, http.StatusBadRequest, "The message is longer than WeChat allows (2048 bytes).", ""},
	{bridge.ErrInvalidPolicy, http.StatusBadRequest, "", ""},
	{bridge.ErrUnknownNotice, http.StatusBadRequest, "", ""},
	{bridge.ErrMissingPlaceholder, http.StatusBadRequest, "", ""},
	{bridge.ErrNotFound, http.StatusNotFound, "Not found.", ""},
}

// fail answers with the status that fits err; unexpected errors are logged and
// answered 500 without details.
func (a *App) fail(c echo.Context, err error) error {
	for _, m := range errorStatus {
		if errors.Is(err, m.err) {
			msg := m.msg
			if msg == "" {
				msg = err.Error()
			}
			return c.JSON(m.status, apiError{Error: msg, Code: m.code})
		}
	}
	if isTooLarge(err) {
		return jsonError(c, http.StatusRequestEntityTooLarge, "The request is too large.")
	}
	if errors.Is(err, context.Canceled) {
		return jsonError(c, 499, "request canceled")
	}
	a.log.Error("tab api", "method", c.Request().Method, "path", c.Path(), "err", err)
	return jsonError(c, http.StatusInternalServerError, "Something went wrong on the server. Try again.")
}
