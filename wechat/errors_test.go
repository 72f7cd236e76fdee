package wechat_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/multiline/multiline/wechat"
)

// Each errcode means what WeCom's and the Official Account's global errcode
// tables say; what no retry can change also matches ErrPermanent.
func TestAPIErrorClassification(t *testing.T) {
	tests := []struct {
		op        string
		code      int
		want      error
		permanent bool
	}{
		{"kf/send_msg", 95001, wechat.ErrCountLimit, false},
		{"message/custom/send", 45047, wechat.ErrCountLimit, false},
		{"kf/send_msg", 95002, wechat.ErrWindowClosed, false},
		{"message/custom/send", 45015, wechat.ErrWindowClosed, false},
		{"kf/send_msg", 95013, wechat.ErrSessionEnded, false},
		{"kf/send_msg", 95018, wechat.ErrSessionEnded, false},
		{"message/custom/send", 43004, wechat.ErrSessionEnded, false},
		{"kf/send_msg", 42001, wechat.ErrTokenInvalid, false},
		{"kf/send_msg", 40014, wechat.ErrTokenInvalid, false},
		{"message/custom/send", 40001, wechat.ErrTokenInvalid, false},
		{"kf/send_msg", 45009, wechat.ErrRateLimited, false},
		{"kf/send_msg", -1, wechat.ErrTransient, false},
		{"message/custom/send", 40003, wechat.ErrInvalidConsumer, true},
		{"kf/send_msg", 40096, wechat.ErrInvalidConsumer, true},
		{"kf/send_msg", 95000, wechat.ErrInvalidAccount, true},
		{"kf/sync_msg", 95004, wechat.ErrInvalidAccount, true},
		{"media/upload", 40004, wechat.ErrInvalidMedia, true},
		{"media/upload", 40009, wechat.ErrInvalidMedia, true},
		{"kf/send_msg", 40007, wechat.ErrInvalidMedia, true},
		{"kf/send_msg", 40008, wechat.ErrInvalidRequest, true},
		{"kf/send_msg", 40058, wechat.ErrInvalidRequest, true},
		{"message/custom/send", 87014, wechat.ErrContentRejected, true},
		{"kf/send_msg", 48002, wechat.ErrNotAuthorized, true},
		{"kf/send_msg", 60020, wechat.ErrNotAuthorized, true},
		{"gettoken", 40001, wechat.ErrBadCredentials, true},
		{"gettoken", 40013, wechat.ErrBadCredentials, true},
		{"token", 40125, wechat.ErrBadCredentials, true},
		{"kf/send_msg", 12345, nil, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.op, tt.code), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &wechat.APIError{Op: tt.op, Code: tt.code, Msg: "x"})
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("not %v", tt.want)
			}
			if got := errors.Is(err, wechat.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent %v, want %v", got, tt.permanent)
			}
			if tt.op == "gettoken" && errors.Is(err, wechat.ErrTokenInvalid) {
				t.Error("a refused secret is not a stale token")
			}
		})
	}
	if errors.Is(&wechat.TransportError{Op: "x", Err: errors.New("eof")}, wechat.ErrPermanent) {
		t.Error("a transport error is never permanent")
	}
}
