package teamsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/multiline/multiline/bridge"
)

// answer is a response as the tests look at it.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a answer) err() apiError {
	var e apiError
	_ = json.Unmarshal(a.body, &e)
	return e
}

// do sends req and reads the whole answer.
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, body}
}

// part is one field of a multipart upload; a part with a file name is a file.
type part struct {
	field, fileName, contentType string
	data                         []byte
}

func caption(s string) part { return part{field: "text", data: []byte(s)} }

func file(name, ct string, data []byte) part {
	return part{field: "file", fileName: name, contentType: ct, data: data}
}

// multipartBody encodes parts in order.
func multipartBody(t testing.TB, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.fileName))
			if p.contentType != "" {
				h.Set("Content-Type", p.contentType)
			}
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.field))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// upload posts parts to a thread's media endpoint as the holder of token.
func (f *fixture) upload(t *testing.T, thread, token string, parts ...part) answer {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/threads/"+thread+"/media", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// stored counts what a refused request must not leave behind.
func (f *fixture) stored() (media, messages int) { return f.media.count(), f.b.messageCount() }

// chunked hides a reader's length, so the request says none.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBodyLimits(t *testing.T) {
	f := newFixture(t, true)
	big := `{"text": "` + strings.Repeat("x", maxJSONBody) + `"}`
	huge := bytes.Repeat([]byte{0xff}, maxUpload+1)
	tests := []struct {
		name, method, path, ct string
		body                   func() io.Reader
	}{
		{"message, length known", "POST", "/api/v1/threads/t1/messages", "application/json", func() io.Reader { return strings.NewReader(big) }},
		{"message, streamed", "POST", "/api/v1/threads/t1/messages", "application/json", func() io.Reader { return chunked{strings.NewReader(big)} }},
		{"policy", "PUT", "/api/v1/admin/policy", "application/json", func() io.Reader { return strings.NewReader(big) }},
		{"participants", "POST", "/api/v1/threads/t1/participants", "application/json", func() io.Reader { return chunked{strings.NewReader(big)} }},
		{"leave takes no body", "POST", "/api/v1/threads/t1/leave", "application/json", func() io.Reader { return strings.NewReader(big) }},
		{"ticket takes no body", "POST", "/api/v1/events/ticket", "application/json", func() io.Reader { return strings.NewReader(big) }},
		{"dev sign-in form", "POST", "/tab/dev-login", "application/x-www-form-urlencoded", func() io.Reader {
			return chunked{strings.NewReader("employee=alice&pad=" + strings.Repeat("x", maxJSONBody))}
		}},
		{"upload, length known", "POST", "/api/v1/threads/t1/media", "multipart/form-data; boundary=x", func() io.Reader {
			return bytes.NewReader(make([]byte, maxUploadBody+1))
		}},
		{"upload, streamed past the limit", "POST", "/api/v1/threads/t1/media", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			media, msgs := f.stored()
			var body io.Reader
			ct := tt.ct
			if tt.body != nil {
				body = tt.body()
			} else {
				b, mct := multipartBody(t, file("big.bin", "application/zip", huge))
				body, ct = chunked{b}, mct
			}
			req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, body)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer alice")
			got := do(t, req)
			if got.code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", got.code, got.body)
			}
			if !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") || got.err().Error == "" {
				t.Fatalf("413 is not a JSON error: %q %s", got.header.Get("Content-Type"), got.body)
			}
			if m, n := f.stored(); m != media || n != msgs {
				t.Fatalf("stored %d media, %d messages; want %d, %d", m, n, media, msgs)
			}
		})
	}
	// Within the limits all is well: an upload is not held to the JSON limit.
	if got := f.upload(t, "t1", "alice", file("scan.pdf", "application/pdf", bytes.Repeat([]byte("%PDF"), 300<<10))); got.code != 201 {
		t.Fatalf("1.2 MB upload: %d %s", got.code, got.body)
	}
	if code := f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "fine"}, nil); code != 201 {
		t.Fatalf("small message: %d", code)
	}
}

func TestJSONBodiesMustBeJSON(t *testing.T) {
	f := newFixture(t, false)
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/threads/t1/messages", strings.NewReader("text=hi"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer alice")
	if got := do(t, req); got.code != http.StatusUnsupportedMediaType || got.err().Error == "" {
		t.Fatalf("text/plain body: %d %s", got.code, got.body)
	}
}

func TestUploadRefusedStoresNothing(t *testing.T) {
	f := newFixture(t, false)
	f.b.addThread("t3", "Zhang San", "alice")
	f.b.setStatus("t3", bridge.StatusClosed)
	f.b.addThread("t4", "Wang Wu", "alice")
	for range 3 + 5 { // three sent, five queued: the queue is full
		f.call(t, "POST", "/api/v1/threads/t4/messages", "alice", map[string]string{"text": "hello"}, nil)
	}
	f.b.cannotSend = map[string]bool{"video": true}
	png := file("photo.png", "image/png", pngBytes)
	tests := []struct {
		name, thread, token string
		parts               []part
		want                int
		wantErr             string
	}{
		{"not a participant", "t2", "alice", []part{png}, 404, "not in it"},
		{"no such thread", "nope", "alice", []part{png}, 404, ""},
		{"disabled employee", "t1", "carol", []part{png}, 403, "disabled"},
		{"not an employee", "t1", "stranger", []part{png}, 403, ""},
		{"contact left", "t3", "alice", []part{png}, 409, "left"},
		{"queue full", "t4", "alice", []part{png}, 409, "limit of pending messages"},
		{"caption too long, before the file", "t1", "alice", []part{caption(strings.Repeat("长", 683)), png}, 400, "2048"},
		{"caption too long, after the file", "t1", "alice", []part{png, caption(strings.Repeat("a", 2049))}, 400, "2048"},
		{"kind the account cannot send", "t1", "alice", []part{file("clip.mp4", "video/mp4", []byte("\x00\x00\x00\x18ftypmp42"))}, 422, "cannot"},
		{"voice over WeChat's 2 MB", "t1", "alice", []part{file("memo.amr", "audio/amr", bytes.Repeat([]byte{1}, 2<<20+1))}, 413, "2 MB"},
		{"no file", "t1", "alice", []part{caption("hi")}, 400, "file"},
		{"empty file", "t1", "alice", []part{file("empty.txt", "text/plain", nil)}, 400, "file"},
		{"two files", "t1", "alice", []part{png, png}, 400, "one file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			media, msgs := f.stored()
			got := f.upload(t, tt.thread, tt.token, tt.parts...)
			if got.code != tt.want || !strings.Contains(got.err().Error, tt.wantErr) {
				t.Fatalf("status %d %q, want %d %q", got.code, got.err().Error, tt.want, tt.wantErr)
			}
			if m, n := f.stored(); m != media || n != msgs {
				t.Fatalf("a refused upload left %d media and %d messages behind", m-media, n-msgs)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		media, _ := f.stored()
		if code := f.call(t, "POST", "/api/v1/threads/t1/media", "alice", map[string]string{"file": "x"}, nil); code != 400 {
			t.Fatalf("JSON to the upload: %d", code)
		}
		if m, _ := f.stored(); m != media {
			t.Fatal("stored media")
		}
	})
}

func TestUploadKinds(t *testing.T) {
	f := newFixture(t, false)
	amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{0x3c}, 64)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte{0}, 64)...)
	tests := []struct {
		name     string
		parts    []part
		wantKind string
		wantText string
	}{
		{"image with a caption", []part{caption("see this"), file("photo.png", "image/png", pngBytes)}, "image", "see this"},
		{"voice, AMR", []part{file("memo.amr", "audio/amr", amr)}, "voice", ""},
		{"voice, AMR the browser did not name", []part{file("memo.amr", "application/octet-stream", amr)}, "voice", ""},
		{"voice, MP3", []part{file("memo.mp3", "audio/mpeg", []byte("ID3\x03\x00\x00\x00\x00\x00\x00"))}, "voice", ""},
		{"video", []part{file("clip.mp4", "video/mp4", mp4), caption("our showroom")}, "video", "our showroom"},
		{"video the browser did not name", []part{file("clip.mp4", "", mp4)}, "video", ""},
		{"file with a caption", []part{caption("the contract"), file("contract.pdf", "application/pdf", []byte("%PDF-1.7\n"))}, "file", "the contract"},
		{"svg is a file, not an image", []part{file("logo.svg", "image/svg+xml", []byte("<svg/>"))}, "file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.upload(t, "t1", "alice", tt.parts...)
			if got.code != 201 {
				t.Fatalf("upload: %d %s", got.code, got.body)
			}
			var sent sentJSON
			if err := json.Unmarshal(got.body, &sent); err != nil {
				t.Fatal(err)
			}
			if sent.Media == nil || sent.Media.Kind != tt.wantKind || sent.Text != tt.wantText || !strings.Contains(sent.Media.URL, "?sig=") {
				t.Fatalf("sent %+v (media %+v), want kind %s text %q", sent.MessageView, sent.Media, tt.wantKind, tt.wantText)
			}
			var th bridge.ThreadSummary
			f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &th)
			var m bridge.MessageView
			for _, v := range th.Messages {
				if v.ID == sent.ID {
					m = v
				}
			}
			if m.Media == nil || m.Media.Kind != tt.wantKind || m.Media.FileName == "" {
				t.Fatalf("thread shows %+v", m)
			}
			served := do(t, must(http.NewRequest("GET", f.srv.URL+m.Media.URL, nil)))
			if served.code != 200 || len(served.body) == 0 {
				t.Fatalf("media: %d", served.code)
			}
		})
	}
	if f.b.canSendCalls != len(tests) {
		t.Fatalf("CanSend asked %d times for %d uploads", f.b.canSendCalls, len(tests))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// devClient signs in as employee with the dev sign-in and returns its cookie jar's client.
func devClient(t *testing.T, f *fixture, employee string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", f.srv.URL+"/tab/dev-login", strings.NewReader(url.Values{"employee": {employee}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(f.srv.URL)
	if len(jar.Cookies(u)) == 0 {
		t.Fatalf("dev sign-in set no cookie: %d", resp.StatusCode)
	}
	return c
}

func TestCrossOriginCookieRefused(t *testing.T) {
	f := newFixtureWith(t, true, func(c *Config) { c.PublicURL = "https://multiline.contoso.example/" })
	c := devClient(t, f, "alice")
	self := f.srv.URL
	otherPort := strings.Replace(self, "127.0.0.1:", "127.0.0.1:1", 1)
	send := func(t *testing.T, method, path string, headers map[string]string) answer {
		t.Helper()
		var body io.Reader
		if method != "GET" {
			body = strings.NewReader(`{"text": "hello"}`)
		}
		req, _ := http.NewRequest(method, self+path, body)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, b}
	}
	tests := []struct {
		name         string
		method, path string
		headers      map[string]string
		want         int
	}{
		{"same origin", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": self, "Sec-Fetch-Site": "same-origin"}, 201},
		{"the public URL's origin", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": "https://multiline.contoso.example"}, 201},
		{"no browser headers (a command-line client)", "POST", "/api/v1/threads/t1/messages", nil, 201},
		{"another port on 127.0.0.1", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": otherPort}, 403},
		{"another port, as the browser says it", "POST", "/api/v1/threads/t1/messages", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"another site", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"https on the same host and port", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": strings.Replace(self, "http:", "https:", 1)}, 403},
		{"opaque origin", "POST", "/api/v1/threads/t1/messages", map[string]string{"Origin": "null"}, 403},
		{"leave from another site", "POST", "/api/v1/threads/t1/leave", map[string]string{"Origin": "https://evil.example"}, 403},
		{"remove from another site", "DELETE", "/api/v1/threads/t1/participants/alice", map[string]string{"Origin": otherPort}, 403},
		{"admin change from another site", "PUT", "/api/v1/admin/employees/carol", map[string]string{"Origin": otherPort}, 403},
		{"upload from another site", "POST", "/api/v1/threads/t1/media", map[string]string{"Origin": otherPort}, 403},
		{"reading is no state change", "GET", "/api/v1/threads", map[string]string{"Origin": "https://evil.example"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			media, msgs := f.stored()
			got := send(t, tt.method, tt.path, tt.headers)
			if got.code != tt.want {
				t.Fatalf("status %d, want %d: %s", got.code, tt.want, got.body)
			}
			if tt.want == 403 {
				if !strings.Contains(got.err().Error, "another site") {
					t.Errorf("error %q", got.err().Error)
				}
				if m, n := f.stored(); m != media || n != msgs {
					t.Fatal("a refused request stored something")
				}
			}
		})
	}
	if th, err := f.b.Thread(t.Context(), "alice", "t1"); err != nil || len(th.Participants) != 1 {
		t.Fatalf("alice left or was removed by a cross-origin request: %v %+v", err, th.Participants)
	}
	if e, _ := f.b.Employee(t.Context(), "carol"); e.Enabled {
		t.Fatal("carol was enabled by a cross-origin request")
	}

	t.Run("sign-in from another site", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		req, _ := http.NewRequest("POST", self+"/tab/dev-login", strings.NewReader("employee=bob"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", otherPort)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, _ := url.Parse(self)
		if resp.StatusCode != 403 || len(jar.Cookies(u)) != 0 {
			t.Fatalf("status %d, cookies %v", resp.StatusCode, jar.Cookies(u))
		}
	})
	t.Run("bearer tokens are not affected", func(t *testing.T) {
		req, _ := http.NewRequest("POST", self+"/api/v1/threads/t1/messages", strings.NewReader(`{"text": "from Teams"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer alice")
		req.Header.Set("Origin", "https://teams.microsoft.com")
		if got := do(t, req); got.code != 201 {
			t.Fatalf("status %d: %s", got.code, got.body)
		}
	})
}

func TestTabHeaders(t *testing.T) {
	get := func(t *testing.T, f *fixture, path string, headers map[string]string) http.Header {
		t.Helper()
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		got := do(t, req)
		if got.code != 200 {
			t.Fatalf("GET %s: %d", path, got.code)
		}
		return got.header
	}
	plain := newFixture(t, true)
	behindTLS := newFixtureWith(t, false, func(c *Config) { c.PublicURL = "https://multiline.contoso.example" })
	tests := []struct {
		name     string
		f        *fixture
		path     string
		headers  map[string]string
		wantHSTS bool
	}{
		{"tab over http", plain, "/tab/", nil, false},
		{"dev sign-in page", plain, "/tab/dev-login", nil, false},
		{"admin page", plain, "/tab/admin.html", nil, false},
		{"behind a TLS proxy", plain, "/tab/", map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"public URL is https", behindTLS, "/tab/", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := get(t, tt.f, tt.path, tt.headers)
			if h.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
				t.Errorf("Referrer-Policy %q", h.Get("Referrer-Policy"))
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://teams.microsoft.com") ||
				!strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != tt.wantHSTS || tt.wantHSTS && !strings.Contains(hsts, "max-age=") {
				t.Errorf("HSTS %q, want it: %v", hsts, tt.wantHSTS)
			}
		})
	}
}
