package teamsapp

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// dist is the tab's UI as teamsapp/ui builds it (TypeScript, React, Fluent UI
// and the Teams SDK, bundled by esbuild: `make bundle`). Only its README is
// committed; a build without the bundle serves a page that says so.
//
//go:embed ui/dist
var dist embed.FS

var distFS, _ = fs.Sub(dist, "ui/dist")

// pages are the HTML documents: each is served with a fresh nonce, which lets
// the UI's CSS-in-JS (Griffel) add its style elements under a CSP that allows
// no other inline style.
var pages = map[string]bool{"index.html": true, "admin.html": true, "review.html": true}

const msgNoBundle = "The tab's UI was not built into this binary. Run `make bundle` (or `make build`), then build again."

// static serves the UI with the tab's headers (see tabHeaders).
func (a *App) static(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache") // revalidate: a new deployment must not mix old and new files
	p := path.Clean("/" + c.Param("*"))[1:]
	if p == "" {
		p = "index.html"
	}
	if !pages[p] {
		a.tabHeaders(c, "")
		if p == "README.md" || p == "meta.json" {
			return echo.ErrNotFound
		}
		http.ServeFileFS(c.Response(), c.Request(), distFS, p)
		return nil
	}
	page, err := fs.ReadFile(distFS, p)
	if err != nil {
		a.tabHeaders(c, "")
		return c.String(http.StatusServiceUnavailable, msgNoBundle)
	}
	nonce := newNonce()
	a.tabHeaders(c, nonce)
	page = bytes.ReplaceAll(page, []byte("{{nonce}}"), []byte(nonce))
	return c.HTMLBlob(http.StatusOK, page)
}

func newNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return strings.TrimRight(base64.StdEncoding.EncodeToString(b), "=")
}
