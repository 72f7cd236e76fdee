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

// static serves the UI. Teams shows the tab in an iframe, so frame-ancestors allows
// Teams' hosts; scripts come only from this origin. The Teams SDK fetches its list of
// valid host domains from res.cdn.office.net, hence connect-src.
func (a *App) static(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' https://res.cdn.office.net; "+
		"frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache") // revalidate: a new deployment must not mix old and new files
	p := c.Param("*")
	if p == "" {
		p = "index.html"
	}
	http.ServeFileFS(c.Response(), c.Request(), webFS, p)
	return nil
}
