package connector

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes Teams puts in error bodies that the bot acts on.
const (
	CodeBotDisabledByAdmin        = "BotDisabledByAdmin"
	CodeConversationBlockedByUser = "ConversationBlockedByUser"
	CodeConversationNotFound      = "ConversationNotFound"
	CodeActivityNotFound          = "ActivityNotFoundInConversation"
	CodeBotNotInConversation      = "BotNotInConversationRoster"
)

// APIError is a refusal by the Bot Connector.
type APIError struct {
	Op         string // "send", "update", "delete", "create"
	StatusCode int
	Code       string        // Teams' error code, if the body had one
	Message    string        // Teams' error message, if any
	RetryAfter time.Duration // from the Retry-After header; zero if absent
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bot connector %s: status %d", e.Op, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Throttled reports a 429.
func (e *APIError) Throttled() bool { return e.StatusCode == http.StatusTooManyRequests }

// Transient reports a status Microsoft says to retry with backoff.
func (e *APIError) Transient() bool {
	switch e.StatusCode {
	case http.StatusPreconditionFailed, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Unreachable reports that the user cannot be messaged until they act: the bot was
// disabled by an admin or blocked by the user.
func (e *APIError) Unreachable() bool {
	return e.StatusCode == http.StatusForbidden &&
		(e.Code == CodeBotDisabledByAdmin || e.Code == CodeConversationBlockedByUser || e.Code == CodeBotNotInConversation)
}

// ConversationGone reports that the conversation no longer exists.
func (e *APIError) ConversationGone() bool {
	return e.StatusCode == http.StatusNotFound && e.Code == CodeConversationNotFound
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// ErrBadServiceURL: a conversation reference names a service URL the client will
// not call.
var ErrBadServiceURL = errors.New("bad service url")

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(h, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
