package jobs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	limits := bridge.JobLimits{MaxAttempts: 3, MaxAge: time.Hour}
	young, old := now.Add(-time.Minute), now.Add(-2*time.Hour)
	plain := errors.New("502")
	deferral := fmt.Errorf("deliver: %w", &bridge.RetryAfterError{Wait: time.Minute, Err: bridge.ErrEmployeeUnreachable})
	noHandler := fmt.Errorf("%w: %q", ErrNoHandler, "newer")
	cases := []struct {
		name     string
		attempts int
		created  time.Time
		err      error
		limits   bridge.JobLimits
		shutdown bool
		want     fate
	}{
		{"plain failure retries", 0, young, plain, limits, false, fateRetry},
		{"last allowed attempt ends it", 2, young, plain, limits, false, fateDead},
		{"attempts past the limit end it too", 7, young, plain, limits, false, fateDead},
		{"permanent ends it on the first attempt", 0, young, fmt.Errorf("send: %w", bridge.Permanent(plain)), limits, false, fateDead},
		{"too old ends it", 0, old, plain, limits, false, fateDead},
		{"Retry-After defers without counting", 2, young, deferral, limits, false, fateDefer},
		{"Retry-After does not outlive MaxAge", 0, old, deferral, limits, false, fateDead},
		{"permanent beats Retry-After", 0, young, bridge.Permanent(deferral), limits, false, fateDead},
		{"unknown kind ignores MaxAttempts", 50, young, noHandler, limits, false, fateRetry},
		{"unknown kind obeys MaxAge", 0, old, noHandler, limits, false, fateDead},
		{"shutdown releases even an old job", 9, old, context.Canceled, limits, true, fateRelease},
		{"zero limits never end it", 1000, now.Add(-1000 * time.Hour), plain, bridge.JobLimits{}, false, fateRetry},
		{"unknown creation time is not too old", 0, time.Time{}, plain, limits, false, fateRetry},
		{"a panic counts as a failure", 2, young, &PanicError{Value: "bug"}, limits, false, fateDead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := bridge.Job{ID: 1, Kind: "k", Attempts: c.attempts, Created: c.created}
			if got := decide(j, c.err, now, c.limits, c.shutdown); got != c.want {
				t.Errorf("decide = %d, want %d", got, c.want)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	cases := []struct{ in, want string }{
		{`Post "https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=abc.DEF-123&x=1": EOF`,
			`Post "https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=[REDACTED]&x=1": EOF`},
		// A value runs to the next space, quote or &: better a colon too many gone than a secret kept.
		{`GET /cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t: 500`, `GET /cgi-bin/gettoken?corpid=ww1&corpsecret=[REDACTED] 500`},
		{`body {"access_token":"tok","expires_in":7200}`, `body {"access_token":"[REDACTED]","expires_in":7200}`},
		{`401: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig`, `401: Authorization: Bearer [REDACTED]`},
		{`dial postgres://app:hunter2@db:5432/x: refused`, `dial postgres://app:[REDACTED]@db:5432/x: refused`},
		{`errcode 40003: invalid openid`, `errcode 40003: invalid openid`},
	}
	for _, c := range cases {
		if got := RedactError(c.in); got != c.want {
			t.Errorf("RedactError(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
	long := RedactError(string(make([]byte, 3*MaxErrorLen)))
	if len(long) > MaxErrorLen+len("…") {
		t.Errorf("a long error kept %d bytes", len(long))
	}
	if got := RedactError("错误" + string(make([]byte, MaxErrorLen))); len(got) > MaxErrorLen+len("…") {
		t.Errorf("cut at %d bytes", len(got))
	}
}
