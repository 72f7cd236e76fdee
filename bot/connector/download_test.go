package connector_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bot/fakeconnector"
)

// fileHost stands in for SharePoint: it serves pre-authorised links and records
// the Authorization header of every request.
type fileHost struct {
	mu      sync.Mutex
	authz   []string
	files   map[string][]byte
	chunked bool // no Content-Length: the size shows only while reading
}

func (h *fileHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.authz = append(h.authz, r.Header.Get("Authorization"))
	data, ok := h.files[r.URL.Path]
	h.mu.Unlock()
	if !ok || r.URL.Query().Get("tempauth") != "SECRET-TEMPAUTH" {
		http.Error(w, "no", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if h.chunked {
		w.(http.Flusher).Flush() // headers out before the body: no Content-Length
	}
	w.Write(data)
}

func (h *fileHost) headers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.authz...)
}

func TestDownload(t *testing.T) {
	const token = "tok-123"
	fake := fakeconnector.New(fakeconnector.Options{Token: token})
	conn := httptest.NewServer(fake)
	defer conn.Close()
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	imgURL := conn.URL + fake.AddAttachment("image/png", png)
	host := &fileHost{files: map[string][]byte{"/doc.pdf": []byte("%PDF-1.7 hello"), "/big.bin": bytes.Repeat([]byte{7}, 2000)}}
	files := httptest.NewServer(host)
	defer files.Close()
	c := connector.New(connector.Options{Credential: &staticToken{}, TenantID: "t"})
	ctx := context.Background()

	// An inline image on the connector's host gets the bot's token.
	d, err := c.Download(ctx, imgURL, conn.URL+"/", 1<<20)
	if err != nil || !bytes.Equal(d.Data, png) || d.ContentType != "image/png" {
		t.Fatalf("image: %q %v", d.ContentType, err)
	}
	// A file's pre-authorised link never does, even when a service URL is given.
	d, err = c.Download(ctx, files.URL+"/doc.pdf?tempauth=SECRET-TEMPAUTH", conn.URL+"/", 1<<20)
	if err != nil || string(d.Data) != "%PDF-1.7 hello" {
		t.Fatalf("file: %v", err)
	}
	if _, err := c.Download(ctx, files.URL+"/doc.pdf?tempauth=SECRET-TEMPAUTH", "", 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, h := range host.headers() {
		if h != "" {
			t.Errorf("the file host got an Authorization header %q", h)
		}
	}

	cases := []struct {
		name    string
		url     string
		limit   int64
		chunked bool
		want    error
	}{
		{"too large by Content-Length", files.URL + "/big.bin?tempauth=SECRET-TEMPAUTH", 1000, false, connector.ErrTooLarge},
		{"too large while streaming", files.URL + "/big.bin?tempauth=SECRET-TEMPAUTH", 1000, true, connector.ErrTooLarge},
		{"exactly the limit", files.URL + "/big.bin?tempauth=SECRET-TEMPAUTH", 2000, true, nil},
		{"not https", "http://files.example.com/doc.pdf?tempauth=SECRET-TEMPAUTH", 1000, false, connector.ErrBadAttachmentURL},
		{"not http at all", "file:///etc/passwd", 1000, false, connector.ErrBadAttachmentURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			host.mu.Lock()
			host.chunked = tc.chunked
			host.mu.Unlock()
			_, err := c.Download(ctx, tc.url, "", tc.limit)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET-TEMPAUTH") {
				t.Errorf("error shows the link's credential: %v", err)
			}
		})
	}
	host.mu.Lock()
	host.chunked = false
	host.mu.Unlock()

	// Failures name the status, never the link's credential.
	_, err = c.Download(ctx, files.URL+"/missing?tempauth=SECRET-TEMPAUTH", "", 1000)
	if e, ok := connector.AsAPIError(err); !ok || e.StatusCode != 404 {
		t.Errorf("missing file: %v", err)
	}
	_, err = c.Download(ctx, "http://127.0.0.1:1/x?tempauth=SECRET-TEMPAUTH", "", 1000)
	if err == nil || strings.Contains(err.Error(), "SECRET-TEMPAUTH") {
		t.Errorf("connection refused: %v", err)
	}
	// Without the token the connector refuses the image.
	if _, err := c.Download(ctx, imgURL, "", 1<<20); err == nil {
		t.Error("the connector served an image without the token")
	}
}

// A redirect away from the connector's host drops the token.
func TestDownloadRedirectDropsToken(t *testing.T) {
	host := &fileHost{files: map[string][]byte{"/img.png": []byte("img")}}
	files := httptest.NewServer(host)
	defer files.Close()
	var connAuthz string
	conn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connAuthz = r.Header.Get("Authorization")
		http.Redirect(w, r, files.URL+"/img.png?tempauth=SECRET-TEMPAUTH", http.StatusFound)
	}))
	defer conn.Close()
	c := connector.New(connector.Options{Credential: &staticToken{}, TenantID: "t"})
	d, err := c.Download(context.Background(), conn.URL+"/v3/attachments/x/views/original", conn.URL, 1000)
	if err != nil || string(d.Data) != "img" {
		t.Fatalf("%q %v", d.Data, err)
	}
	if connAuthz != "Bearer tok-123" {
		t.Errorf("the connector got %q", connAuthz)
	}
	for _, h := range host.headers() {
		if h != "" {
			t.Errorf("the redirect target got Authorization %q", h)
		}
	}
}
