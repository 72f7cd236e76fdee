package teamsapp

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

func TestMediaURLs(t *testing.T) {
	f := newFixture(t, false)
	ref, _ := f.media.PutMedia(t.Context(), "default", "image/png", "cat.png", pngBytes)
	evil, _ := f.media.PutMedia(t.Context(), "default", "text/html", "x.html", []byte("<script>alert(1)</script>"))
	f.b.addMedia("t1", ref, "image")

	var th bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &th)
	img := th.Messages[len(th.Messages)-1].Media
	if img == nil || !strings.Contains(img.URL, "?sig=") {
		t.Fatalf("media URL not signed: %+v", img)
	}
	// The same hour gives the same URL, so the browser's cache works.
	f.clock.Add(time.Minute)
	var again bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &again)
	if again.Messages[len(again.Messages)-1].Media.URL != img.URL {
		t.Errorf("URL changed within the hour")
	}
	u, _ := url.Parse(img.URL)
	sig := u.Query().Get("sig")
	tests := []struct {
		name, path string
		advance    time.Duration
		want       int
		wantType   string
	}{
		{"signed", img.URL, 0, 200, "image/png"},
		{"other ref, same signature", mediaPrefix + evil + "?sig=" + url.QueryEscape(sig), 0, 403, ""},
		{"tampered signature", img.URL + "x", 0, 403, ""},
		{"html is never inline", f.app.mediaURL(evil, f.clock.Now().Add(time.Hour)), 0, 200, "application/octet-stream"},
		{"expired", img.URL, 3 * time.Hour, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Add(tt.advance)
			defer f.clock.Add(-tt.advance)
			resp, err := http.Get(f.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
			if tt.wantType == "application/octet-stream" && !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("Content-Disposition %q, want attachment", resp.Header.Get("Content-Disposition"))
			}
		})
	}
}

func TestUploadImage(t *testing.T) {
	f := newFixture(t, false)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(pngBytes)
	mw.WriteField("text", "see this")
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/threads/t1/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	var th bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &th)
	m := th.Messages[len(th.Messages)-1]
	if m.Media == nil || m.Media.Kind != "image" || m.Text != "see this" || m.Status != bridge.StatusSent {
		t.Fatalf("uploaded message = %+v", m)
	}
	get, _ := http.Get(f.srv.URL + m.Media.URL)
	data, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(data, pngBytes) {
		t.Fatalf("served %d bytes, want the upload", len(data))
	}
}

func TestSignForCard(t *testing.T) {
	f := newFixture(t, false)
	ref, _ := f.media.PutMedia(t.Context(), "default", "image/png", "cat.png", pngBytes)
	v := bridge.MessageView{Media: &bridge.MediaView{Kind: "image", URL: mediaPrefix + ref}}
	signed := f.app.SignForCard(v, f.srv.URL+"/")
	if v.Media.URL != mediaPrefix+ref {
		t.Fatal("the input view was changed")
	}
	if !strings.HasPrefix(signed.Media.URL, f.srv.URL+mediaPrefix) {
		t.Fatalf("not absolute: %s", signed.Media.URL)
	}
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{0, 200}, {29 * 24 * time.Hour, 200}, {31 * 24 * time.Hour, 403}} {
		f.clock.Add(tc.after)
		resp, err := http.Get(signed.Media.URL)
		f.clock.Add(-tc.after)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("after %s: status %d, want %d", tc.after, resp.StatusCode, tc.want)
		}
	}
	if plain := f.app.SignForCard(bridge.MessageView{Text: "hi"}, f.srv.URL); plain.Media != nil {
		t.Error("a text message got media")
	}
}
