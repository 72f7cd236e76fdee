package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bot/fakeconnector"
)

type staticToken struct{ scopes, tenants []string }

func (s *staticToken) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.scopes = append(s.scopes, o.Scopes...)
	s.tenants = append(s.tenants, o.TenantID)
	return azcore.AccessToken{Token: "tok-123", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestRoundTripAgainstFake(t *testing.T) {
	fake := fakeconnector.New(fakeconnector.Options{Token: "tok-123"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cred := &staticToken{}
	c := connector.New(connector.Options{Credential: cred, TenantID: "tenant-1"})
	ctx := context.Background()

	conv, err := c.CreateConversation(ctx, srv.URL+"/", connector.ConversationParams{BotID: "28:bot", UserID: "29:user", TenantID: "tenant-1"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.SendActivity(ctx, srv.URL, conv, connector.Text("hello"))
	if err != nil || id == "" {
		t.Fatalf("send: %q %v", id, err)
	}
	if err := c.UpdateActivity(ctx, srv.URL, conv, id, connector.Text("hello again")); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteActivity(ctx, srv.URL, conv, id); err != nil {
		t.Fatal(err)
	}
	acts := fake.Activities(conv)
	if len(acts) != 1 || acts[0].ID != id || acts[0].Updates != 1 || !acts[0].Deleted {
		t.Fatalf("fake state %+v", acts)
	}
	if len(cred.scopes) != 4 || cred.scopes[0] != "https://api.botframework.com/.default" || cred.tenants[0] != "tenant-1" {
		t.Errorf("token requests: scopes %v tenants %v", cred.scopes, cred.tenants)
	}
}

// The JSON on the wire is exactly what Teams expects: no zero timestamps, no empty
// objects.
func TestExactJSON(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			t.Error(err)
		}
		b, _ := json.Marshal(v) // canonical key order
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+string(b))
		if r.Header.Get("Authorization") != "" {
			t.Error("no-token mode sent an Authorization header")
		}
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"x1"}`))
	}))
	defer srv.Close()
	c := connector.New(connector.Options{})
	ctx := context.Background()
	if _, err := c.CreateConversation(ctx, srv.URL, connector.ConversationParams{BotID: "28:b", UserID: "29:u", TenantID: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendActivity(ctx, srv.URL, "a:1;messageid=2", connector.Text("hi")); err != nil {
		t.Fatal(err)
	}
	card := map[string]any{"type": "AdaptiveCard", "version": "1.5"}
	if err := c.UpdateActivity(ctx, srv.URL, "a:1", "1:9", connector.Card(card, "New message")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`POST /v3/conversations {"bot":{"id":"28:b"},"channelData":{"tenant":{"id":"t"}},"isGroup":false,"members":[{"id":"29:u"}],"tenantId":"t"}`,
		`POST /v3/conversations/a:1%3Bmessageid=2/activities {"text":"hi","textFormat":"plain","type":"message"}`,
		`PUT /v3/conversations/a:1/activities/1:9 {"attachments":[{"content":{"type":"AdaptiveCard","version":"1.5"},"contentType":"application/vnd.microsoft.card.adaptive"}],"id":"1:9","summary":"New message","type":"message"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d requests: %v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

func TestTypedErrors(t *testing.T) {
	cases := []struct {
		name        string
		fail        fakeconnector.Failure
		wantStatus  int
		wantCode    string
		retryAfter  time.Duration
		throttled   bool
		transient   bool
		unreachable bool
		gone        bool
		client      bool // a 4xx that no retry changes
	}{
		{name: "429", fail: fakeconnector.Failure{Status: 429, Code: "Throttled", RetryAfter: 3 * time.Second}, wantStatus: 429, wantCode: "Throttled", retryAfter: 3 * time.Second, throttled: true},
		{name: "408", fail: fakeconnector.Failure{Status: 408}, wantStatus: 408, transient: true},
		{name: "412", fail: fakeconnector.Failure{Status: 412, Code: "PreconditionFailed"}, wantStatus: 412, wantCode: "PreconditionFailed", transient: true},
		{name: "500", fail: fakeconnector.Failure{Status: 500, Code: "ServiceError"}, wantStatus: 500, wantCode: "ServiceError", transient: true},
		{name: "400", fail: fakeconnector.Failure{Status: 400, Code: "BadArgument"}, wantStatus: 400, wantCode: "BadArgument", client: true},
		{name: "413", fail: fakeconnector.Failure{Status: 413, Code: "MessageSizeTooBig"}, wantStatus: 413, wantCode: "MessageSizeTooBig", client: true},
		{name: "502", fail: fakeconnector.Failure{Status: 502, Code: "BadGateway"}, wantStatus: 502, wantCode: "BadGateway", transient: true},
		{name: "503", fail: fakeconnector.Failure{Status: 503}, wantStatus: 503, transient: true},
		{name: "504", fail: fakeconnector.Failure{Status: 504}, wantStatus: 504, transient: true},
		{name: "bot disabled", fail: fakeconnector.Failure{Status: 403, Code: "BotDisabledByAdmin"}, wantStatus: 403, wantCode: "BotDisabledByAdmin", unreachable: true, client: true},
		{name: "blocked", fail: fakeconnector.Failure{Status: 403, Code: "ConversationBlockedByUser"}, wantStatus: 403, wantCode: "ConversationBlockedByUser", unreachable: true, client: true},
		{name: "other 403", fail: fakeconnector.Failure{Status: 403, Code: "Forbidden"}, wantStatus: 403, wantCode: "Forbidden", client: true},
		{name: "conversation gone", fail: fakeconnector.Failure{Status: 404, Code: "ConversationNotFound"}, wantStatus: 404, wantCode: "ConversationNotFound", gone: true, client: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeconnector.New(fakeconnector.Options{})
			fake.AddConversation("a:1", "t", "29:u")
			fake.Fail(tc.fail)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			_, err := connector.New(connector.Options{}).SendActivity(context.Background(), srv.URL, "a:1", connector.Text("x"))
			e, ok := connector.AsAPIError(err)
			if !ok {
				t.Fatalf("not an APIError: %v", err)
			}
			if e.StatusCode != tc.wantStatus || e.Code != tc.wantCode || e.RetryAfter != tc.retryAfter {
				t.Errorf("got %+v", e)
			}
			if e.Throttled() != tc.throttled || e.Transient() != tc.transient || e.Unreachable() != tc.unreachable || e.ConversationGone() != tc.gone || e.ClientError() != tc.client {
				t.Errorf("classification of %+v wrong", e)
			}
		})
	}
}

func TestRefusesTokenOverPlainHTTP(t *testing.T) {
	c := connector.New(connector.Options{Credential: &staticToken{}})
	_, err := c.SendActivity(context.Background(), "http://smba.example.com/", "a:1", connector.Text("x"))
	if !errors.Is(err, connector.ErrBadServiceURL) {
		t.Fatalf("err = %v", err)
	}
	_, err = c.SendActivity(context.Background(), "ftp://x/", "a:1", connector.Text("x"))
	if !errors.Is(err, connector.ErrBadServiceURL) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewCredential(t *testing.T) {
	cases := []struct {
		s          connector.Settings
		ok         bool
		wantTenant string
	}{
		{connector.Settings{AppID: "a", Password: "p", TenantID: "t", AppType: "SingleTenant"}, true, "t"},
		{connector.Settings{AppID: "a", TenantID: "t", AppType: "UserAssignedMSI"}, true, "t"},
		{connector.Settings{AppID: "a", Password: "p", AppType: "MultiTenant"}, true, "botframework.com"},
		{connector.Settings{AppID: "a", Password: "p", AppType: "SingleTenant"}, false, ""},
		{connector.Settings{AppID: "a", TenantID: "t", AppType: "SingleTenant"}, false, ""},
		{connector.Settings{Password: "p", TenantID: "t"}, false, ""},
		{connector.Settings{AppID: "a", Password: "p", TenantID: "t", AppType: "Other"}, false, ""},
	}
	for _, tc := range cases {
		cred, tenant, err := connector.NewCredential(tc.s)
		if (err == nil) != tc.ok || (tc.ok && (cred == nil || tenant != tc.wantTenant)) {
			t.Errorf("NewCredential(%+v) = %v, %q, %v", tc.s, cred, tenant, err)
		}
		if err != nil && !errors.Is(err, connector.ErrIncompleteSettings) {
			t.Errorf("error not typed: %v", err)
		}
	}
}

// rotatingToken hands out the tokens in order, then the last one again.
type rotatingToken struct {
	mu     sync.Mutex
	tokens []string
	calls  int
}

func (r *rotatingToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tok := r.tokens[min(r.calls, len(r.tokens)-1)]
	r.calls++
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A 401 is tried once more with a fresh token; when the credential has no other,
// the 401 stands, and no error names a token.
func TestUnauthorizedRetriesWithFreshToken(t *testing.T) {
	cases := []struct {
		name     string
		tokens   []string
		ok       bool
		requests int
	}{
		{"revoked token replaced", []string{"tok-old", "tok-new"}, true, 2},
		{"no other token", []string{"tok-old"}, false, 1},
		{"fresh token refused too", []string{"tok-old", "tok-other"}, false, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeconnector.New(fakeconnector.Options{Token: "tok-new"})
			fake.AddConversation("a:1", "t", "29:u")
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c := connector.New(connector.Options{Credential: &rotatingToken{tokens: tc.tokens}, TenantID: "t"})
			_, err := c.SendActivity(context.Background(), srv.URL, "a:1", connector.Text("x"))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if n := len(fake.Requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if err != nil {
				e, ok := connector.AsAPIError(err)
				if !ok || e.StatusCode != 401 || !e.ClientError() {
					t.Errorf("err = %#v", err)
				}
				if strings.Contains(err.Error(), "tok-") {
					t.Errorf("error names a token: %v", err)
				}
			}
		})
	}
}
