package teamsapp

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/multiline/multiline/bridge"
)

// Media URLs carry their own authorization: an HMAC over the ref and an expiry,
// made when a thread the employee may see is served. <img> cannot send the SSO
// token, and checking participation per request would need the thread, which a
// ref alone does not name. Expiries are rounded to the hour so that the URL of an
// image stays the same across refreshes and the browser cache works.
const (
	mediaPurpose  = "media"
	mediaLifetime = 2 * time.Hour
	// maxUpload is WeChat's largest media upload (files, 20 MB).
	maxUpload = 20 << 20
)

const mediaPrefix = "/api/v1/media/"

// signMedia adds the signature to a message's media URL.
func (a *App) signMedia(v *bridge.MessageView) {
	if v.Media == nil {
		return
	}
	ref, ok := strings.CutPrefix(v.Media.URL, mediaPrefix)
	if !ok || ref == "" {
		return
	}
	ref, _ = url.PathUnescape(ref)
	exp := a.now().Truncate(time.Hour).Add(mediaLifetime)
	m := *v.Media // the view may share it with the bridge's cache
	m.URL = a.mediaURL(ref, exp)
	v.Media = &m
}

func (a *App) mediaURL(ref string, exp time.Time) string {
	return mediaPrefix + url.PathEscape(ref) + "?sig=" + url.QueryEscape(a.sign.sign(mediaPurpose, ref, exp))
}

// inlineTypes may be shown in the page; anything else is downloaded, so a stored
// HTML or SVG file can never run script on the tab's origin.
var inlineTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"audio/amr": true, "audio/mpeg": true, "video/mp4": true,
}

func (a *App) getMedia(c echo.Context) error {
	ref := c.Param("ref")
	switch err := a.sign.verify(mediaPurpose, ref, c.QueryParam("sig"), a.now()); {
	case errors.Is(err, ErrExpired):
		return jsonError(c, http.StatusForbidden, "this media link has expired; reload the conversation")
	case err != nil:
		return jsonError(c, http.StatusForbidden, "this media link is not valid")
	}
	if a.media == nil {
		return jsonError(c, http.StatusNotFound, "media storage is not configured")
	}
	ct, name, data, err := a.media.Media(c.Request().Context(), ref)
	if err != nil {
		return a.fail(c, err)
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=3600")
	mt, _, _ := mime.ParseMediaType(ct)
	disp := "inline"
	if !inlineTypes[mt] {
		ct, disp = "application/octet-stream", "attachment"
	}
	if name != "" {
		h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	} else {
		h.Set("Content-Disposition", disp)
	}
	return c.Blob(http.StatusOK, ct, data)
}

// postMedia stores an uploaded file and sends it to the thread (multipart field
// "file", optional "text" caption).
func (a *App) postMedia(c echo.Context) error {
	if a.media == nil {
		return jsonError(c, http.StatusNotImplemented, "media storage is not configured")
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxUpload+1<<20)
	fh, err := c.FormFile("file")
	if err != nil {
		return jsonError(c, http.StatusBadRequest, "send the file as multipart form field \"file\" (at most 20 MB)")
	}
	if fh.Size > maxUpload {
		return jsonError(c, http.StatusRequestEntityTooLarge, "the file is larger than WeChat accepts (20 MB)")
	}
	f, err := fh.Open()
	if err != nil {
		return a.fail(c, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return a.fail(c, err)
	}
	ct := fh.Header.Get("Content-Type")
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(data)
	}
	p := principalOf(c)
	ref, err := a.media.PutMedia(c.Request().Context(), string(p.Employee.Company), ct, fh.Filename, data)
	if err != nil {
		return a.fail(c, err)
	}
	return a.send(c, bridge.Content{Text: c.FormValue("text"), MediaKind: mediaKind(ct), MediaRef: ref, FileName: fh.Filename})
}

// mediaKind maps a content type to WeChat's media kinds.
func mediaKind(ct string) string {
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "image/"):
		return "image"
	case mt == "audio/amr":
		return "voice"
	case mt == "video/mp4":
		return "video"
	}
	return "file"
}

// CardMediaLifetime is how long a media link in a bot card works: cards stay in
// the chat, so their links outlive the tab's.
const CardMediaLifetime = 30 * 24 * time.Hour

// SignForCard returns v with an absolute, signed media URL under base (the public
// URL), valid for CardMediaLifetime: Teams shows a card's image by fetching it.
func (a *App) SignForCard(v bridge.MessageView, base string) bridge.MessageView {
	if v.Media == nil {
		return v
	}
	ref, ok := strings.CutPrefix(v.Media.URL, mediaPrefix)
	if !ok || ref == "" {
		return v
	}
	ref, _ = url.PathUnescape(ref)
	m := *v.Media
	m.URL = strings.TrimRight(base, "/") + a.mediaURL(ref, a.now().Truncate(time.Hour).Add(CardMediaLifetime))
	v.Media = &m
	return v
}
