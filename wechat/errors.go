package wechat

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors for the outcomes the bridge's policy acts on. Match with errors.Is;
// the concrete error is an *APIError (WeChat said no) or a *TransportError.
var (
	// ErrCountLimit: the 5 messages allowed since the consumer's last message are used
	// (kf 95001, Official Account 45047).
	ErrCountLimit = errors.New("wechat: send count limit reached")
	// ErrWindowClosed: 48 h have passed since the consumer's last message
	// (kf 95002, Official Account 45015).
	ErrWindowClosed = errors.New("wechat: send window closed")
	// ErrSessionEnded: the kf session does not allow the API to send (95013 ended,
	// 95018 state does not allow sending).
	ErrSessionEnded = errors.New("wechat: session does not allow sending")
	// ErrTokenInvalid: the access token is invalid or expired (40014, 42001, 40001).
	// Clients already retry once with a fresh token; seeing it means the retry failed too.
	ErrTokenInvalid = errors.New("wechat: access token invalid")
	// ErrRateLimited: API frequency limit (45009, 45033); back off before retrying.
	ErrRateLimited = errors.New("wechat: rate limited")
	// ErrTransient: system busy (-1), network error, HTTP 5xx or timeout. Retry with the
	// same msgid: the first attempt may have been delivered.
	ErrTransient = errors.New("wechat: transient failure")
	// ErrInvalidMsgID: our msgid is not 1..32 bytes of [0-9a-zA-Z_-].
	ErrInvalidMsgID = errors.New("wechat: invalid msgid")
	// ErrTextTooLong: text over 2048 bytes.
	ErrTextTooLong = errors.New("wechat: text too long")
	// ErrInvalidScene: scene not 1..32 bytes of [0-9a-zA-Z_-].
	ErrInvalidScene = errors.New("wechat: invalid scene")
)

// APIError is a non-zero errcode from a WeChat API.
type APIError struct {
	Op   string // API path, e.g. "kf/send_msg"
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat: %s: errcode %d: %s", e.Op, e.Code, e.Msg)
}

// Is maps error codes to the sentinel errors.
func (e *APIError) Is(target error) bool {
	return target != nil && classify(e.Code) == target
}

func classify(code int) error {
	switch code {
	case 95001, 45047:
		return ErrCountLimit
	case 95002, 45015:
		return ErrWindowClosed
	case 95013, 95018:
		return ErrSessionEnded
	case 40014, 42001, 40001:
		return ErrTokenInvalid
	case 45009, 45033:
		return ErrRateLimited
	case -1:
		return ErrTransient
	}
	return nil
}

// TransportError is a failure to get an answer at all (network, timeout, HTTP 5xx,
// unreadable body). It matches ErrTransient.
type TransportError struct {
	Op     string
	Status int // HTTP status, 0 if none was received
	Err    error
}

func (e *TransportError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("wechat: %s: http %d: %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("wechat: %s: %v", e.Op, e.Err)
}

// Unwrap exposes the cause (e.g. context.DeadlineExceeded).
func (e *TransportError) Unwrap() error { return e.Err }

// Is makes every transport failure match ErrTransient, except a caller's own
// cancellation, which is not worth retrying.
func (e *TransportError) Is(target error) bool {
	return target == ErrTransient && !errors.Is(e.Err, context.Canceled)
}
