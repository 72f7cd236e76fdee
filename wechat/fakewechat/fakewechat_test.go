package fakewechat

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Config{CorpID: "wwC", KfSecret: "s", CallbackToken: "tok", EncodingAESKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

func call(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return out
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func TestTokenErrors(t *testing.T) {
	s, hs := newTestServer(t)
	tests := []struct {
		name, url string
		want      int
	}{
		{"wrong corp", "/cgi-bin/gettoken?corpid=x&corpsecret=s", 40013},
		{"wrong secret", "/cgi-bin/gettoken?corpid=wwC&corpsecret=x", 40001},
		{"no token", "/cgi-bin/kf/sync_msg", 41001},
		{"unknown token", "/cgi-bin/kf/sync_msg?access_token=forged", 40014},
	}
	for _, tt := range tests {
		method := http.MethodPost
		if strings.Contains(tt.url, "gettoken") {
			method = http.MethodGet
		}
		if got := errcode(call(t, method, hs.URL+tt.url, "{}")); got != tt.want {
			t.Errorf("%s: errcode %d, want %d", tt.name, got, tt.want)
		}
	}
	tok := call(t, http.MethodGet, hs.URL+"/cgi-bin/gettoken?corpid=wwC&corpsecret=s", "")["access_token"].(string)
	if got := errcode(call(t, http.MethodPost, hs.URL+"/cgi-bin/kf/sync_msg?access_token="+tok, "{}")); got != 0 {
		t.Fatalf("fresh token: %d", got)
	}
	s.Advance(DefaultTokenTTL)
	if got := errcode(call(t, http.MethodPost, hs.URL+"/cgi-bin/kf/sync_msg?access_token="+tok, "{}")); got != 42001 {
		t.Fatalf("expired token: %d", got)
	}
	if got := errcode(call(t, http.MethodPost, hs.URL+"/cgi-bin/kf/sync_msg?access_token="+tok+"&x=1", `{"cursor":"zz"}`)); got != 42001 {
		t.Fatalf("expired token checked before the body: %d", got)
	}
}

func TestControlEndpoints(t *testing.T) {
	s, hs := newTestServer(t)
	if got := call(t, http.MethodPost, hs.URL+"/fake/consumer/send", `{"consumer":"c1","text":"hi"}`); got["callback"] != "none" || got["msgid"] == "" {
		t.Fatalf("send: %v", got)
	}
	if got := call(t, http.MethodPost, hs.URL+"/fake/consumer/send", `{"consumer":"c1"}`); got["error"] == nil {
		t.Fatalf("empty send accepted: %v", got)
	}
	if got := call(t, http.MethodPost, hs.URL+"/fake/consumer/arrive", `{"consumer":"c1","link":"https://work.weixin.qq.com/kf/nope"}`); got["error"] == nil {
		t.Fatalf("unknown link accepted: %v", got)
	}
	before := s.Now()
	call(t, http.MethodPost, hs.URL+"/fake/clock/advance", `{"by":"24h"}`)
	if d := s.Now().Sub(before); d < 24*time.Hour || d > 25*time.Hour {
		t.Fatalf("advanced %s", d)
	}
	if got := call(t, http.MethodPost, hs.URL+"/fake/clock/advance", `{"by":"-1h"}`); got["error"] == nil {
		t.Fatal("negative advance accepted")
	}
	call(t, http.MethodPost, hs.URL+"/fake/faults", `{"path":"/cgi-bin/kf/send_msg","errcode":45009}`)
	s.mu.Lock()
	n := len(s.faults)
	s.mu.Unlock()
	if n != 1 {
		t.Fatalf("faults %d", n)
	}
	inbox := call(t, http.MethodGet, hs.URL+"/fake/consumer/inbox?consumer=c1", "")
	if msgs, ok := inbox["messages"].([]any); !ok || len(msgs) != 0 {
		t.Fatalf("inbox %v", inbox)
	}
}

func TestCallbackFailureIsReported(t *testing.T) {
	s, _ := newTestServer(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	defer down.Close()
	s.SetCallbackURL(down.URL)
	_, err := s.ConsumerSends(t.Context(), "c1", "hi")
	var cbErr *CallbackError
	if !errors.As(err, &cbErr) || cbErr.Status != 500 {
		t.Fatalf("err %v", err)
	}
	// The message is still queued for sync, as WeChat would keep it.
	if len(s.syncLog) != 1 {
		t.Fatalf("sync log %d", len(s.syncLog))
	}
}

func TestKfModeNeedsKey(t *testing.T) {
	if _, err := New(Config{CorpID: "wwC"}); err == nil {
		t.Fatal("kf without EncodingAESKey accepted")
	}
}
