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

// Transient reports a status Microsoft says to retry with backoff: 408, 412 and
// the service's own failures (5xx).
func (e *APIError) Transient() bool {
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusPreconditionFailed:
		return true
	}
	return e.StatusCode >= 500
}

// ClientError reports a refusal of the request itself (a 4xx other than 408,
// 412 and 429): sending it again unchanged gets the same answer. Callers that can
// change something first (re-create a conversation, post instead of update)
// check the more specific reports before this one.
func (e *APIError) ClientError() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && !e.Transient() && !e.Throttled()
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

// maxMessage bounds the error message kept from a response body, so that an
// unexpected page (a proxy's HTML) cannot flood a log line.
const maxMessage = 300

func clip(s string) string {
	if r := []rune(s); len(r) > maxMessage {
		return string(r[:maxMessage]) + "…"
	}
	return s
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

// maxRetryAfter bounds the wait a Retry-After header asks for. Teams asks for
// seconds; a header of years (or one that overflowed, read as negative) would
// park an employee's cards for good, and an hour's wait costs a throttled
// connector nothing.
const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date,
// at most maxRetryAfter.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(h, 64); err == nil && s >= 0 {
		// Compared in seconds: converting a huge float to a Duration overflows.
		return time.Duration(min(s, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
