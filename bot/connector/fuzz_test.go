package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// answer is a Bot Connector that gives every request one answer, in the process.
type answer struct {
	status     int
	retryAfter string
	body       []byte
}

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	return &http.Response{StatusCode: a.status, Header: h, Request: r, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

// FuzzConnectorAnswer: whatever the Bot Connector answers to a send (status,
// Retry-After, body), the client returns the activity id of a 2xx JSON
// answer, or a typed error: an *APIError with the status for anything else,
// its code and message clipped for the log, and a wait that is never
// negative nor longer than maxRetryAfter whatever the header says.
func FuzzConnectorAnswer(f *testing.F) {
	for _, s := range []struct {
		status     uint16
		retryAfter string
		body       string
	}{
		{201, "", `{"id":"1:activity-id"}`},
		{200, "", ``},
		{200, "", `not json`},
		{429, "3", `{"error":{"code":"Throttled","message":"Too many requests"}}`},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", `{}`},
		{429, "-5", `{}`},
		{429, "0.25", `{}`},
		{403, "", `{"error":{"code":"ConversationBlockedByUser","message":"User blocked the conversation with the bot."}}`},
		{404, "", `{"error":{"code":"ConversationNotFound","message":"Conversation not found."}}`},
		{502, "", `<html>Bad gateway</html>`},
		{400, "", `{"error":{"code":"BadArgument","message":"` + strings.Repeat("长", 1000) + `"}}`},
	} {
		f.Add(s.status, s.retryAfter, []byte(s.body))
	}
	// testdata/fuzz/FuzzConnectorAnswer holds what the target found.
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		code := int(status)
		if code < 200 || code > 599 {
			code = 200 + code%400
		}
		if code == http.StatusUnauthorized {
			code = http.StatusForbidden // a 401 asks the credential again: TestUnauthorizedRetriesWithFreshToken
		}
		c := New(Options{HTTPClient: &http.Client{Transport: answer{code, retryAfter, body}}})
		id, err := c.SendActivity(context.Background(), "https://smba.trafficmanager.net/amer/", "a:conv", Text("hello"))
		if code >= 200 && code <= 299 {
			var out struct {
				ID string `json:"id"`
			}
			decodes := len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &out) == nil
			if decodes != (err == nil) || id != out.ID {
				t.Fatalf("http %d %q: id %q, %v", code, body, id, err)
			}
			return
		}
		e, ok := AsAPIError(err)
		if !ok || e.StatusCode != code || e.Op != "send" {
			t.Fatalf("http %d: %v", code, err)
		}
		if utf8.RuneCountInString(e.Code) > maxMessage+1 || utf8.RuneCountInString(e.Message) > maxMessage+1 {
			t.Fatalf("code of %d and message of %d characters kept", len(e.Code), len(e.Message))
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("Retry-After %q read as %v", retryAfter, e.RetryAfter)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && n >= 0 && time.Duration(n)*time.Second <= maxRetryAfter && e.RetryAfter != time.Duration(n)*time.Second {
			t.Fatalf("Retry-After %q read as %v", retryAfter, e.RetryAfter)
		}
		if errors.Is(err, ErrBadServiceURL) {
			t.Fatal("a good service URL refused")
		}
	})
}
