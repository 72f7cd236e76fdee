package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
	// 95018 state does not allow sending), or the Official Account follower left
	// (43004, the recipient must follow the account).
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

// Refusals that no retry can change: the request itself is wrong for WeChat. Each
// also matches ErrPermanent, so that a caller (the job runner, through the bridge
// adapter) can end the work at once instead of retrying for hours.
var (
	// ErrPermanent is matched by every refusal below.
	ErrPermanent = errors.New("wechat: refused, and a retry would be refused too")
	// ErrInvalidConsumer: WeChat does not know the consumer (Official Account 40003
	// invalid openid; WeCom 40096 invalid external_userid; 43019 the consumer
	// blocked the account).
	ErrInvalidConsumer = errors.New("wechat: unknown consumer")
	// ErrInvalidAccount: the kf account is not one of the corp's (95000 invalid
	// open_kfid, 95004 open_kfid does not exist).
	ErrInvalidAccount = errors.New("wechat: unknown kf account (open_kfid)")
	// ErrInvalidMedia: a media file or media_id WeChat will not take (40004 media
	// type, 40005 type or file type, 40006 file size, 40007 media_id, 40009..40012
	// image, voice, video and thumb sizes).
	ErrInvalidMedia = errors.New("wechat: media refused")
	// ErrInvalidRequest: a request WeChat cannot read (40008 msgtype, 40035 and 40058
	// parameter, 44002 empty body, 44004 empty content, 45002 content too long,
	// 47001 data format).
	ErrInvalidRequest = errors.New("wechat: request refused")
	// ErrContentRejected: WeChat's content check refused the message (87014).
	ErrContentRejected = errors.New("wechat: content rejected")
	// ErrNotAuthorized: the app may not call this API or not from this address
	// (48001, 48002, 48004 API not authorized or banned; 60020 WeCom and 40164
	// Official Account IP not in the allow list). An admin must act.
	ErrNotAuthorized = errors.New("wechat: the app is not authorized for this API")
	// ErrBadCredentials: the token endpoint refused the corp id, app id or secret
	// (40001, 40002, 40013, 40125 from gettoken or token). An operator must fix the
	// configuration.
	ErrBadCredentials = errors.New("wechat: corp id, app id or secret refused")
)

// APIError is a non-zero errcode from a WeChat API.
type APIError struct {
	Op   string // API path, e.g. "kf/send_msg"
	Code int
	Msg  string
	// http says Code is an HTTP status: the answer carried no errcode.
	http bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat: %s: errcode %d: %s", e.Op, e.Code, e.Msg)
}

// Is maps error codes to the sentinel errors.
func (e *APIError) Is(target error) bool {
	if target == nil {
		return false
	}
	c := classify(e.Op, e.Code)
	return c == target || target == ErrPermanent && permanent(c)
}

// tokenOps are the token endpoints: their errcodes speak of the credentials.
var tokenOps = map[string]bool{"gettoken": true, "token": true}

func classify(op string, code int) error {
	if tokenOps[op] {
		switch code {
		case 40001, 40002, 40013, 40125:
			return ErrBadCredentials
		}
	}
	switch code {
	case 95001, 45047:
		return ErrCountLimit
	case 95002, 45015:
		return ErrWindowClosed
	case 95013, 95018, 43004:
		return ErrSessionEnded
	case 40014, 42001, 40001:
		return ErrTokenInvalid
	case 45009, 45033:
		return ErrRateLimited
	case -1:
		return ErrTransient
	case 40003, 40096, 43019:
		return ErrInvalidConsumer
	case 95000, 95004:
		return ErrInvalidAccount
	case 40004, 40005, 40006, 40007, 40009, 40010, 40011, 40012:
		return ErrInvalidMedia
	case 40008, 40035, 40058, 44002, 44004, 45002, 47001:
		return ErrInvalidRequest
	case 87014:
		return ErrContentRejected
	case 48001, 48002, 48004, 60020, 40164:
		return ErrNotAuthorized
	case 40013, 40125:
		return ErrBadCredentials
	}
	return nil
}

func permanent(class error) bool {
	switch class {
	case ErrInvalidConsumer, ErrInvalidAccount, ErrInvalidMedia, ErrInvalidRequest,
		ErrContentRejected, ErrNotAuthorized, ErrBadCredentials:
		return true
	}
	return false
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

// secretParams are the query parameters that carry a secret. Their values never
// reach an error message: Go's *url.Error prints the whole request URL.
var secretParams = []string{"access_token", "secret", "corpsecret"}

// redacted is what a secret query value becomes in an error message.
const redacted = "REDACTED"

// redactURLError replaces the secret query values of the request URL that an
// HTTP client error carries, so that a dropped connection logs no access_token.
// The cause stays reachable with errors.Is / errors.As.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
}

// RedactURL returns rawURL with the values of access_token, secret and corpsecret
// replaced, for logs and error messages. A URL that does not parse is dropped
// whole rather than risk printing a secret.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable url)"
	}
	q := u.Query()
	changed := false
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, redacted)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
