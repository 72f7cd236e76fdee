package fakewechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/wechat"
)

const testKfID = "wkTESTACCOUNT01"

// rulesEnv is a fake that serves both products, with a token of each.
type rulesEnv struct {
	s           *Server
	hs          *httptest.Server
	kfTok, oaTk string
}

func newRulesEnv(t *testing.T, mode wechat.Source, ttl time.Duration) *rulesEnv {
	t.Helper()
	s, err := New(Config{CorpID: "wwC", KfSecret: "s", AppID: "wxA", AppSecret: "as", CallbackToken: "tok", EncodingAESKey: testKey,
		Mode: mode, OpenKfID: testKfID, KfAccountName: "Sales", TokenTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &rulesEnv{s: s, hs: hs}
	e.kfTok, _ = call(t, http.MethodGet, hs.URL+"/cgi-bin/gettoken?corpid=wwC&corpsecret=s", "")["access_token"].(string)
	e.oaTk, _ = call(t, http.MethodGet, hs.URL+"/cgi-bin/token?grant_type=client_credential&appid=wxA&secret=as", "")["access_token"].(string)
	if e.kfTok == "" || e.oaTk == "" {
		t.Fatal("no tokens")
	}
	return e
}

func (e *rulesEnv) post(t *testing.T, path, tok, body string) map[string]any {
	t.Helper()
	return call(t, http.MethodPost, e.hs.URL+path+"?access_token="+tok, body)
}

// upload posts a file to media/upload as the given product.
func (e *rulesEnv) upload(t *testing.T, tok, typ, name string, data []byte) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("media", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	resp, err := http.Post(e.hs.URL+"/cgi-bin/media/upload?access_token="+tok+"&type="+typ, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *rulesEnv) consumerWrites(t *testing.T, id string) {
	t.Helper()
	if _, err := e.s.ConsumerSends(context.Background(), id, "hi"); err != nil && err != ErrNoCallback {
		t.Fatal(err)
	}
}

// Every kf API refuses an open_kfid that is not the fake's one account.
func TestFakeKnowsExactlyOneKfAccount(t *testing.T) {
	e := newRulesEnv(t, wechat.SourceKf, 0)
	e.consumerWrites(t, "c1")
	for _, other := range []string{DefaultOpenKfID, "wkSOMETHINGELSE"} {
		for _, tc := range []struct{ path, body string }{
			{"/cgi-bin/kf/sync_msg", `{"open_kfid":"%s"}`},
			{"/cgi-bin/kf/send_msg", `{"touser":"c1","open_kfid":"%s","msgid":"m1","msgtype":"text","text":{"content":"x"}}`},
			{"/cgi-bin/kf/add_contact_way", `{"open_kfid":"%s","scene":"s1"}`},
			{"/cgi-bin/kf/service_state/get", `{"open_kfid":"%s","external_userid":"c1"}`},
			{"/cgi-bin/kf/service_state/trans", `{"open_kfid":"%s","external_userid":"c1","service_state":4}`},
		} {
			if got := errcode(e.post(t, tc.path, e.kfTok, fmt.Sprintf(tc.body, other))); got != 95000 {
				t.Errorf("%s with %s: errcode %d, want 95000", tc.path, other, got)
			}
			if got := errcode(e.post(t, tc.path, e.kfTok, fmt.Sprintf(tc.body, testKfID))); got != 0 {
				t.Errorf("%s with the account: errcode %d", tc.path, got)
			}
		}
	}
	if n := len(e.s.Inbox("c1")); n != 1 {
		t.Fatalf("inbox %d, want only the send on the right account", n)
	}
}

func TestFakeAccountList(t *testing.T) {
	e := newRulesEnv(t, wechat.SourceKf, 0)
	for _, tc := range []struct {
		body string
		code int
		n    int
	}{
		{``, 0, 1},
		{`{"offset":0,"limit":100}`, 0, 1},
		{`{"offset":1,"limit":100}`, 0, 0},
		{`{"offset":0,"limit":101}`, 40058, 0},
		{`{"offset":-1}`, 40058, 0},
	} {
		out := e.post(t, "/cgi-bin/kf/account/list", e.kfTok, tc.body)
		list, _ := out["account_list"].([]any)
		if errcode(out) != tc.code || len(list) != tc.n {
			t.Errorf("%s: %v", tc.body, out)
			continue
		}
		if tc.n == 1 {
			a := list[0].(map[string]any)
			if a["open_kfid"] != testKfID || a["name"] != "Sales" || a["manage_privilege"] != true {
				t.Errorf("account %v", a)
			}
		}
	}
	if got := errcode(e.post(t, "/cgi-bin/kf/account/list", e.oaTk, ``)); got != 40014 {
		t.Errorf("an Official Account token on a kf API: %d, want 40014", got)
	}
}

func TestFakeTokensExpire(t *testing.T) {
	e := newRulesEnv(t, wechat.SourceKf, time.Minute)
	list := "/cgi-bin/kf/account/list"
	if got := errcode(e.post(t, list, e.kfTok, ``)); got != 0 {
		t.Fatalf("fresh: %d", got)
	}
	e.s.Advance(59 * time.Second)
	if got := errcode(e.post(t, list, e.kfTok, ``)); got != 0 {
		t.Fatalf("before its TTL: %d", got)
	}
	e.s.Advance(time.Second)
	if got := errcode(e.post(t, list, e.kfTok, ``)); got != 42001 {
		t.Fatalf("at its TTL: %d, want 42001", got)
	}
	if got := errcode(e.post(t, list, "forged", ``)); got != 40014 {
		t.Fatalf("unknown: %d, want 40014", got)
	}
	if got := errcode(e.post(t, "/cgi-bin/message/custom/send", e.kfTok, `{}`)); got != 40014 && got != 42001 {
		t.Fatalf("a kf token on an Official Account API: %d", got)
	}
	tok := call(t, http.MethodGet, e.hs.URL+"/cgi-bin/gettoken?corpid=wwC&corpsecret=s", "")
	if exp, _ := tok["expires_in"].(float64); exp != 60 {
		t.Fatalf("expires_in %v, want the TTL", tok["expires_in"])
	}
	def, err := New(Config{CorpID: "c", CallbackToken: "t", EncodingAESKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if def.cfg.TokenTTL != 7200*time.Second {
		t.Fatalf("default TTL %s, want WeChat's 7200 s", def.cfg.TokenTTL)
	}
}

// Media is uploaded within each product's documented types and sizes, and sent as
// the type it was uploaded as; an Official Account has no file messages.
func TestFakeMediaRules(t *testing.T) {
	small := []byte("0123456789 media bytes")
	tests := []struct {
		name    string
		product wechat.Source
		typ     string
		size    int
		code    int
	}{
		{"kf image", wechat.SourceKf, "image", 0, 0},
		{"kf voice", wechat.SourceKf, "voice", 0, 0},
		{"kf video", wechat.SourceKf, "video", 0, 0},
		{"kf file", wechat.SourceKf, "file", 0, 0},
		{"kf thumb", wechat.SourceKf, "thumb", 0, 40005},
		{"kf tiny file", wechat.SourceKf, "file", 5, 40006},
		{"kf voice over 2 MB", wechat.SourceKf, "voice", 2<<20 + 1, 40006},
		{"kf image over 10 MB", wechat.SourceKf, "image", 10<<20 + 1, 40009},
		{"oa image", wechat.SourceOfficialAccount, "image", 0, 0},
		{"oa voice", wechat.SourceOfficialAccount, "voice", 0, 0},
		{"oa video", wechat.SourceOfficialAccount, "video", 0, 0},
		{"oa thumb", wechat.SourceOfficialAccount, "thumb", 0, 0},
		{"oa file", wechat.SourceOfficialAccount, "file", 0, 40004},
		{"oa voice over 2 MB", wechat.SourceOfficialAccount, "voice", 2<<20 + 1, 40010},
		{"oa thumb over 64 KB", wechat.SourceOfficialAccount, "thumb", 64<<10 + 1, 40012},
	}
	e := newRulesEnv(t, wechat.SourceKf, 0)
	for _, tt := range tests {
		data := small
		if tt.size > 0 {
			data = bytes.Repeat([]byte("x"), tt.size)
		}
		tok := e.kfTok
		if tt.product == wechat.SourceOfficialAccount {
			tok = e.oaTk
		}
		if got := errcode(e.upload(t, tok, tt.typ, "f.bin", data)); got != tt.code {
			t.Errorf("%s: errcode %d, want %d", tt.name, got, tt.code)
		}
	}

	e.consumerWrites(t, "c1")
	image, _ := e.upload(t, e.kfTok, "image", "cat.png", small)["media_id"].(string)
	file, _ := e.upload(t, e.kfTok, "file", "terms.pdf", small)["media_id"].(string)
	send := func(tok, path, extra, msgtype, mediaID string) int {
		return errcode(e.post(t, path, tok, fmt.Sprintf(`{"touser":"c1",%s"msgtype":%q,%q:{"media_id":%q}}`, extra, msgtype, msgtype, mediaID)))
	}
	kf := `"open_kfid":"` + testKfID + `","msgid":"media-1",`
	if got := send(e.kfTok, "/cgi-bin/kf/send_msg", kf, "voice", image); got != 40007 {
		t.Errorf("an image sent as voice: %d, want 40007", got)
	}
	if got := send(e.kfTok, "/cgi-bin/kf/send_msg", kf, "file", file); got != 0 {
		t.Errorf("kf file: %d", got)
	}
	if got := send(e.oaTk, "/cgi-bin/message/custom/send", "", "file", file); got != 40008 {
		t.Errorf("an Official Account file message: %d, want 40008", got)
	}
	in := e.s.Inbox("c1")
	if len(in) != 1 || in[0].Kind != "file" || in[0].FileName != "terms.pdf" || in[0].Size != len(small) {
		t.Fatalf("inbox %+v", in)
	}
}

func TestFakeProfiles(t *testing.T) {
	e := newRulesEnv(t, wechat.SourceOfficialAccount, 0)
	e.consumerWrites(t, "o1")
	e.s.SetProfile("o1", Profile{Nickname: "小明", Language: "zh_CN", AvatarURL: "http://wx.qlogo.cn/x/0"})
	e.s.SetProfile("o2", Profile{Language: "en"}) // known, but not a follower
	info := func(id string) map[string]any {
		return call(t, http.MethodGet, e.hs.URL+"/cgi-bin/user/info?access_token="+e.oaTk+"&openid="+id, "")
	}
	if u := info("o1"); u["subscribe"] != 1.0 || u["nickname"] != "小明" || u["language"] != "zh_CN" || u["headimgurl"] != "http://wx.qlogo.cn/x/0" {
		t.Errorf("follower %v", u)
	}
	if u := info("o2"); u["subscribe"] != 0.0 || u["language"] != nil {
		t.Errorf("not a follower %v", u)
	}
	if got := errcode(info("nobody")); got != 40003 {
		t.Errorf("unknown openid %d", got)
	}
	out := e.post(t, "/cgi-bin/kf/customer/batchget", e.kfTok, `{"external_userid_list":["o1","nobody"]}`)
	list, _ := out["customer_list"].([]any)
	invalid, _ := out["invalid_external_userid"].([]any)
	if errcode(out) != 0 || len(list) != 1 || list[0].(map[string]any)["nickname"] != "小明" || len(invalid) != 1 || invalid[0] != "nobody" {
		t.Errorf("batchget %v", out)
	}
	ids := `"` + strings.Repeat(`a","`, 100) + `a"`
	if got := errcode(e.post(t, "/cgi-bin/kf/customer/batchget", e.kfTok, `{"external_userid_list":[`+ids+`]}`)); got != 40058 {
		t.Errorf("101 ids: %d", got)
	}
	// The control endpoint sets the profile with the message.
	call(t, http.MethodPost, e.hs.URL+"/fake/consumer/send", `{"consumer":"o3","text":"hi","nickname":"Li","language":"zh_CN"}`)
	if u := info("o3"); u["nickname"] != "Li" || u["language"] != "zh_CN" {
		t.Errorf("profile from /fake/consumer/send: %v", u)
	}
}

// An Official Account answers media/get for a video with a video_url, which
// works where the fake is mounted, prefix included.
func TestFakeOfficialAccountVideoIsALink(t *testing.T) {
	e := newRulesEnv(t, wechat.SourceOfficialAccount, 0)
	if _, err := e.s.ConsumerSendsMedia(context.Background(), "o1", "video", "clip.mp4", []byte("the video")); err != nil && err != ErrNoCallback {
		t.Fatal(err)
	}
	mounted := httptest.NewServer(http.StripPrefix("/sim", e.s))
	defer mounted.Close()
	out := call(t, http.MethodGet, mounted.URL+"/sim/cgi-bin/media/get?access_token="+e.oaTk+"&media_id=MEDIA_000003", "")
	link, _ := out["video_url"].(string)
	if !strings.HasPrefix(link, mounted.URL+"/sim/fake/media/") {
		t.Fatalf("media/get %v", out)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "the video" {
		t.Fatalf("video_url served %q", b)
	}
	// A kf token gets the file itself.
	kf, err := http.Get(e.hs.URL + "/cgi-bin/media/get?access_token=" + e.kfTok + "&media_id=MEDIA_000003")
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Body.Close()
	if b, _ := io.ReadAll(kf.Body); string(b) != "the video" {
		t.Fatalf("kf media/get %q", b)
	}
	if _, err := e.s.ConsumerSendsMedia(context.Background(), "o1", "file", "x.pdf", []byte("x")); err == nil {
		t.Fatal("an Official Account consumer sent a file")
	}
}
