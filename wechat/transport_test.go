package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/metrics"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// connCountingFake is a fake WeChat that counts the connections it accepts.
func connCountingFake(t *testing.T) (*fakewechat.Server, string, *atomic.Int32) {
	t.Helper()
	fake, err := fakewechat.New(fakewechat.Config{CorpID: corpID, KfSecret: secret, CallbackToken: cbTok, EncodingAESKey: aesKey})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return fake, srv.URL, &conns
}

// sendMany makes 500 kf/send_msg calls from `callers` goroutines: 100 consumers
// write once each, and each gets the 5 sends WeChat allows.
func sendMany(t *testing.T, fake *fakewechat.Server, kf *wechat.KfClient, callers int) {
	t.Helper()
	ctx := context.Background()
	type send struct{ consumer, msgID string }
	work := make(chan send)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				_, err := kf.SendMsg(ctx, wechat.KfSend{ToUser: s.consumer, OpenKfID: fakewechat.DefaultOpenKfID, MsgID: s.msgID,
					Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: "hello " + s.msgID}})
				if err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("send %s: %v", s.msgID, err)
					}
				}
			}
		}()
	}
	for c := range 100 {
		consumer := fmt.Sprintf("wmC%03d", c)
		if _, err := fake.ConsumerSends(ctx, consumer, "hi"); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
			t.Fatal(err)
		}
		for i := range 5 {
			work <- send{consumer, fmt.Sprintf("m%03d_%d", c, i)}
		}
	}
	close(work)
	wg.Wait()
}

// Issue 10, item 3: the WeChat client keeps a connection for each concurrent
// caller, so a run of 500 sends by 8 callers opens about 8 connections, not
// hundreds.
func TestWeChatClientReusesConnections(t *testing.T) {
	const callers = 8
	fake, url, conns := connCountingFake(t)
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: url, HTTPClient: wechat.NewHTTPClient(wechat.HTTPOptions{})})
	ok200 := map[string]string{"service": "wechat", "status": "200"}
	before := metrics.Sum("multiline_http_client_responses_total", ok200)
	sendMany(t, fake, kf, callers)
	if got := len(fake.Inbox("wmC042")); got != 5 {
		t.Fatalf("a consumer received %d messages, want 5", got)
	}
	n := int(conns.Load())
	t.Logf("500 sends by %d callers: %d connections", callers, n)
	if n > callers+2 {
		t.Errorf("%d new connections for 500 sends by %d callers, want at most %d", n, callers, callers+2)
	}
	// Every answer was counted: 500 sends and a gettoken.
	if got := metrics.Sum("multiline_http_client_responses_total", ok200) - before; got < 501 {
		t.Errorf("multiline_http_client_responses_total{service=wechat,status=200} grew by %v, want at least 501", got)
	}

	// For comparison only (not asserted: it depends on scheduling): Go's default
	// transport keeps 2 idle connections per host.
	fake2, url2, conns2 := connCountingFake(t)
	plain := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: url2, HTTPClient: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}})
	sendMany(t, fake2, plain, callers)
	t.Logf("the same with Go's default transport settings: %d connections", conns2.Load())
}

// WeChat's errcodes are counted by API (the path, no query) and errcode, and so
// are calls that got no answer.
func TestWeChatErrorsAreCounted(t *testing.T) {
	fake, url, _ := connCountingFake(t)
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: url})
	ctx := context.Background()
	count := func(api, code string) float64 {
		return metrics.Sum("multiline_wechat_api_errors_total", map[string]string{"api": api, "errcode": code})
	}
	send := func(to, id string) error {
		_, err := kf.SendMsg(ctx, wechat.KfSend{ToUser: to, OpenKfID: fakewechat.DefaultOpenKfID, MsgID: id, Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: "x"}})
		return err
	}
	if _, err := fake.ConsumerSends(ctx, "wmE", "hi"); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
		t.Fatal(err)
	}
	limit0, expired0 := count("kf/send_msg", "95001"), count("kf/send_msg", "42001")
	for i := range 6 {
		err := send("wmE", fmt.Sprintf("e%d", i))
		if i == 5 && !errors.Is(err, wechat.ErrCountLimit) {
			t.Fatalf("6th send: %v", err)
		}
	}
	if got := count("kf/send_msg", "95001") - limit0; got != 1 {
		t.Errorf("95001 counted %v times, want 1", got)
	}
	// An expired token is counted, though the client renews it and the send succeeds.
	fake.Advance(3 * time.Hour)
	if _, err := fake.ConsumerSends(ctx, "wmE", "again"); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
		t.Fatal(err)
	}
	if err := send("wmE", "after-expiry"); err != nil {
		t.Fatal(err)
	}
	if got := count("kf/send_msg", "42001") - expired0; got != 1 {
		t.Errorf("42001 counted %v times, want 1", got)
	}
	// No answer at all: "transport".
	dead := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: "http://127.0.0.1:1"})
	transport0 := count("gettoken", "transport")
	if _, err := dead.SendMsg(ctx, wechat.KfSend{ToUser: "wmE", OpenKfID: fakewechat.DefaultOpenKfID, MsgID: "x1", Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: "x"}}); err == nil {
		t.Fatal("a send to nowhere succeeded")
	}
	if got := count("gettoken", "transport") - transport0; got != 1 {
		t.Errorf("transport errors of gettoken counted %v times, want 1", got)
	}
}
