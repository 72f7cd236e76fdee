package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// local is the service in local mode, in process, on a real port, with the
// built-in WeChat simulator and a fake Bot Connector for the Teams side.
type local struct {
	t    *testing.T
	url  string
	app  *application
	conn *fakeconnector.Fake
	bf   *httptest.Server
	logs *syncBuffer
}

func startLocal(t *testing.T, extra ...string) *local {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MULTILINE_ADDR":         ln.Addr().String(),
		"MULTILINE_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "multiline.db"),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] }, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	app, e, err := newServer(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	app.Start(ctx)
	conn := fakeconnector.New(fakeconnector.Options{})
	bf := httptest.NewServer(conn)
	t.Cleanup(func() {
		cancel()
		srv.Close()
		app.Stop(context.Background())
		app.Close()
		bf.Close()
	})
	return &local{t: t, url: "http://" + ln.Addr().String(), app: app, conn: conn, bf: bf, logs: logs}
}

// syncBuffer collects the service's log for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (l *local) post(path string, body any) *http.Response {
	l.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(l.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		l.t.Fatal(err)
	}
	return resp
}

// activity is what Teams (here: a test) posts to the bot.
func (l *local) activity(typ, user, conv string, extra map[string]any) map[string]any {
	a := map[string]any{
		"type": typ, "id": "act-" + typ, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"serviceUrl": l.bf.URL + "/", "channelId": "msteams",
		"from":         map[string]any{"id": user, "name": "Ann Lee", "aadObjectId": "aad-" + user},
		"recipient":    map[string]any{"id": "28:bot", "name": "MultiLine"},
		"conversation": map[string]any{"id": conv, "conversationType": "personal", "tenantId": "tenant-1"},
		"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant-1"}},
		"locale":       "en-US",
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// eventually polls cond for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *local) inbox(consumer string) []fakewechat.Delivered {
	return l.app.fake.Inbox(consumer)
}

func (l *local) cardsIn(conv string) string {
	var all []string
	for _, a := range l.conn.Activities(conv) {
		all = append(all, string(a.Body))
	}
	return strings.Join(all, "\n")
}

// TestLocalRoundTrip: a consumer's message reaches the employee in Teams, and the
// employee's reply reaches the consumer through kf/send_msg exactly once, although
// the first attempt times out.
func TestLocalRoundTrip(t *testing.T) {
	wechatTimeout = 300 * time.Millisecond
	defer func() { wechatTimeout = 10 * time.Second }()
	l := startLocal(t)
	l.conn.AddConversation("a:ann", "tenant-1", "29:ann")

	resp := l.post("/api/messages", l.activity("installationUpdate", "29:ann", "a:ann", map[string]any{"action": "add"}))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("install: %d", resp.StatusCode)
	}
	eventually(t, "welcome card", func() bool { return len(l.conn.Activities("a:ann")) > 0 })

	resp = l.post("/fake/consumer/send", map[string]any{"consumer": "wmZhang", "text": "你好, is my order shipped?"})
	if resp.StatusCode != 200 {
		t.Fatalf("consumer send: %d", resp.StatusCode)
	}
	eventually(t, "the consumer's message as a card", func() bool {
		return strings.Contains(l.cardsIn("a:ann"), "is my order shipped?")
	})
	eventually(t, "the initial auto message", func() bool { return len(l.inbox("wmZhang")) == 1 })
	if got := l.inbox("wmZhang")[0].Text; !strings.HasPrefix(got, "Thank you! You can now start messaging your contact.") {
		t.Fatalf("initial message %q", got)
	}

	// The first send_msg takes effect but answers too late: the client times out.
	l.app.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/kf/send_msg", Delay: time.Second})
	resp = l.post("/api/messages", l.activity("message", "29:ann", "a:ann", map[string]any{"text": "Yes, it left yesterday."}))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	eventually(t, "the reply in WeChat", func() bool { return len(l.inbox("wmZhang")) >= 2 })
	time.Sleep(2500 * time.Millisecond) // time for the retry to have happened
	var replies int
	for _, m := range l.inbox("wmZhang") {
		if m.Text == "Yes, it left yesterday." {
			replies++
		}
	}
	if replies != 1 {
		t.Fatalf("the reply was delivered %d times: %+v", replies, l.inbox("wmZhang"))
	}
	// The first attempt really timed out, so the delivery above came from the retry.
	if !strings.Contains(l.logs.String(), "kind=wechat.send") {
		t.Fatalf("no failed send attempt was logged:\n%s", l.logs.String())
	}
}

func TestHealthAndReady(t *testing.T) {
	l := startLocal(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(l.url + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
	}
}

// TestLocalOfficialAccount: the same round trip through an Official Account in
// safe mode: the callback carries the message, replies go through
// message/custom/send.
func TestLocalOfficialAccount(t *testing.T) {
	l := startLocal(t, "WECHAT_MODE", "official-account")
	if l.app.side.Mode() != wechat.SourceOfficialAccount {
		t.Fatal("not in Official Account mode")
	}
	l.conn.AddConversation("a:ann", "tenant-1", "29:ann")
	l.post("/api/messages", l.activity("installationUpdate", "29:ann", "a:ann", map[string]any{"action": "add"}))
	resp := l.post("/fake/consumer/send", map[string]any{"consumer": "oOpenID1", "text": "Do you ship to Shanghai?"})
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("consumer send: %d %s (fake %v)", resp.StatusCode, b, l.app.fake != nil)
	}
	eventually(t, "the consumer's message as a card", func() bool { return strings.Contains(l.cardsIn("a:ann"), "Do you ship to Shanghai?") })
	eventually(t, "the initial auto message", func() bool { return len(l.inbox("oOpenID1")) == 1 })
	l.post("/api/messages", l.activity("message", "29:ann", "a:ann", map[string]any{"text": "Yes, we do."}))
	eventually(t, "the reply in WeChat", func() bool {
		in := l.inbox("oOpenID1")
		return len(in) == 2 && in[1].Text == "Yes, we do." && in[1].Via == "message/custom/send"
	})
}
