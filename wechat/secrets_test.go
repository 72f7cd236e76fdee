package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// tokenSpy serves the fake WeChat and remembers every access token it handed out.
type tokenSpy struct {
	mu     sync.Mutex
	tokens []string
}

func (s *tokenSpy) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

// A connection that drops during a send makes Go's HTTP client print the request
// URL; the error must carry no access_token (nor the secret of the token fetch).
func TestDroppedConnectionErrorsCarryNoSecret(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mode wechat.Source
		drop string // the path whose connection drops
	}{
		{"kf send", wechat.SourceKf, "/cgi-bin/kf/send_msg"},
		{"kf media upload", wechat.SourceKf, "/cgi-bin/media/upload"},
		{"kf media download", wechat.SourceKf, "/cgi-bin/media/get"},
		{"kf token fetch", wechat.SourceKf, "/cgi-bin/gettoken"},
		{"official account send", wechat.SourceOfficialAccount, "/cgi-bin/message/custom/send"},
		{"official account token fetch", wechat.SourceOfficialAccount, "/cgi-bin/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSideEnv(t, tc.mode)
			e.consumerWrites(t, "c1")
			if _, err := e.fake.ConsumerSendsImage(ctx, "c1", "a.png", []byte("\x89PNG\r\n\x1a\nxx")); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
				t.Fatal(err)
			}
			spy := &tokenSpy{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.drop {
					hijackAndClose(t, w)
					return
				}
				rec := httptest.NewRecorder()
				e.fake.ServeHTTP(rec, r)
				if tok := tokenIn(rec.Body.String()); tok != "" {
					spy.mu.Lock()
					spy.tokens = append(spy.tokens, tok)
					spy.mu.Unlock()
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
			}))
			defer srv.Close()
			side := e.newSide(t, tc.mode, srv.URL, realKfID, &http.Client{Timeout: 2 * time.Second})

			var err error
			if strings.Contains(tc.drop, "media/get") {
				_, err = side.FetchMedia(ctx, "", bridge.PendingMedia{Kind: "image", MediaID: "MEDIA_000002"})
			} else {
				body := bridge.Content{Text: "hi"}
				if strings.Contains(tc.drop, "upload") {
					body = e.store(t, "image", "a.png", []byte("\x89PNG\r\n\x1a\nxx"))
				}
				err = side.Send(ctx, bridge.OutboundMessage{ID: "m-1", Consumer: "c1", Body: body})
			}
			if err == nil {
				t.Fatal("no error from a dropped connection")
			}
			if !errors.Is(err, wechat.ErrTransient) && !errors.As(err, new(*bridge.SendError)) {
				t.Errorf("a dropped connection is transient: %v", err)
			}
			secrets := append(spy.seen(), secret, appSec)
			if !strings.Contains(tc.drop, "token") && len(spy.seen()) == 0 {
				t.Fatal("no token was handed out: the test shows nothing")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("error shows secret %q: %s", s, text)
					}
				}
			}
			if !strings.Contains(err.Error(), tc.drop) {
				t.Errorf("the error should still say which call failed: %v", err)
			}
		})
	}
}

// tokenIn finds the access_token of a token answer.
func tokenIn(body string) string {
	const key = `"access_token":"`
	i := strings.Index(body, key)
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

// A base URL that does not parse makes the request constructor quote the URL.
func TestMalformedBaseURLErrorsCarryNoSecret(t *testing.T) {
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: "http://[::1"})
	_, err := kf.ListAccounts(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
		t.Fatalf("error %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=ABC":             "https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=REDACTED",
		"https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3CR3T":    "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=REDACTED",
		"https://api.weixin.qq.com/cgi-bin/token?appid=wx1&grant_type=x&secret=S3CR3T": "https://api.weixin.qq.com/cgi-bin/token?appid=wx1&grant_type=x&secret=REDACTED",
		"https://api.weixin.qq.com/cgi-bin/media/get?media_id=M1":                      "https://api.weixin.qq.com/cgi-bin/media/get?media_id=M1",
		"http://[::1/x?access_token=ABC":                                               "(unparsable url)",
	} {
		if got := wechat.RedactURL(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}
