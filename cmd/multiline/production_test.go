package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/graph"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// TestProductionWiring starts the service as in production (no --dev): every
// guard that local mode relaxes is on.
func TestProductionWiring(t *testing.T) {
	env := prodEnv()
	env["MULTILINE_DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "prod.db")
	// The company's WeCom, which start-up asks for its one kf account.
	wecom, err := fakewechat.New(fakewechat.Config{CorpID: env["WECOM_CORP_ID"], KfSecret: env["WECOM_KF_SECRET"],
		CallbackToken: env["WECOM_CALLBACK_TOKEN"], EncodingAESKey: env["WECOM_ENCODING_AES_KEY"], OpenKfID: "wkCompanyAccount01"})
	if err != nil {
		t.Fatal(err)
	}
	wecomSrv := httptest.NewServer(wecom)
	defer wecomSrv.Close()
	env["WECOM_API_BASE"] = wecomSrv.URL
	cfg, err := LoadConfig(func(k string) string { return env[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	app, e, err := newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if app.fake != nil {
		t.Fatal("the WeChat simulator runs outside local mode")
	}
	if got := app.side.Account(); got != "wkCompanyAccount01" {
		t.Errorf("kf account %q, want the company's only one", got)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/healthz", "", 200},
		{"POST", "/api/messages", `{"type":"message","text":"hi","serviceUrl":"https://smba.trafficmanager.net/teams/","channelId":"msteams"}`, 401},
		{"GET", "/tab/dev-login", "", 404},
		{"GET", "/api/v1/me", "", 401},
		{"GET", "/wechat/callback?msg_signature=x&timestamp=1&nonce=1&echostr=abc", "", 400},
		{"POST", "/fake/consumer/send", `{"consumer":"c","text":"hi"}`, 404},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want && !(tc.want == 400 && resp.StatusCode/100 == 4) {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

func TestGraphErrorsForTheJobRunner(t *testing.T) {
	forbidden := &graph.Error{Op: "install app", Status: 403, Permission: "TeamsAppInstallation.ReadWriteSelfForUser.All", Err: graph.ErrForbidden}
	if err := graphError(forbidden); !errors.Is(err, bridge.ErrNeedsAdmin) || !strings.Contains(err.Error(), "TeamsAppInstallation") {
		t.Errorf("403: %v", err)
	}
	throttled := &graph.Error{Op: "install app", Status: 429, RetryAfter: 90 * time.Second, Err: graph.ErrThrottled}
	var ra *bridge.RetryAfterError
	if err := graphError(throttled); !errors.As(err, &ra) || ra.Wait != 90*time.Second {
		t.Errorf("429: %v", err)
	}
	// A 429 without Retry-After backs off as any failure does.
	bare := &graph.Error{Op: "send activity notification", Status: 429, Err: graph.ErrThrottled}
	if err := graphError(bare); errors.As(err, &ra) || err != error(bare) {
		t.Errorf("429 without Retry-After: %v", err)
	}
	notFound := &graph.Error{Op: "send activity notification", Status: 404, Err: graph.ErrNotFound}
	if err := graphError(notFound); !errors.Is(err, bridge.ErrNeedsAdmin) {
		t.Errorf("404: %v", err)
	}
	other := errors.New("connection reset")
	if err := graphError(other); err != other {
		t.Errorf("transient: %v", err)
	}
}
