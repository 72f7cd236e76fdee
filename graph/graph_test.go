package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNotifyNewMessageSendsExactRequest(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(response{status: 204})
	err := env.client.NotifyNewMessage(context.Background(), "user-1", Notification{
		ThreadID: "th-42",
		Preview:  "你好, is my order shipped?",
		Actor:    "Wang Li",
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := env.graph.got()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1.0/users/user-1/teamwork/sendActivityNotification" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	jsonEqual(t, r.Body, `{
		"activityType": "wechatMessage",
		"chainId": `+itoa(chainID("th-42"))+`,
		"previewText": {"content": "你好, is my order shipped?"},
		"templateParameters": [{"name": "contact", "value": "Wang Li"}],
		"topic": {
			"source": "text",
			"value": "MultiLine",
			"webUrl": "https://teams.microsoft.com/l/entity/3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21/multiline?context=%7B%22subEntityId%22%3A%22th-42%22%7D"
		}
	}`)
	if n := env.tokens.count(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestNotifyNewMessageTruncatesPreviewAndUsesGivenLink(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.TeamsAppID = "" })
	env.graph.respond(response{status: 204})
	long := strings.Repeat("长", 200)
	err := env.client.NotifyNewMessage(context.Background(), "user-1", Notification{
		ThreadID: "th-1", Preview: long, Actor: "", WebURL: "https://teams.microsoft.com/l/entity/x/y",
		ActivityType: "wechatThreadAssigned",
	})
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, env.graph.got()[0].Body, `{
		"activityType": "wechatThreadAssigned",
		"chainId": `+itoa(chainID("th-1"))+`,
		"previewText": {"content": "`+strings.Repeat("长", 149)+`…"},
		"templateParameters": [{"name": "contact", "value": "a WeChat contact"}],
		"topic": {"source": "text", "value": "MultiLine", "webUrl": "https://teams.microsoft.com/l/entity/x/y"}
	}`)
}

func TestNotifyNewMessageRefusesBadInput(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.TeamsAppID = "" })
	tests := []struct {
		name string
		user string
		n    Notification
	}{
		{"no user", "", Notification{ThreadID: "t", WebURL: "https://x"}},
		{"no thread", "u", Notification{WebURL: "https://x"}},
		{"no link and no app id", "u", Notification{ThreadID: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := env.client.NotifyNewMessage(context.Background(), tt.user, tt.n)
			if !errors.Is(err, ErrInvalidNotification) {
				t.Fatalf("err = %v, want ErrInvalidNotification", err)
			}
		})
	}
	if n := len(env.graph.got()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

// TestFailures checks how Graph's error answers surface, per operation.
func TestFailures(t *testing.T) {
	notify := func(c *Client) error {
		return c.NotifyNewMessage(context.Background(), "user-1", Notification{ThreadID: "t"})
	}
	find := func(c *Client) error {
		_, err := c.FindUsers(context.Background(), "wang", 5)
		return err
	}
	install := func(c *Client) error {
		return c.InstallAppForUser(context.Background(), "user-1", "cat-1")
	}
	forbidden := response{status: 403, body: graphError("Forbidden", "Missing role permissions on the request. API requires one of 'TeamsActivity.Send'.")}
	throttled := response{status: 429, header: map[string]string{"Retry-After": "7"}, body: graphError("TooManyRequests", "Too many requests")}
	tests := []struct {
		name       string
		call       func(*Client) error
		script     []response
		wantIs     error // nil: success
		wantStatus int
		wantPerm   string
		wantRetry  time.Duration
		wantReqs   int
		wantWaits  string
		wantInMsg  string
	}{
		{name: "notify forbidden", call: notify, script: []response{forbidden},
			wantIs: ErrForbidden, wantStatus: 403, wantPerm: "TeamsActivity.Send", wantReqs: 1, wantWaits: "[]",
			wantInMsg: "needs the Microsoft Graph application permission TeamsActivity.Send with admin consent"},
		{name: "find users forbidden", call: find, script: []response{{status: 403, body: graphError("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")}},
			wantIs: ErrForbidden, wantStatus: 403, wantPerm: "User.Read.All", wantReqs: 1, wantWaits: "[]", wantInMsg: "Insufficient privileges"},
		{name: "install forbidden", call: install, script: []response{forbidden},
			wantIs: ErrForbidden, wantStatus: 403, wantPerm: PermissionInstallApp, wantReqs: 1, wantWaits: "[]"},
		{name: "throttled once then ok", call: notify, script: []response{throttled, {status: 204}},
			wantReqs: 2, wantWaits: "[7s]"},
		{name: "throttled without Retry-After backs off", call: find,
			script:   []response{{status: 429, body: graphError("TooManyRequests", "slow down")}, {status: 503}, {status: 200, body: map[string]any{"value": []any{}}}},
			wantReqs: 3, wantWaits: "[1s 2s]"},
		{name: "throttled until attempts run out", call: notify, script: []response{throttled, throttled, throttled, {status: 204}},
			wantIs: ErrThrottled, wantStatus: 429, wantRetry: 7 * time.Second, wantReqs: 3, wantWaits: "[7s 7s]", wantInMsg: "retry after 7s"},
		{name: "Retry-After too long is returned, not waited", call: install,
			script: []response{{status: 429, header: map[string]string{"Retry-After": "120"}, body: graphError("TooManyRequests", "")}},
			wantIs: ErrThrottled, wantStatus: 429, wantRetry: 2 * time.Minute, wantReqs: 1, wantWaits: "[]"},
		{name: "install already installed is success", call: install,
			script:   []response{{status: 409, body: graphError("Conflict", "App is already installed.")}},
			wantReqs: 1, wantWaits: "[]"},
		{name: "install unknown user", call: install,
			script: []response{{status: 404, body: graphError("NotFound", "User not found")}},
			wantIs: ErrNotFound, wantStatus: 404, wantReqs: 1, wantWaits: "[]"},
		{name: "server error is not retried", call: notify,
			script:     []response{{status: 500, body: graphError("InternalServerError", "boom")}},
			wantStatus: 500, wantReqs: 1, wantWaits: "[]", wantInMsg: "HTTP 500 (InternalServerError: boom)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			env.graph.respond(tt.script...)
			err := tt.call(env.client)
			if n := len(env.graph.got()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
			if w := env.waits(); w != tt.wantWaits {
				t.Errorf("waits %s, want %s", w, tt.wantWaits)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			for _, other := range []error{ErrThrottled, ErrForbidden, ErrNotFound, ErrAuthentication} {
				if other != tt.wantIs && errors.Is(err, other) {
					t.Errorf("error also matches %v", other)
				}
			}
			if ge.Status != tt.wantStatus || ge.Permission != tt.wantPerm || ge.RetryAfter != tt.wantRetry {
				t.Errorf("status %d permission %q retryAfter %s; want %d %q %s",
					ge.Status, ge.Permission, ge.RetryAfter, tt.wantStatus, tt.wantPerm, tt.wantRetry)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q, want one line containing %q", err, tt.wantInMsg)
			}
		})
	}
}

func TestFindUsersRequestAndResult(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(response{status: 200, body: map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,mail,userPrincipalName)",
		"value": []any{
			map[string]any{"id": "u-1", "displayName": "Wang Li", "mail": "li.wang@contoso.example", "userPrincipalName": "li.wang@contoso.example"},
			map[string]any{"id": "u-2", "displayName": "Wanda Maximoff", "mail": nil, "userPrincipalName": "wanda@contoso.example"},
		},
	}})
	got, err := env.client.FindUsers(context.Background(), `  wa"n\  `, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		{ID: "u-1", DisplayName: "Wang Li", Mail: "li.wang@contoso.example", UserPrincipalName: "li.wang@contoso.example"},
		{ID: "u-2", DisplayName: "Wanda Maximoff", UserPrincipalName: "wanda@contoso.example"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("user %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	r := env.graph.got()[0]
	checks := []struct{ name, got, want string }{
		{"method", r.Method, "GET"},
		{"path", r.Path, "/v1.0/users"},
		{"ConsistencyLevel", r.Header.Get("ConsistencyLevel"), "eventual"},
		{"$search", r.Query.Get("$search"), `"displayName:wa n" OR "mail:wa n"`},
		{"$filter", r.Query.Get("$filter"), "accountEnabled eq true"},
		{"$select", r.Query.Get("$select"), "id,displayName,mail,userPrincipalName"},
		{"$top", r.Query.Get("$top"), "10"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestFindUsersLimits(t *testing.T) {
	env := newTestEnv(t, nil)
	if _, err := env.client.FindUsers(context.Background(), ` " `, 5); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("blank query: err = %v", err)
	}
	env.graph.respond(response{status: 200, body: map[string]any{"value": []any{}}})
	got, err := env.client.FindUsers(context.Background(), "x", 1000)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if top := env.graph.got()[0].Query.Get("$top"); top != "50" {
		t.Errorf("$top = %s, want the cap 50", top)
	}
}

func TestInstallAppForUserRequest(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(response{status: 201})
	if err := env.client.InstallAppForUser(context.Background(), "user-1", "cat-app-1"); err != nil {
		t.Fatal(err)
	}
	r := env.graph.got()[0]
	if r.Method != "POST" || r.Path != "/v1.0/users/user-1/teamwork/installedApps" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	jsonEqual(t, r.Body, `{
		"@odata.type": "#microsoft.graph.userScopeTeamsAppInstallation",
		"teamsApp@odata.bind": "`+env.graph.URL+`/v1.0/appCatalogs/teamsApps/cat-app-1"
	}`)
}

func TestCatalogAppID(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(
		response{status: 200, body: map[string]any{"value": []any{map[string]any{
			"id": "cat-app-1", "externalId": "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21", "displayName": "MultiLine", "distributionMethod": "organization"}}}},
		response{status: 200, body: map[string]any{"value": []any{}}},
	)
	id, err := env.client.CatalogAppID(context.Background(), "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21")
	if err != nil || id != "cat-app-1" {
		t.Fatalf("CatalogAppID = %q, %v", id, err)
	}
	r := env.graph.got()[0]
	if r.Path != "/v1.0/appCatalogs/teamsApps" || r.Query.Get("$filter") != "externalId eq '3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21'" {
		t.Errorf("request %s ?%s", r.Path, r.Query.Encode())
	}
	if _, err := env.client.CatalogAppID(context.Background(), "00000000-0000-0000-0000-000000000000"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing app: err = %v, want ErrNotFound", err)
	}
	if _, err := env.client.CatalogAppID(context.Background(), "x' or 1 eq 1 or id eq 'y"); !errors.Is(err, ErrInvalidInstall) {
		t.Errorf("quote in id: err = %v", err)
	}
}

func TestAuthenticationFailure(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.ClientSecret = "wrong" })
	err := env.client.NotifyNewMessage(context.Background(), "user-1", Notification{ThreadID: "t"})
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	if !strings.Contains(err.Error(), "MicrosoftAppPassword") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q should name the settings to check on one line", err)
	}
	if n := len(env.graph.got()); n != 0 {
		t.Errorf("%d Graph requests without a token", n)
	}
}

func TestTokenIsReused(t *testing.T) {
	env := newTestEnv(t, nil)
	for i := 0; i < 3; i++ {
		env.graph.respond(response{status: 204})
		if err := env.client.NotifyNewMessage(context.Background(), "u", Notification{ThreadID: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := env.tokens.count(); n != 1 {
		t.Errorf("%d token requests for 3 calls, want 1 (cached)", n)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no tenant", Config{ClientID: "c", ClientSecret: "s"}, "TenantID"},
		{"no client", Config{TenantID: "t", ClientSecret: "s"}, "ClientID"},
		{"no secret", Config{TenantID: "t", ClientID: "c"}, "ClientSecret"},
		{"bad base", Config{TenantID: "t", ClientID: "c", ClientSecret: "s", GraphBaseURL: "graph.local"}, "GraphBaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrConfig naming %s", err, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{" 0 ", 0},
		{"-3", 0},
		{"Wed, 01 Jan 2025 12:00:30 GMT", 30 * time.Second},
		{"Wed, 01 Jan 2025 11:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func itoa(n int64) string { return strconvFormat(n) }

// TestInstallForUserFindsTheCatalogAppOnce: the org catalog is asked for the
// app's catalog id once; later installs reuse it.
func TestInstallForUserFindsTheCatalogAppOnce(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(
		response{status: 200, body: map[string]any{"value": []any{map[string]any{
			"id": "cat-app-1", "externalId": "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21", "displayName": "MultiLine", "distributionMethod": "organization"}}}},
		response{status: 201},
		response{status: 409, body: graphError("Conflict", "App is already installed.")},
	)
	for _, user := range []string{"user-1", "user-2"} {
		if err := env.client.InstallForUser(context.Background(), user); err != nil {
			t.Fatalf("install for %s: %v", user, err)
		}
	}
	var paths []string
	for _, r := range env.graph.got() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	want := "GET /v1.0/appCatalogs/teamsApps POST /v1.0/users/user-1/teamwork/installedApps POST /v1.0/users/user-2/teamwork/installedApps"
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("requests %s\nwant     %s", got, want)
	}
}

// TestInstallForUserNeedsTheAppID: without Config.TeamsAppID nothing is sent.
func TestInstallForUserNeedsTheAppID(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.TeamsAppID = "" })
	if err := env.client.InstallForUser(context.Background(), "user-1"); !errors.Is(err, ErrInvalidInstall) {
		t.Fatalf("err = %v, want ErrInvalidInstall", err)
	}
	if n := len(env.graph.got()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
