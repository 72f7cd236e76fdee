package teamsapp

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// web holds the tab's UI: plain HTML, CSS and JavaScript, no build step. vendor/
// holds the Microsoft Teams JavaScript SDK (@microsoft/teams-js, MIT), which the
// page needs for the SSO token and cannot load from a CDN.
//
//go:embed web
var web embed.FS

var webFS, _ = fs.Sub(web, "web")

// static serves the UI with the tab's headers (see tabHeaders).
func (a *App) static(c echo.Context) error {
	a.tabHeaders(c)
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache") // revalidate: a new deployment must not mix old and new files
	p := c.Param("*")
	if p == "" {
		p = "index.html"
	}
	http.ServeFileFS(c.Response(), c.Request(), webFS, p)
	return nil
}
