package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// realKfID is the fake's kf account in these tests: not the simulator's default,
// so that a side using the wrong account is caught.
const realKfID = "wkREALACCOUNT0000000000000000001"

// recorder is the bridge as the side sees it: it records what it is asked.
type recorder struct {
	mu       sync.Mutex
	pulls    []string // account/token
	accepted []bridge.Inbound
}

func (r *recorder) PullRequested(_ context.Context, account, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls = append(r.pulls, account+"/"+token)
	return nil
}

func (r *recorder) Accept(_ context.Context, in bridge.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted = append(r.accepted, in)
	return nil
}

// mediaStore keeps media in memory, as *storage.DB does in the database.
type mediaStore struct {
	mu    sync.Mutex
	items map[string]storedMedia
}

type storedMedia struct {
	company, contentType, fileName string
	data                           []byte
}

func newMediaStore() *mediaStore { return &mediaStore{items: map[string]storedMedia{}} }

func (m *mediaStore) PutMedia(_ context.Context, company, contentType, fileName string, data []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ref := fmt.Sprintf("ref%d", len(m.items)+1)
	m.items[ref] = storedMedia{company, contentType, fileName, append([]byte(nil), data...)}
	return ref, nil
}

func (m *mediaStore) Media(_ context.Context, ref string) (string, string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref]
	if !ok {
		return "", "", nil, fmt.Errorf("%w: media %s", bridge.ErrNotFound, ref)
	}
	return it.contentType, it.fileName, it.data, nil
}

func (m *mediaStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// sideEnv is a fake WeChat of one product and a side over a client of it.
type sideEnv struct {
	fake   *fakewechat.Server
	api    *httptest.Server
	side   *wechat.Side
	bridge *recorder
	media  *mediaStore
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newSideEnv(t *testing.T, mode wechat.Source) *sideEnv {
	t.Helper()
	fake, err := fakewechat.New(fakewechat.Config{CorpID: corpID, KfSecret: secret, AppID: appID, AppSecret: appSec,
		CallbackToken: cbTok, EncodingAESKey: aesKey, Mode: mode, OpenKfID: realKfID})
	if err != nil {
		t.Fatal(err)
	}
	e := &sideEnv{fake: fake, api: httptest.NewServer(fake), bridge: &recorder{}, media: newMediaStore()}
	t.Cleanup(e.api.Close)
	e.side = e.newSide(t, mode, e.api.URL, realKfID, nil)
	return e
}

// newSide builds a side against base, with hc (nil: a 2 s client).
func (e *sideEnv) newSide(t *testing.T, mode wechat.Source, base, openKfID string, hc *http.Client) *wechat.Side {
	t.Helper()
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Second}
	}
	opts := wechat.ClientOptions{BaseURL: base, HTTPClient: hc}
	cfg := wechat.SideConfig{Bridge: e.bridge, Media: e.media, Company: "acme", Logger: quiet()}
	if mode == wechat.SourceOfficialAccount {
		cfg.OA = wechat.NewOAClient(appID, appSec, opts)
	} else {
		cfg.Kf, cfg.OpenKfID = wechat.NewKfClient(corpID, secret, opts), openKfID
	}
	side, err := wechat.NewSide(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return side
}

// consumerWrites makes the consumer open a send window (callbacks go nowhere).
func (e *sideEnv) consumerWrites(t *testing.T, consumer string) {
	t.Helper()
	if _, err := e.fake.ConsumerSends(context.Background(), consumer, "hello"); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
		t.Fatal(err)
	}
}

func (e *sideEnv) store(t *testing.T, kind, name string, data []byte) bridge.Content {
	t.Helper()
	ref, err := e.media.PutMedia(context.Background(), "acme", http.DetectContentType(data), name, data)
	if err != nil {
		t.Fatal(err)
	}
	return bridge.Content{MediaKind: kind, MediaRef: ref, FileName: name}
}

func TestNewSideChecksItsConfig(t *testing.T) {
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{})
	oa := wechat.NewOAClient(appID, appSec, wechat.ClientOptions{})
	b, m := &recorder{}, newMediaStore()
	for _, tc := range []struct {
		name string
		cfg  wechat.SideConfig
		ok   bool
	}{
		{"kf", wechat.SideConfig{Kf: kf, OpenKfID: realKfID, Bridge: b, Media: m}, true},
		{"official account", wechat.SideConfig{OA: oa, Bridge: b, Media: m}, true},
		{"kf without account", wechat.SideConfig{Kf: kf, Bridge: b, Media: m}, false},
		{"both clients", wechat.SideConfig{Kf: kf, OA: oa, OpenKfID: realKfID, Bridge: b, Media: m}, false},
		{"no client", wechat.SideConfig{Bridge: b, Media: m}, false},
		{"no bridge", wechat.SideConfig{OA: oa, Media: m}, false},
	} {
		if _, err := wechat.NewSide(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestSideCanSend(t *testing.T) {
	kf := newSideEnv(t, wechat.SourceKf).side
	oa := newSideEnv(t, wechat.SourceOfficialAccount).side
	for _, tc := range []struct {
		kind     string
		kf, oa   bool
		oaReason string
	}{
		{"", true, true, ""},
		{"image", true, true, ""},
		{"voice", true, true, ""},
		{"video", true, true, ""},
		{"file", true, false, "no files"},
		{"sticker", false, false, "no message type"},
	} {
		body := bridge.Content{Text: "x"}
		if tc.kind != "" {
			body = bridge.Content{MediaKind: tc.kind, MediaRef: "r1"}
		}
		if err := kf.CanSend(body); (err == nil) != tc.kf || err != nil && !errors.Is(err, bridge.ErrUnsupportedContent) {
			t.Errorf("kf %q: %v", tc.kind, err)
		}
		err := oa.CanSend(body)
		if (err == nil) != tc.oa || err != nil && (!errors.Is(err, bridge.ErrUnsupportedContent) || !strings.Contains(err.Error(), tc.oaReason)) {
			t.Errorf("official account %q: %v", tc.kind, err)
		}
	}
}

// Media goes out as the kind it is, uploaded with media/upload of that type, and
// WeChat delivers it with its file name.
func TestSideSendsMedia(t *testing.T) {
	files := []struct {
		kind, name string
		data       []byte
	}{
		{"image", "cat.png", []byte("\x89PNG\r\n\x1a\n a picture")},
		{"voice", "hello.amr", []byte("#!AMR\n a voice message")},
		{"video", "clip.mp4", []byte("\x00\x00\x00\x18ftypmp42 a video")},
		{"file", "report.pdf", []byte("%PDF-1.4 a report")},
	}
	for _, mode := range []wechat.Source{wechat.SourceKf, wechat.SourceOfficialAccount} {
		t.Run(string(mode), func(t *testing.T) {
			e := newSideEnv(t, mode)
			ctx := context.Background()
			e.consumerWrites(t, "c1")
			var want []string
			for i, f := range files {
				body := e.store(t, f.kind, f.name, f.data)
				err := e.side.Send(ctx, bridge.OutboundMessage{ID: bridge.MessageID(fmt.Sprintf("m-%d", i)), Consumer: "c1", Account: fakewechat.DefaultOpenKfID, Body: body})
				if mode == wechat.SourceOfficialAccount && f.kind == "file" {
					if !errors.Is(err, bridge.ErrPermanent) || !errors.Is(err, bridge.ErrUnsupportedContent) {
						t.Errorf("a file on an Official Account: %v, want a permanent refusal", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", f.kind, err)
				}
				want = append(want, f.kind+" "+f.name)
			}
			var got []string
			for _, d := range e.fake.Inbox("c1") {
				got = append(got, d.Kind+" "+d.FileName)
				if _, _, data, ok := e.fake.Media(d.MediaID); !ok || !bytes.Contains(data, []byte(" a ")) {
					t.Errorf("%s: media %s not the uploaded bytes", d.Kind, d.MediaID)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("delivered %v, want %v", got, want)
			}
		})
	}
}

// Sends, links and session changes use the side's account, whatever account an
// older thread record names.
func TestSideUsesItsOwnKfAccount(t *testing.T) {
	e := newSideEnv(t, wechat.SourceKf)
	ctx := context.Background()
	e.consumerWrites(t, "c1")
	if err := e.side.Send(ctx, bridge.OutboundMessage{ID: "t1-1", Consumer: "c1", Account: fakewechat.DefaultOpenKfID, Body: bridge.Content{Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	link, err := e.side.ContactLink(ctx, fakewechat.DefaultOpenKfID, "emp1", "t42")
	if err != nil || !strings.Contains(link, "scene_param=t42") {
		t.Fatalf("link %q %v", link, err)
	}
	if err := e.side.EndSession(ctx, fakewechat.DefaultOpenKfID, "c1"); err != nil {
		t.Fatal(err)
	}

	wrong := e.newSide(t, wechat.SourceKf, e.api.URL, fakewechat.DefaultOpenKfID, nil)
	e.consumerWrites(t, "c2")
	for name, err := range map[string]error{
		"send":        wrong.Send(ctx, bridge.OutboundMessage{ID: "t2-1", Consumer: "c2", Body: bridge.Content{Text: "hi"}}),
		"end session": wrong.EndSession(ctx, "", "c2"),
		"link":        func() error { _, err := wrong.ContactLink(ctx, "", "emp1", ""); return err }(),
		"pull":        func() error { _, err := wrong.Pull(ctx, "", "", ""); return err }(),
	} {
		if !errors.Is(err, wechat.ErrInvalidAccount) || !errors.Is(err, bridge.ErrPermanent) {
			t.Errorf("%s on an account WeChat does not know: %v, want a permanent ErrInvalidAccount", name, err)
		}
	}
}

func TestSideSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     fakewechat.Fault
		reason    bridge.FailReason // a *bridge.SendError with this reason
		permanent bool
		retryWait bool
	}{
		{name: "count limit", fault: fakewechat.Fault{Errcode: 95001}, reason: bridge.FailCountUsed},
		{name: "window closed", fault: fakewechat.Fault{Errcode: 95002}, reason: bridge.FailWindowClosed},
		{name: "session ended", fault: fakewechat.Fault{Errcode: 95013}, reason: bridge.FailSessionEnded},
		{name: "session state", fault: fakewechat.Fault{Errcode: 95018}, reason: bridge.FailSessionEnded},
		{name: "rate limited", fault: fakewechat.Fault{Errcode: 45009}, retryWait: true},
		{name: "invalid external_userid", fault: fakewechat.Fault{Errcode: 40096}, permanent: true},
		{name: "invalid open_kfid", fault: fakewechat.Fault{Errcode: 95000}, permanent: true},
		{name: "api unauthorized", fault: fakewechat.Fault{Errcode: 48002}, permanent: true},
		{name: "invalid media_id", fault: fakewechat.Fault{Errcode: 40007}, permanent: true},
		{name: "content rejected", fault: fakewechat.Fault{Errcode: 87014}, permanent: true},
		{name: "system busy", fault: fakewechat.Fault{Errcode: -1}},
		{name: "bad gateway", fault: fakewechat.Fault{HTTPStatus: 502}},
	}
	e := newSideEnv(t, wechat.SourceKf)
	ctx := context.Background()
	e.consumerWrites(t, "c1")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault.Path = "/cgi-bin/kf/send_msg"
			e.fake.InjectFault(tt.fault)
			err := e.side.Send(ctx, bridge.OutboundMessage{ID: bridge.MessageID(fmt.Sprintf("e-%d", i)), Consumer: "c1", Body: bridge.Content{Text: "x"}})
			var se *bridge.SendError
			var ra *bridge.RetryAfterError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.reason != "":
				if !errors.As(err, &se) || se.Reason != tt.reason {
					t.Fatalf("%v, want a SendError %s", err, tt.reason)
				}
			case tt.retryWait:
				if !errors.As(err, &ra) || ra.Wait <= 0 {
					t.Fatalf("%v, want a RetryAfterError", err)
				}
			case tt.permanent:
				if !errors.Is(err, bridge.ErrPermanent) || errors.As(err, &se) {
					t.Fatalf("%v, want permanent", err)
				}
			default:
				if errors.Is(err, bridge.ErrPermanent) || errors.As(err, &se) || !errors.Is(err, wechat.ErrTransient) {
					t.Fatalf("%v, want transient", err)
				}
			}
		})
	}
	if n := len(e.fake.Inbox("c1")); n != 0 {
		t.Fatalf("refused sends delivered %d", n)
	}
	// Media that is gone from our store can never be sent.
	err := e.side.Send(ctx, bridge.OutboundMessage{ID: "gone-1", Consumer: "c1", Body: bridge.Content{MediaKind: "image", MediaRef: "nope"}})
	if !errors.Is(err, bridge.ErrPermanent) {
		t.Fatalf("missing media: %v", err)
	}
}

// An Official Account send has no msgid: a send that may have arrived is reported,
// never repeated; one that never left is retried.
func TestSideOfficialAccountSendIsNeverRepeated(t *testing.T) {
	e := newSideEnv(t, wechat.SourceOfficialAccount)
	ctx := context.Background()
	e.consumerWrites(t, "o1")
	// The send takes effect, then the connection drops before the answer.
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cgi-bin/message/custom/send" {
			e.fake.ServeHTTP(w, r)
			return
		}
		e.fake.ServeHTTP(httptest.NewRecorder(), r)
		hijackAndClose(t, w)
	}))
	defer drop.Close()
	side := e.newSide(t, wechat.SourceOfficialAccount, drop.URL, "", nil)
	msg := bridge.OutboundMessage{ID: "t-1", Consumer: "o1", Body: bridge.Content{Text: "hello"}}
	var se *bridge.SendError
	if err := side.Send(ctx, msg); !errors.As(err, &se) || se.Reason != bridge.FailTransient {
		t.Fatalf("a send that may have arrived must be final, got %v", err)
	}
	if n := len(e.fake.Inbox("o1")); n != 1 {
		t.Fatalf("the consumer got %d messages, want 1", n)
	}
	down := e.newSide(t, wechat.SourceOfficialAccount, "http://127.0.0.1:1", "", nil)
	if err := down.Send(ctx, msg); err == nil || errors.As(err, &se) || errors.Is(err, bridge.ErrPermanent) {
		t.Fatalf("a send that never left must be retried (plain error), got %v", err)
	}
}

// hijackAndClose drops the connection without an answer.
func hijackAndClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

// A kf pull downloads the consumer's media (a pull is already a job) and stores
// it with its file name.
func TestSidePullFetchesMedia(t *testing.T) {
	e := newSideEnv(t, wechat.SourceKf)
	ctx := context.Background()
	sent := map[string]string{"image": "cat.png", "voice": "hi.amr", "video": "clip.mp4", "file": "terms.pdf"}
	for _, kind := range []string{"image", "voice", "video", "file"} {
		if _, err := e.fake.ConsumerSendsMedia(ctx, "c1", kind, sent[kind], []byte(kind+" bytes")); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
			t.Fatal(err)
		}
	}
	b, err := e.side.Pull(ctx, realKfID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Messages) != 4 {
		t.Fatalf("pulled %+v", b.Messages)
	}
	for _, in := range b.Messages {
		k := in.Body.MediaKind
		_, name, data, err := e.media.Media(ctx, in.Body.MediaRef)
		if err != nil || in.Media != nil || name != sent[k] || in.Body.FileName != sent[k] || string(data) != k+" bytes" || in.Account != realKfID {
			t.Errorf("%s: %+v stored %q %q %v", k, in, name, data, err)
		}
	}
}

func TestSidePullNotesMediaWeChatWillNotHandOut(t *testing.T) {
	e := newSideEnv(t, wechat.SourceKf)
	ctx := context.Background()
	if _, err := e.fake.ConsumerSendsImage(ctx, "c1", "cat.png", []byte("\x89PNG\r\n\x1a\n")); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
		t.Fatal(err)
	}
	e.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/media/get", HTTPStatus: 502})
	if _, err := e.side.Pull(ctx, realKfID, "", ""); err == nil || errors.Is(err, bridge.ErrPermanent) {
		t.Fatalf("a passing media failure must fail the pull for a retry: %v", err)
	}
	e.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/media/get", Errcode: 40007})
	b, err := e.side.Pull(ctx, realKfID, "", "")
	if err != nil || len(b.Messages) != 1 {
		t.Fatalf("pull %+v %v", b, err)
	}
	if in := b.Messages[0]; in.Body.MediaRef != "" || in.Media != nil || !strings.Contains(in.Body.Text, "image could not be downloaded") {
		t.Fatalf("message %+v", in)
	}
}

// Official Account callbacks carry the message: it is accepted as a job, its
// media named but not downloaded; the job fetches it later (a video through the
// video_url WeChat answers with).
func TestSideOfficialAccountCallbackAcceptsWithoutDownloading(t *testing.T) {
	e := newSideEnv(t, wechat.SourceOfficialAccount)
	ctx := context.Background()
	h, err := wechat.NewCallbackHandler(wechat.CallbackConfig{Mode: wechat.SourceOfficialAccount, Token: cbTok, EncodingAESKey: aesKey,
		ReceiveID: appID, Sink: e.side, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	cb := httptest.NewServer(h)
	defer cb.Close()
	e.fake.SetCallbackURL(cb.URL)
	if _, err := e.fake.ConsumerSends(ctx, "o1", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.ConsumerSendsMedia(ctx, "o1", "video", "clip.mp4", []byte("a video")); err != nil {
		t.Fatal(err)
	}
	e.bridge.mu.Lock()
	got := append([]bridge.Inbound(nil), e.bridge.accepted...)
	e.bridge.mu.Unlock()
	if len(got) != 2 || got[0].Body.Text != "hello" || got[1].Media == nil || got[1].Media.Kind != "video" || got[1].Consumer != "o1" {
		t.Fatalf("accepted %+v", got)
	}
	if n := e.media.len(); n != 0 {
		t.Fatalf("the callback downloaded %d media", n)
	}
	body, err := e.side.FetchMedia(ctx, got[1].Account, *got[1].Media)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, data, err := e.media.Media(ctx, body.MediaRef); err != nil || string(data) != "a video" || body.MediaKind != "video" {
		t.Fatalf("fetched %+v %q %v", body, data, err)
	}
	if _, err := e.side.FetchMedia(ctx, "", bridge.PendingMedia{Kind: "image", MediaID: "nope"}); !errors.Is(err, bridge.ErrPermanent) {
		t.Fatalf("unknown media_id: %v, want permanent", err)
	}
}

func TestSideProfile(t *testing.T) {
	ctx := context.Background()
	t.Run("official account", func(t *testing.T) {
		e := newSideEnv(t, wechat.SourceOfficialAccount)
		e.consumerWrites(t, "o1")
		e.fake.SetProfile("o1", fakewechat.Profile{Nickname: "小明", Language: "zh_CN", AvatarURL: "http://wx.qlogo.cn/o1/0"})
		p, err := e.side.Profile(ctx, appID, "o1")
		if err != nil || p != (bridge.Profile{Name: "小明", Language: "zh_CN", AvatarURL: "http://wx.qlogo.cn/o1/0"}) {
			t.Fatalf("profile %+v %v", p, err)
		}
		if _, err := e.side.Profile(ctx, appID, "stranger"); !errors.Is(err, wechat.ErrInvalidConsumer) {
			t.Fatalf("unknown openid: %v", err)
		}
	})
	t.Run("kf", func(t *testing.T) {
		e := newSideEnv(t, wechat.SourceKf)
		e.consumerWrites(t, "c1")
		e.fake.SetProfile("c1", fakewechat.Profile{Nickname: "Ann", Language: "en", AvatarURL: "http://wx.qlogo.cn/c1/0"})
		p, err := e.side.Profile(ctx, realKfID, "c1")
		if err != nil || p != (bridge.Profile{Name: "Ann", AvatarURL: "http://wx.qlogo.cn/c1/0"}) {
			t.Fatalf("profile %+v %v (kf reports no language)", p, err)
		}
		if _, err := e.side.Profile(ctx, realKfID, "stranger"); !errors.Is(err, wechat.ErrInvalidConsumer) || !errors.Is(err, bridge.ErrPermanent) {
			t.Fatalf("unknown external_userid: %v", err)
		}
	})
}

// countingTransport counts the requests to one path.
type countingTransport struct {
	path string
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == c.path {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Profiles asks kf's customer/batchget in batches of 100 (WeChat refuses more),
// so a page of 150 new consumers costs two calls; strangers are left out.
func TestSideProfilesInBatches(t *testing.T) {
	ctx := context.Background()
	e := newSideEnv(t, wechat.SourceKf)
	calls := &countingTransport{path: "/cgi-bin/kf/customer/batchget"}
	side := e.newSide(t, wechat.SourceKf, e.api.URL, realKfID, &http.Client{Timeout: 2 * time.Second, Transport: calls})
	var ids []bridge.ConsumerID
	for i := range 150 {
		c := fmt.Sprintf("wm%03d", i)
		e.consumerWrites(t, c)
		e.fake.SetProfile(c, fakewechat.Profile{Nickname: "Consumer " + c, AvatarURL: "http://wx.qlogo.cn/" + c + "/0"})
		ids = append(ids, bridge.ConsumerID(c))
	}
	got, err := side.Profiles(ctx, realKfID, append(ids, "stranger"))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.n.Load(); n != 2 {
		t.Errorf("customer/batchget calls = %d, want 2", n)
	}
	if len(got) != 150 || got["wm149"] != (bridge.Profile{Name: "Consumer wm149", AvatarURL: "http://wx.qlogo.cn/wm149/0"}) {
		t.Fatalf("profiles: %d, wm149 = %+v", len(got), got["wm149"])
	}
	if _, ok := got["stranger"]; ok {
		t.Error("a stranger has a profile")
	}

	oa := newSideEnv(t, wechat.SourceOfficialAccount)
	oa.consumerWrites(t, "o1")
	oa.fake.SetProfile("o1", fakewechat.Profile{Nickname: "小明", Language: "zh_CN"})
	op, err := oa.side.Profiles(ctx, appID, []bridge.ConsumerID{"o1", "stranger"})
	if err != nil || len(op) != 1 || op["o1"] != (bridge.Profile{Name: "小明", Language: "zh_CN"}) {
		t.Fatalf("official account profiles = %+v, %v", op, err)
	}
}

func TestSideCallbacksForOtherKfAccountsAreIgnored(t *testing.T) {
	e := newSideEnv(t, wechat.SourceKf)
	ctx := context.Background()
	for _, acct := range []string{realKfID, "wkSOMEOTHERACCOUNT", realKfID} {
		if err := e.side.PullRequested(ctx, wechat.PullRequest{OpenKfID: acct, Token: "tok-" + acct}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(e.bridge.pulls, ","); got != realKfID+"/tok-"+realKfID+","+realKfID+"/tok-"+realKfID {
		t.Fatalf("pulls %s", got)
	}
}

// tokenDB is a TokenStore as *storage.DB behaves: bridge.ErrNotFound when empty.
type tokenDB struct {
	token   string
	expires time.Time
	fail    error
}

func (d *tokenDB) Token(context.Context, string) (string, time.Time, error) {
	if d.fail != nil {
		return "", time.Time{}, d.fail
	}
	if d.token == "" {
		return "", time.Time{}, fmt.Errorf("%w: token", bridge.ErrNotFound)
	}
	return d.token, d.expires, nil
}

func (d *tokenDB) PutToken(_ context.Context, _, token string, expires time.Time) error {
	d.token, d.expires = token, expires
	return nil
}

func TestSharedTokenCache(t *testing.T) {
	ctx := context.Background()
	db := &tokenDB{}
	c := wechat.NewSharedTokenCache(db)
	if _, ok, err := c.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	exp := time.Unix(1700000000, 0)
	if err := c.Put(ctx, "k", wechat.Token{Value: "v", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if tok, ok, err := c.Get(ctx, "k"); !ok || err != nil || tok.Value != "v" || !tok.ExpiresAt.Equal(exp) {
		t.Fatalf("got %+v %v %v", tok, ok, err)
	}
	db.fail = errors.New("db down")
	if _, _, err := c.Get(ctx, "k"); err == nil {
		t.Fatal("a database failure is not a cache miss")
	}
}
