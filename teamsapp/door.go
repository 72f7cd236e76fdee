package teamsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// What the tab lets in: bodies no larger than their endpoint needs, state changes
// with the dev cookie only from the tab's own origin, and browser hardening
// headers on the UI.

// Body limits. JSON bodies carry a message (2048 bytes) or the policy with its
// notice texts; an upload carries one file of at most maxUpload and a caption.
const (
	maxJSONBody   = 64 << 10
	maxUploadBody = maxUpload + 64<<10 // the file, its caption and the multipart framing
)

// msgCrossOrigin refuses a cookie-authenticated state change from another origin.
const msgCrossOrigin = "This request came from another site and was refused. Use MultiLine from its own page."

// limitBody refuses bodies larger than n with 413, at once when the request says
// its length, and as soon as n bytes are passed when it does not.
func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				return tooLarge(c, n)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			return next(c)
		}
	}
}

// tooLarge answers 413 with a JSON error.
func tooLarge(c echo.Context, n int64) error {
	return jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request is too large: at most %s here.", sizeText(n)))
}

// isTooLarge reports whether err is a body read past limitBody's limit.
func isTooLarge(err error) bool {
	var m *http.MaxBytesError
	return errors.As(err, &m)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}

// errBodyAnswered says a body helper has already answered the request.
var errBodyAnswered = errors.New("answered")

// bindJSON decodes a JSON body into v; an empty body leaves v as it is. On a bad
// body it answers (413, 415 or 400 with usage) and returns errBodyAnswered, which
// the handler returns as nil via bodyDone.
func bindJSON(c echo.Context, v any, usage string) error {
	r := c.Request()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		if isTooLarge(err) {
			_ = tooLarge(c, maxJSONBody)
			return errBodyAnswered
		}
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		_ = jsonError(c, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json): "+usage)
		return errBodyAnswered
	}
	if err := json.Unmarshal(data, v); err != nil {
		_ = jsonError(c, http.StatusBadRequest, "the body must be JSON: "+usage)
		return errBodyAnswered
	}
	return nil
}

// bodyDone turns bindJSON's errBodyAnswered into the handler's nil.
func bodyDone(err error) error {
	if errors.Is(err, errBodyAnswered) {
		return nil
	}
	return err
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin reports whether a browser request comes from the tab's own origin:
// its Origin (when sent) is this server's, as the request reached it or as the
// public URL names it, port included; and its Sec-Fetch-Site (when sent) is
// same-origin. A request with neither header comes from no browser page (a
// command-line client), which a cookie cannot be forged into.
func (a *App) sameOrigin(c echo.Context) bool {
	r := c.Request()
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false // "null" (sandboxed frames, file: pages) included
	}
	got := strings.ToLower(u.Scheme + "://" + u.Host)
	if got == strings.ToLower(c.Scheme()+"://"+r.Host) {
		return true
	}
	return a.publicOrigin != "" && got == a.publicOrigin
}

// originOf returns scheme://host[:port] of a URL, lowercased; "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// tabHeaders sets the headers every /tab/ page gets. Teams shows the tab in an
// iframe, so frame-ancestors allows Teams' hosts; scripts come only from this
// origin, and styles from it or, on a page, from the style elements that carry
// the page's nonce (Fluent UI's CSS-in-JS). Images may be data: URLs (QR codes),
// blob: URLs (a picked file's preview) or WeChat's avatars. The Teams SDK
// fetches its list of valid host domains from res.cdn.office.net, hence
// connect-src. Links out (a WeChat contact link) carry no path or thread id in
// their Referer. Behind https, browsers are told to come back over https only.
func (a *App) tabHeaders(c echo.Context, nonce string) {
	h := c.Response().Header()
	style := "style-src 'self'"
	if nonce != "" {
		style += " 'nonce-" + nonce + "'"
	}
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: https://*.qlogo.cn; media-src 'self' blob:; "+style+"; script-src 'self'; connect-src 'self' https://res.cdn.office.net; "+
		"frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if c.Scheme() == "https" || strings.HasPrefix(a.publicOrigin, "https://") {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}
