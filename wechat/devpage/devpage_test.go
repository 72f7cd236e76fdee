package devpage

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/multiline/multiline/wechat/fakewechat"
)

const aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

func newPage(t *testing.T) (*fakewechat.Server, *httptest.Server) {
	t.Helper()
	sim, err := fakewechat.New(fakewechat.Config{CorpID: "wwC", KfSecret: "s", CallbackToken: "tok", EncodingAESKey: aesKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(sim))
	t.Cleanup(srv.Close)
	return sim, srv
}

func post(t *testing.T, srv *httptest.Server, path string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(srv.URL+Prefix+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func state(t *testing.T, srv *httptest.Server, consumer string) stateJSON {
	t.Helper()
	resp, err := http.Get(srv.URL + Prefix + "/api/state?consumer=" + consumer)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st stateJSON
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPage(t *testing.T) {
	sim, srv := newPage(t)
	resp, err := http.Get(srv.URL + Prefix)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "/dev/wechat/static/app.js") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header)
	}
	for _, f := range []string{"app.js", "app.css"} {
		r, err := http.Get(srv.URL + Prefix + "/static/" + f)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", f, err, r.StatusCode)
		}
		r.Body.Close()
	}

	var c consumer
	if code := post(t, srv, "/api/consumers", map[string]string{"name": "Emiliano Ceballos", "language": "en"}, &c); code != 201 || !strings.HasPrefix(c.ID, "wmdev") {
		t.Fatalf("new consumer: %d %+v", code, c)
	}
	if code := post(t, srv, "/api/consumers", map[string]string{"name": " "}, nil); code != 400 {
		t.Fatalf("nameless consumer: %d", code)
	}
	var e Entry
	if code := post(t, srv, "/api/send", map[string]string{"consumer": c.ID, "text": "Joe, what's a nice movie?"}, &e); code != 200 || !strings.Contains(e.Note, "no callback") {
		t.Fatalf("send: %d %+v", code, e)
	}
	if code := post(t, srv, "/api/send", map[string]string{"consumer": "nobody", "text": "hi"}, nil); code != 404 {
		t.Fatalf("unknown consumer: %d", code)
	}
	if code := post(t, srv, "/api/arrive", map[string]string{"consumer": c.ID, "link": "https://work.weixin.qq.com/kf/unknown"}, nil); code != 400 {
		t.Fatalf("unknown link: %d", code)
	}

	// An image from the consumer, shown back on their side.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("consumer", c.ID)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n0000000000"))
	mw.Close()
	r, err := http.Post(srv.URL+Prefix+"/api/send", mw.FormDataContentType(), &buf)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("image: %v %d", err, r.StatusCode)
	}
	_ = json.NewDecoder(r.Body).Decode(&e)
	r.Body.Close()
	if e.Kind != "image" || e.Media == "" {
		t.Fatalf("image entry %+v", e)
	}
	if r, _ := http.Get(srv.URL + e.Media); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("sent image: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}

	before := sim.Now()
	var adv map[string]string
	if code := post(t, srv, "/api/advance", map[string]string{"by": "24h"}, &adv); code != 200 || sim.Now().Sub(before).Hours() < 24 {
		t.Fatalf("advance: %d %v", code, adv)
	}
	if code := post(t, srv, "/api/advance", map[string]string{"by": "-1h"}, nil); code != 400 {
		t.Fatalf("backwards: %d", code)
	}
	st := state(t, srv, c.ID)
	if len(st.Consumers) != 1 || st.Consumers[0].Name != "Emiliano Ceballos" || len(st.Chat) != 2 || st.Chat[0].Text != "Joe, what's a nice movie?" {
		t.Fatalf("state %+v", st)
	}
}

func TestLinks(t *testing.T) {
	sim, srv := newPage(t)
	api := httptest.NewServer(sim)
	defer api.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r, err := http.Get(api.URL + "/cgi-bin/gettoken?corpid=wwC&corpsecret=s")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(r.Body).Decode(&tok)
	r.Body.Close()
	for _, scene := range []string{"e1", "optin7"} {
		body := `{"open_kfid":"` + fakewechat.DefaultOpenKfID + `","scene":"` + scene + `"}`
		r, err := http.Post(api.URL+"/cgi-bin/kf/add_contact_way?access_token="+tok.AccessToken, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	st := state(t, srv, "")
	if len(st.Links) != 2 || st.Links[0].Scene != "e1" || st.Links[1].Scene != "optin7" || !strings.HasPrefix(st.Links[0].URL, "https://work.weixin.qq.com/kf/kfc") {
		t.Fatalf("links %+v", st.Links)
	}
	var c consumer
	post(t, srv, "/api/consumers", map[string]string{"name": "Li Wei"}, &c)
	if code := post(t, srv, "/api/arrive", map[string]string{"consumer": c.ID, "link": st.Links[1].URL + "&scene_param=abc"}, nil); code != 200 {
		t.Fatalf("arrive: %d", code)
	}
	if st := state(t, srv, c.ID); len(st.Chat) != 1 || st.Chat[0].Kind != "event" {
		t.Fatalf("chat after arriving %+v", st.Chat)
	}
}
