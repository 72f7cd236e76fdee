package wechat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

const (
	corpID = "wwFAKECORP"
	secret = "kf-secret"
	appID  = "wxFAKEAPP"
	appSec = "app-secret"
	cbTok  = "cbtoken"
	aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

type sink struct {
	mu    sync.Mutex
	pulls []wechat.PullRequest
	msgs  []wechat.Message
}

func (s *sink) PullRequested(_ context.Context, p wechat.PullRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls = append(s.pulls, p)
	return nil
}

func (s *sink) Received(_ context.Context, m wechat.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sink) lastPull(t *testing.T) wechat.PullRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pulls) == 0 {
		t.Fatal("no pull request reached the sink")
	}
	return s.pulls[len(s.pulls)-1]
}

// env is a fake WeChat, our callback endpoint pointed at by it, and clients.
type env struct {
	fake      *fakewechat.Server
	sink      *sink
	kf        *wechat.KfClient
	oa        *wechat.OAClient
	tokenHits atomic.Int32
	apiURL    string
}

func newEnv(t *testing.T, mode wechat.Source, key string, clientTimeout time.Duration) *env {
	t.Helper()
	e := &env{sink: &sink{}}
	fake, err := fakewechat.New(fakewechat.Config{CorpID: corpID, KfSecret: secret, AppID: appID, AppSecret: appSec,
		CallbackToken: cbTok, EncodingAESKey: key, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	e.fake = fake
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/gettoken") || r.URL.Path == "/cgi-bin/token" {
			e.tokenHits.Add(1)
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	e.apiURL = api.URL
	receiveID := corpID
	if mode == wechat.SourceOfficialAccount {
		receiveID = appID
	}
	h, err := wechat.NewCallbackHandler(wechat.CallbackConfig{Mode: mode, Token: cbTok, EncodingAESKey: key, ReceiveID: receiveID,
		Sink: e.sink, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cb := httptest.NewServer(h)
	t.Cleanup(cb.Close)
	fake.SetCallbackURL(cb.URL)
	opts := wechat.ClientOptions{BaseURL: api.URL, HTTPClient: &http.Client{Timeout: clientTimeout}}
	e.kf = wechat.NewKfClient(corpID, secret, opts)
	e.oa = wechat.NewOAClient(appID, appSec, opts)
	return e
}

func newKfEnv(t *testing.T) *env { return newEnv(t, wechat.SourceKf, aesKey, 2*time.Second) }

// pull syncs everything the last callback announced.
func (e *env) pull(t *testing.T, cursor string) ([]wechat.Message, string) {
	t.Helper()
	p := e.sink.lastPull(t)
	var all []wechat.Message
	next, err := e.kf.SyncAll(context.Background(), wechat.SyncRequest{Cursor: cursor, Token: p.Token, OpenKfID: p.OpenKfID},
		func(_ context.Context, page wechat.SyncPage) error {
			all = append(all, page.Messages...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return all, next
}

func text(msgID, s string) wechat.KfSend {
	return wechat.KfSend{ToUser: "wmCONSUMER", OpenKfID: fakewechat.DefaultOpenKfID, MsgID: msgID,
		Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: s}}
}

func TestKfConsumerMessageReachesSinkAndReplyIsDelivered(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	if _, err := e.fake.ConsumerSends(ctx, "wmCONSUMER", "你好, hello"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := e.pull(t, "")
	if len(msgs) != 1 || msgs[0].Kind != wechat.KindText || msgs[0].Text != "你好, hello" || msgs[0].Consumer != "wmCONSUMER" ||
		msgs[0].Origin != wechat.OriginConsumer || msgs[0].Account != fakewechat.DefaultOpenKfID {
		t.Fatalf("synced %+v", msgs)
	}
	id, err := e.kf.SendMsg(ctx, text("reply-1", "hi there"))
	if err != nil || id != "reply-1" {
		t.Fatalf("send: %q %v", id, err)
	}
	inbox := e.fake.Inbox("wmCONSUMER")
	if len(inbox) != 1 || inbox[0].Text != "hi there" || inbox[0].MsgID != "reply-1" {
		t.Fatalf("inbox %+v", inbox)
	}
}

func TestKfSendLimits(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	if _, err := e.kf.SendMsg(ctx, text("before", "x")); err == nil {
		t.Fatal("send to an unknown consumer succeeded")
	}
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	for i := range 5 {
		if _, err := e.kf.SendMsg(ctx, text("s"+string(rune('a'+i)), "ok")); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	_, err := e.kf.SendMsg(ctx, text("s6", "one too many"))
	var apiErr *wechat.APIError
	if !errors.Is(err, wechat.ErrCountLimit) || !errors.As(err, &apiErr) || apiErr.Code != 95001 {
		t.Fatalf("6th send: %v", err)
	}
	// A consumer message resets the count.
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "again")
	if _, err := e.kf.SendMsg(ctx, text("s7", "ok")); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(48*time.Hour + time.Minute)
	_, err = e.kf.SendMsg(ctx, text("s8", "too late"))
	if !errors.Is(err, wechat.ErrWindowClosed) || !errors.As(err, &apiErr) || apiErr.Code != 95002 {
		t.Fatalf("after 48 h: %v", err)
	}
	if got := len(e.fake.Inbox("wmCONSUMER")); got != 6 {
		t.Fatalf("consumer received %d, want 6", got)
	}
}

func TestKfTokenExpiryRefreshesTransparently(t *testing.T) {
	e := newKfEnv(t) // the client keeps real time: it believes its token is still fresh
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	if _, err := e.kf.SendMsg(ctx, text("t1", "one")); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(3 * time.Hour) // the fake's token expired: it answers 42001
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "still here")
	if _, err := e.kf.SendMsg(ctx, text("t2", "two")); err != nil {
		t.Fatalf("send after expiry: %v", err)
	}
	if got := e.tokenHits.Load(); got != 2 {
		t.Fatalf("gettoken called %d times, want 2", got)
	}
	if n := len(e.fake.Inbox("wmCONSUMER")); n != 2 {
		t.Fatalf("inbox has %d", n)
	}
}

func TestKfTokenRefreshedBeforeExpiry(t *testing.T) {
	e := newKfEnv(t)
	e.kf = wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: e.apiURL, Now: e.fake.Now})
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	_, _ = e.kf.SendMsg(ctx, text("r1", "one"))
	e.fake.Advance(2*time.Hour - 2*time.Minute) // inside the refresh margin, not yet expired
	if _, err := e.kf.SendMsg(ctx, text("r2", "two")); err != nil {
		t.Fatal(err)
	}
	if got := e.tokenHits.Load(); got != 2 {
		t.Fatalf("gettoken called %d times, want 2 (proactive refresh)", got)
	}
}

func TestKfTimedOutSendRetriedIsDeliveredOnce(t *testing.T) {
	e := newEnv(t, wechat.SourceKf, aesKey, 300*time.Millisecond)
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	e.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/kf/send_msg", Delay: time.Second})
	_, err := e.kf.SendMsg(ctx, text("job-42", "exactly once"))
	if !errors.Is(err, wechat.ErrTransient) {
		t.Fatalf("first attempt: %v, want ErrTransient", err)
	}
	if _, err := e.kf.SendMsg(ctx, text("job-42", "exactly once")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	inbox := e.fake.Inbox("wmCONSUMER")
	if len(inbox) != 1 || inbox[0].MsgID != "job-42" {
		t.Fatalf("inbox %+v, want exactly one delivery", inbox)
	}
	// The dedup'd retry did not use a second send slot.
	for i := range 4 {
		if _, err := e.kf.SendMsg(ctx, text("more"+string(rune('a'+i)), "x")); err != nil {
			t.Fatalf("send %d: %v", i+2, err)
		}
	}
	if _, err := e.kf.SendMsg(ctx, text("sixth", "x")); !errors.Is(err, wechat.ErrCountLimit) {
		t.Fatalf("6th: %v", err)
	}
}

func TestKfErrorMapping(t *testing.T) {
	tests := []struct {
		fault fakewechat.Fault
		want  error
	}{
		{fakewechat.Fault{Errcode: 45009}, wechat.ErrRateLimited},
		{fakewechat.Fault{Errcode: 45033}, wechat.ErrRateLimited},
		{fakewechat.Fault{Errcode: -1}, wechat.ErrTransient},
		{fakewechat.Fault{HTTPStatus: 502}, wechat.ErrTransient},
		{fakewechat.Fault{Errcode: 95018}, wechat.ErrSessionEnded},
	}
	e := newKfEnv(t)
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	for _, tt := range tests {
		tt.fault.Path = "/cgi-bin/kf/send_msg"
		e.fake.InjectFault(tt.fault)
		if _, err := e.kf.SendMsg(ctx, text("m1", "x")); !errors.Is(err, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.fault, err, tt.want)
		}
	}
	if n := len(e.fake.Inbox("wmCONSUMER")); n != 0 {
		t.Fatalf("failed sends delivered %d", n)
	}
}

func TestKfValidation(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	tests := []struct {
		send wechat.KfSend
		want error
	}{
		{text("", "x"), wechat.ErrInvalidMsgID},
		{text(strings.Repeat("a", 33), "x"), wechat.ErrInvalidMsgID},
		{text("bad id!", "x"), wechat.ErrInvalidMsgID},
		{text("ok", strings.Repeat("字", 683)), wechat.ErrTextTooLong},
	}
	for _, tt := range tests {
		if _, err := e.kf.SendMsg(ctx, tt.send); !errors.Is(err, tt.want) {
			t.Errorf("%q: %v", tt.send.MsgID, err)
		}
	}
	if got := e.tokenHits.Load(); got != 0 {
		t.Fatalf("invalid requests reached WeChat (%d token fetches)", got)
	}
}

func TestKfMsgSendFailEvent(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	_, cursor := e.pull(t, "")
	e.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/kf/send_msg", FailType: wechat.FailTypeRejected})
	if _, err := e.kf.SendMsg(ctx, text("will-fail", "x")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		e.sink.mu.Lock()
		n := len(e.sink.pulls)
		e.sink.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	msgs, _ := e.pull(t, cursor)
	if len(msgs) != 1 || msgs[0].Kind != wechat.KindSendFailed || msgs[0].FailMsgID != "will-fail" || msgs[0].FailType != wechat.FailTypeRejected {
		t.Fatalf("synced %+v", msgs)
	}
	if n := len(e.fake.Inbox("wmCONSUMER")); n != 0 {
		t.Fatalf("failed message delivered")
	}
}

func TestKfSyncPaging(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	words := []string{"one", "two", "three", "four", "five"}
	for _, w := range words {
		_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", w)
	}
	pages := 0
	var got []string
	next, err := e.kf.SyncAll(ctx, wechat.SyncRequest{Limit: 2, Token: e.sink.lastPull(t).Token}, func(_ context.Context, p wechat.SyncPage) error {
		pages++
		for _, m := range p.Messages {
			got = append(got, m.Text)
		}
		return nil
	})
	if err != nil || pages != 3 || strings.Join(got, ",") != strings.Join(words, ",") {
		t.Fatalf("pages %d got %v err %v", pages, got, err)
	}
	// Resuming from the returned cursor yields nothing new.
	page, err := e.kf.SyncMsg(ctx, wechat.SyncRequest{Cursor: next})
	if err != nil || len(page.Messages) != 0 || page.HasMore {
		t.Fatalf("resume: %+v %v", page, err)
	}
	// A failing handler stops at the last good cursor.
	calls := 0
	stop, err := e.kf.SyncAll(ctx, wechat.SyncRequest{Limit: 2}, func(context.Context, wechat.SyncPage) error {
		calls++
		if calls == 2 {
			return errors.New("db down")
		}
		return nil
	})
	if err == nil || stop != "c2" {
		t.Fatalf("stop cursor %q err %v", stop, err)
	}
}

func TestKfContactLinkEnterSessionAndWelcome(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	link, err := e.kf.AddContactWay(ctx, fakewechat.DefaultOpenKfID, "emp-alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.kf.AddContactWay(ctx, fakewechat.DefaultOpenKfID, "bad scene!"); !errors.Is(err, wechat.ErrInvalidScene) {
		t.Fatalf("bad scene: %v", err)
	}
	optIn, err := wechat.ContactLinkWithParam(link, "req-17")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Arrive(ctx, "wmNEW", optIn, "", ""); err != nil {
		t.Fatal(err)
	}
	msgs, _ := e.pull(t, "")
	if len(msgs) != 1 || msgs[0].Kind != wechat.KindEnterSession || msgs[0].Scene != "emp-alice" ||
		msgs[0].SceneParam != "req-17" || msgs[0].WelcomeCode == "" || msgs[0].Consumer != "wmNEW" {
		t.Fatalf("synced %+v", msgs)
	}
	welcome := wechat.Outgoing{Kind: wechat.KindText, Text: "Welcome"}
	if _, err := e.kf.SendOnEvent(ctx, msgs[0].WelcomeCode, "welcome-1", welcome); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kf.SendOnEvent(ctx, msgs[0].WelcomeCode, "welcome-2", welcome); err == nil {
		t.Fatal("a welcome code worked twice")
	}
	// Arriving is not writing: send_msg is still outside the window.
	if _, err := e.kf.SendMsg(ctx, wechat.KfSend{ToUser: "wmNEW", OpenKfID: fakewechat.DefaultOpenKfID, MsgID: "early",
		Outgoing: welcome}); !errors.Is(err, wechat.ErrWindowClosed) {
		t.Fatalf("send before the consumer wrote: %v", err)
	}
	if inbox := e.fake.Inbox("wmNEW"); len(inbox) != 1 || inbox[0].Via != "kf/send_msg_on_event" {
		t.Fatalf("inbox %+v", inbox)
	}
}

func TestKfServiceState(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi")
	st, _, err := e.kf.ServiceStateGet(ctx, fakewechat.DefaultOpenKfID, "wmCONSUMER")
	if err != nil || st != wechat.StateUntreated {
		t.Fatalf("state %d %v", st, err)
	}
	if _, err := e.kf.ServiceStateTrans(ctx, fakewechat.DefaultOpenKfID, "wmCONSUMER", wechat.StateServicer, "zhangsan"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kf.SendMsg(ctx, text("a", "x")); !errors.Is(err, wechat.ErrSessionEnded) {
		t.Fatalf("servicer state: %v", err)
	}
	if _, err := e.kf.ServiceStateTrans(ctx, fakewechat.DefaultOpenKfID, "wmCONSUMER", wechat.StateEnded, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.kf.SendMsg(ctx, text("b", "x"))
	var apiErr *wechat.APIError
	if !errors.Is(err, wechat.ErrSessionEnded) || !errors.As(err, &apiErr) || apiErr.Code != 95013 {
		t.Fatalf("ended: %v", err)
	}
	_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "back again") // reopens a session
	if _, err := e.kf.SendMsg(ctx, text("c", "x")); err != nil {
		t.Fatal(err)
	}
}

func TestKfMedia(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\n fake image bytes")
	if _, err := e.fake.ConsumerSendsImage(ctx, "wmCONSUMER", "cat.png", png); err != nil {
		t.Fatal(err)
	}
	msgs, _ := e.pull(t, "")
	if len(msgs) != 1 || msgs[0].Kind != wechat.KindImage || msgs[0].MediaID == "" {
		t.Fatalf("synced %+v", msgs)
	}
	m, err := e.kf.GetMedia(ctx, msgs[0].MediaID)
	if err != nil || string(m.Data) != string(png) || m.Filename != "cat.png" || m.ContentType != "image/png" {
		t.Fatalf("media %+v %v", m, err)
	}
	if _, err := e.kf.GetMedia(ctx, "nope"); err == nil {
		t.Fatal("unknown media id")
	}
	id, err := e.kf.UploadMedia(ctx, wechat.MediaFile, "report.pdf", strings.NewReader("%PDF-1.4 ..."))
	if err != nil {
		t.Fatal(err)
	}
	send := wechat.KfSend{ToUser: "wmCONSUMER", OpenKfID: fakewechat.DefaultOpenKfID, MsgID: "file-1",
		Outgoing: wechat.Outgoing{Kind: wechat.KindFile, MediaID: id}}
	if _, err := e.kf.SendMsg(ctx, send); err != nil {
		t.Fatal(err)
	}
	if inbox := e.fake.Inbox("wmCONSUMER"); len(inbox) != 1 || inbox[0].Kind != "file" || inbox[0].MediaID != id {
		t.Fatalf("inbox %+v", inbox)
	}
}

func TestOfficialAccount(t *testing.T) {
	for _, mode := range []struct{ name, key string }{{"safe mode", aesKey}, {"plaintext mode", ""}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, wechat.SourceOfficialAccount, mode.key, 2*time.Second)
			ctx := context.Background()
			qr, err := e.oa.CreateQRCode(ctx, "emp-bob", 0)
			if err != nil || qr.Ticket == "" || qr.URL == "" || qr.ExpiresIn != 0 {
				t.Fatalf("permanent qr %+v %v", qr, err)
			}
			tmp, err := e.oa.CreateQRCode(ctx, "optin-5", 7*24*time.Hour)
			if err != nil || tmp.ExpiresIn != 7*24*time.Hour {
				t.Fatalf("temporary qr %+v %v", tmp, err)
			}
			if err := e.fake.Arrive(ctx, "oUSER", "", "emp-bob", ""); err != nil {
				t.Fatal(err)
			}
			if err := e.fake.Arrive(ctx, "oUSER", "", "optin-5", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := e.fake.ConsumerSends(ctx, "oUSER", "hello OA"); err != nil {
				t.Fatal(err)
			}
			e.sink.mu.Lock()
			got := append([]wechat.Message(nil), e.sink.msgs...)
			e.sink.mu.Unlock()
			if len(got) != 3 || got[0].Kind != wechat.KindSubscribe || got[0].Scene != "emp-bob" ||
				got[1].Kind != wechat.KindScan || got[1].Scene != "optin-5" ||
				got[2].Kind != wechat.KindText || got[2].Text != "hello OA" || got[2].Account != appID {
				t.Fatalf("sink got %+v", got)
			}
			for i := range 5 {
				if err := e.oa.SendCustom(ctx, "oUSER", wechat.Outgoing{Kind: wechat.KindText, Text: "r"}); err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
			}
			var apiErr *wechat.APIError
			err = e.oa.SendCustom(ctx, "oUSER", wechat.Outgoing{Kind: wechat.KindText, Text: "r"})
			if !errors.Is(err, wechat.ErrCountLimit) || !errors.As(err, &apiErr) || apiErr.Code != 45047 {
				t.Fatalf("6th: %v", err)
			}
			_, _ = e.fake.ConsumerSends(ctx, "oUSER", "again")
			id, err := e.oa.UploadMedia(ctx, wechat.MediaImage, "a.png", strings.NewReader("\x89PNG\r\n\x1a\nxx"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.oa.SendCustom(ctx, "oUSER", wechat.Outgoing{Kind: wechat.KindImage, MediaID: id}); err != nil {
				t.Fatal(err)
			}
			e.fake.Advance(49 * time.Hour)
			err = e.oa.SendCustom(ctx, "oUSER", wechat.Outgoing{Kind: wechat.KindText, Text: "late"})
			if !errors.Is(err, wechat.ErrWindowClosed) || !errors.As(err, &apiErr) || apiErr.Code != 45015 {
				t.Fatalf("after 48 h: %v", err)
			}
			if n := len(e.fake.Inbox("oUSER")); n != 6 {
				t.Fatalf("inbox %d", n)
			}
		})
	}
}
