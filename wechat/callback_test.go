package wechat

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSink records what the handler hands on.
type memSink struct {
	mu    sync.Mutex
	pulls []PullRequest
	msgs  []Message
	err   error
}

func (s *memSink) PullRequested(_ context.Context, p PullRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.pulls = append(s.pulls, p)
	return nil
}

func (s *memSink) Received(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pulls) + len(s.msgs)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const testCorp = "wwTESTCORP"

func kfInner(token string) string {
	return "<xml><ToUserName><![CDATA[" + testCorp + "]]></ToUserName><CreateTime>1700000000</CreateTime>" +
		"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>" +
		"<Token><![CDATA[" + token + "]]></Token><OpenKfId><![CDATA[wkABC]]></OpenKfId></xml>"
}

func newKfHandler(t *testing.T, sink Sink, now time.Time) *CallbackHandler {
	t.Helper()
	h, err := NewCallbackHandler(CallbackConfig{Mode: SourceKf, Token: vecToken, EncodingAESKey: vecAESKey,
		ReceiveID: testCorp, Sink: sink, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, target string, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

func TestKfURLVerificationPublicVector(t *testing.T) {
	h, err := NewCallbackHandler(CallbackConfig{Mode: SourceKf, Token: vecToken, EncodingAESKey: vecAESKey,
		ReceiveID: vecReceiveID, Sink: &memSink{}, Now: func() time.Time { return time.Unix(1409659589, 0) }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"msg_signature": {vecSig}, "timestamp": {vecTimestamp}, "nonce": {vecNonce}, "echostr": {vecEchostr}}
	rec := do(h, http.MethodGet, "/wechat/callback?"+q.Encode(), "")
	if rec.Code != 200 || rec.Body.String() != vecPlain {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	q.Set("msg_signature", strings.Repeat("a", 40))
	if rec := do(h, http.MethodGet, "/wechat/callback?"+q.Encode(), ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", rec.Code)
	}
}

// sealedPost builds a kf POST the way WeChat sends it.
func sealedPost(t *testing.T, c *Cipher, inner string, ts time.Time) (target, body string) {
	t.Helper()
	tsText := strconv.FormatInt(ts.Unix(), 10)
	b, sig, err := c.Seal([]byte(inner), tsText, "12345")
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"msg_signature": {sig}, "timestamp": {tsText}, "nonce": {"12345"}}
	return "/wechat/callback?" + q.Encode(), string(b)
}

func TestKfPostRejections(t *testing.T) {
	now := time.Unix(1700000000, 0)
	good, _ := NewCipher(vecToken, vecAESKey, testCorp)
	otherCorp, _ := NewCipher(vecToken, vecAESKey, "wwOTHER")
	otherToken, _ := NewCipher("othertoken", vecAESKey, testCorp)

	okTarget, okBody := sealedPost(t, good, kfInner("T1"), now)
	staleTarget, staleBody := sealedPost(t, good, kfInner("T1"), now.Add(-6*time.Minute))
	futureTarget, futureBody := sealedPost(t, good, kfInner("T1"), now.Add(6*time.Minute))
	corpTarget, corpBody := sealedPost(t, otherCorp, kfInner("T1"), now)
	tokTarget, tokBody := sealedPost(t, otherToken, kfInner("T1"), now)
	noTokTarget, noTokBody := sealedPost(t, good, kfInner(""), now)
	otherEventTarget, otherEventBody := sealedPost(t, good, "<xml><MsgType>event</MsgType><Event>kf_account_auth_change</Event></xml>", now)

	tests := []struct {
		name         string
		method       string
		target, body string
		want         int
		handedOn     int
	}{
		{"valid", http.MethodPost, okTarget, okBody, 200, 1},
		{"stale timestamp", http.MethodPost, staleTarget, staleBody, 400, 0},
		{"future timestamp", http.MethodPost, futureTarget, futureBody, 400, 0},
		{"other corp", http.MethodPost, corpTarget, corpBody, 400, 0},
		{"signed with another token", http.MethodPost, tokTarget, tokBody, 401, 0},
		{"tampered body", http.MethodPost, okTarget, strings.Replace(okBody, "A", "B", 1), 401, 0},
		{"no Encrypt", http.MethodPost, okTarget, "<xml><ToUserName>x</ToUserName></xml>", 400, 0},
		{"not xml", http.MethodPost, okTarget, "{}", 400, 0},
		{"too large", http.MethodPost, okTarget, strings.Repeat("x", DefaultMaxBody+1), 413, 0},
		{"no timestamp", http.MethodPost, "/wechat/callback?nonce=1", okBody, 400, 0},
		{"pull without token", http.MethodPost, noTokTarget, noTokBody, 400, 0},
		{"other event acknowledged", http.MethodPost, otherEventTarget, otherEventBody, 200, 0},
		{"put", http.MethodPut, okTarget, okBody, 405, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &memSink{}
			rec := do(newKfHandler(t, sink, now), tt.method, tt.target, tt.body)
			if rec.Code != tt.want || sink.count() != tt.handedOn {
				t.Fatalf("status %d (want %d), handed on %d (want %d): %s", rec.Code, tt.want, sink.count(), tt.handedOn, rec.Body)
			}
			if tt.want == 200 && rec.Body.String() != "success" {
				t.Fatalf("body %q", rec.Body)
			}
		})
	}
}

func TestKfPostHandsOnPull(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c, _ := NewCipher(vecToken, vecAESKey, testCorp)
	sink := &memSink{}
	target, body := sealedPost(t, c, kfInner("ENCTOKEN"), now)
	if rec := do(newKfHandler(t, sink, now), http.MethodPost, target, body); rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	want := PullRequest{OpenKfID: "wkABC", Token: "ENCTOKEN", Received: now}
	if len(sink.pulls) != 1 || sink.pulls[0] != want {
		t.Fatalf("pulls = %+v", sink.pulls)
	}
}

func TestSinkFailureIs500(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c, _ := NewCipher(vecToken, vecAESKey, testCorp)
	target, body := sealedPost(t, c, kfInner("T"), now)
	sink := &memSink{err: errors.New("database down")}
	if rec := do(newKfHandler(t, sink, now), http.MethodPost, target, body); rec.Code != 500 {
		t.Fatalf("status %d, want 500 so WeChat retries", rec.Code)
	}
}

const oaText = `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>6054768590064713728</MsgId></xml>`

func TestOfficialAccountModes(t *testing.T) {
	now := time.Unix(1700000000, 0)
	ts, nonce := "1700000000", "999"
	plainSig := Signature("oatoken", ts, nonce)
	c, _ := NewCipher("oatoken", vecAESKey, "wxAPPID")
	sealed, msgSig, _ := c.Seal([]byte(oaText), ts, nonce)
	plainQ := url.Values{"signature": {plainSig}, "timestamp": {ts}, "nonce": {nonce}, "openid": {"oUSER"}}
	safeQ := url.Values{"signature": {plainSig}, "msg_signature": {msgSig}, "encrypt_type": {"aes"}, "timestamp": {ts}, "nonce": {nonce}}
	verifyQ := url.Values{"signature": {plainSig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {"echo123"}}

	tests := []struct {
		name, aesKey, method, query, body string
		want                              int
		wantBody                          string
		handedOn                          int
	}{
		{"plain verify", "", "GET", verifyQ.Encode(), "", 200, "echo123", 0},
		{"safe verify", vecAESKey, "GET", verifyQ.Encode(), "", 200, "echo123", 0},
		{"plain post", "", "POST", plainQ.Encode(), oaText, 200, "success", 1},
		{"plain post bad signature", "", "POST", strings.Replace(plainQ.Encode(), plainSig[:6], "ffffff", 1), oaText, 401, "", 0},
		{"safe post", vecAESKey, "POST", safeQ.Encode(), string(sealed), 200, "success", 1},
		{"safe mode refuses plaintext", vecAESKey, "POST", plainQ.Encode(), oaText, 400, "", 0},
		{"plain post missing fields", "", "POST", plainQ.Encode(), "<xml><MsgType>text</MsgType></xml>", 400, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &memSink{}
			h, err := NewCallbackHandler(CallbackConfig{Mode: SourceOfficialAccount, Token: "oatoken", EncodingAESKey: tt.aesKey,
				ReceiveID: "wxAPPID", Sink: sink, Now: func() time.Time { return now }, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			rec := do(h, tt.method, "/wechat/callback?"+tt.query, tt.body)
			if rec.Code != tt.want || sink.count() != tt.handedOn || (tt.wantBody != "" && rec.Body.String() != tt.wantBody) {
				t.Fatalf("got %d %q handed on %d", rec.Code, rec.Body, sink.count())
			}
			if tt.handedOn == 1 {
				m := sink.msgs[0]
				if m.Kind != KindText || m.Text != "你好" || m.Consumer != "oUSER" || m.MsgID != "6054768590064713728" {
					t.Fatalf("message %+v", m)
				}
			}
		})
	}
}

func TestSealEnvelopeShape(t *testing.T) {
	c, _ := NewCipher(vecToken, vecAESKey, testCorp)
	body, _, err := c.Seal([]byte("x"), "1", "2")
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil || env.ToUserName != testCorp || env.Encrypt == "" || strings.Contains(string(body), "AgentID") {
		t.Fatalf("envelope %s", body)
	}
}
