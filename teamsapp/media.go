package teamsapp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

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

// postMedia sends a file to the thread: multipart field "file" and an optional
// "text" caption. Everything that can refuse it is asked before a byte is stored:
// the employee is in the thread, its state lets a message be sent or queued, the
// caption fits, the file fits WeChat's limit for its kind, and the WeChat account
// can send that kind. The body is read as it streams in, never past the limit.
func (a *App) postMedia(c echo.Context) error {
	if a.media == nil {
		return jsonError(c, http.StatusNotImplemented, "media storage is not configured")
	}
	ctx := c.Request().Context()
	p := principalOf(c)
	th, err := a.b.Thread(ctx, p.Employee.ID, bridge.ThreadID(c.Param("id")))
	if err != nil {
		return a.fail(c, err)
	}
	if msg := uploadRefusal(th); msg != "" {
		return jsonError(c, http.StatusConflict, msg)
	}
	up, err := readUpload(c.Request())
	var ue *uploadError
	switch {
	case isTooLarge(err):
		return jsonError(c, http.StatusRequestEntityTooLarge, "The file is larger than WeChat accepts ("+sizeText(maxUpload)+").")
	case errors.As(err, &ue):
		return jsonError(c, ue.status, ue.msg)
	case err != nil:
		return a.fail(c, err)
	}
	body := bridge.Content{Text: up.caption, MediaKind: up.kind, FileName: up.name}
	if a.check != nil {
		if err := a.check.CanSend(body); err != nil {
			return a.fail(c, err)
		}
	}
	ref, err := a.media.PutMedia(ctx, string(p.Employee.Company), up.contentType, up.name, up.data)
	if err != nil {
		return a.fail(c, err)
	}
	body.MediaRef = ref
	return a.send(c, body)
}

// uploadRefusal says why a thread takes no upload now, or "" if it does. A text
// message to such a thread is kept as "not queued"; a file is refused before it
// is stored, since it would never be sent.
func uploadRefusal(th bridge.ThreadSummary) string {
	switch {
	case th.Status == bridge.StatusClosed:
		return "The contact has left this conversation, so the file was not sent. It reopens when they write again."
	case th.Status == bridge.StatusUnrouted:
		return "Nobody is in this conversation any more, so the file was not sent."
	case th.Queued >= th.QueueLimit && (th.Queued > 0 || th.SendsLeft == 0):
		return fmt.Sprintf("The limit of pending messages (%d) has been reached, so the file was not sent.", th.QueueLimit)
	}
	return ""
}

// upload is a multipart upload, read and checked.
type upload struct {
	caption, name, contentType, kind string
	data                             []byte
}

// uploadError is a refusal of the upload itself, with the status to answer.
type uploadError struct {
	status int
	msg    string
}

func (e *uploadError) Error() string { return e.msg }

const msgUploadForm = `send the file as multipart form field "file", with an optional caption in "text"`

// readUpload reads the parts of a multipart upload in whatever order they come,
// holding at most one file of maxUpload bytes and a caption of
// bridge.MaxTextBytes; past either it stops reading and refuses.
func readUpload(r *http.Request) (upload, error) {
	var up upload
	mr, err := r.MultipartReader()
	if err != nil {
		return up, &uploadError{http.StatusBadRequest, msgUploadForm}
	}
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if isTooLarge(err) {
				return up, err
			}
			return up, &uploadError{http.StatusBadRequest, msgUploadForm}
		}
		switch part.FormName() {
		case "text":
			b, err := io.ReadAll(io.LimitReader(part, bridge.MaxTextBytes+1))
			if err != nil {
				return up, readErr(err)
			}
			if len(b) > bridge.MaxTextBytes {
				return up, &uploadError{http.StatusBadRequest, "The caption is longer than WeChat allows (2048 bytes)."}
			}
			up.caption = string(b)
		case "file":
			if seenFile {
				return up, &uploadError{http.StatusBadRequest, "send one file at a time"}
			}
			seenFile = true
			b, err := io.ReadAll(io.LimitReader(part, maxUpload+1))
			if err != nil {
				return up, readErr(err)
			}
			if len(b) > maxUpload {
				return up, &uploadError{http.StatusRequestEntityTooLarge, "The file is larger than WeChat accepts (" + sizeText(maxUpload) + ")."}
			}
			up.data, up.name = b, cleanFileName(part.FileName())
			up.contentType = contentTypeOf(part.Header.Get("Content-Type"), up.name, b)
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return up, readErr(err)
			}
		}
		part.Close()
	}
	if !seenFile || len(up.data) == 0 {
		return up, &uploadError{http.StatusBadRequest, msgUploadForm}
	}
	up.kind = mediaKind(up.contentType)
	if limit := kindLimits[up.kind]; len(up.data) > limit {
		return up, &uploadError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("WeChat accepts %s messages of at most %s; this one has %s.", up.kind, sizeText(int64(limit)), sizeText(int64(len(up.data))))}
	}
	return up, nil
}

// readErr keeps the body limit's error (413) and turns any other read failure
// into a refusal of the form.
func readErr(err error) error {
	if isTooLarge(err) {
		return err
	}
	return &uploadError{http.StatusBadRequest, msgUploadForm}
}

// kindLimits are WeChat's limits for uploaded media (WeCom media/upload):
// images 10 MB, voice 2 MB, video 10 MB, other files 20 MB.
var kindLimits = map[string]int{"image": 10 << 20, "voice": 2 << 20, "video": 10 << 20, "file": maxUpload}

// contentTypeOf is the declared content type, or when the browser gave none (or
// a generic one), what the bytes or the file name say.
func contentTypeOf(declared, name string, data []byte) string {
	mt, _, err := mime.ParseMediaType(declared)
	if err == nil && mt != "application/octet-stream" {
		return normalType(mt)
	}
	if bytes.HasPrefix(data, []byte("#!AMR\n")) {
		return "audio/amr" // not in http.DetectContentType's table
	}
	if sniffed := http.DetectContentType(data); !strings.HasPrefix(sniffed, "application/octet-stream") && !strings.HasPrefix(sniffed, "text/plain") {
		mt, _, _ = mime.ParseMediaType(sniffed)
		return normalType(mt)
	}
	if byExt := mime.TypeByExtension(strings.ToLower(path.Ext(name))); byExt != "" {
		mt, _, _ = mime.ParseMediaType(byExt)
		return normalType(mt)
	}
	return "application/octet-stream"
}

// normalType folds aliases of the types mediaKind knows.
func normalType(mt string) string {
	switch mt {
	case "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3":
		return "audio/mpeg"
	case "image/jpg", "image/pjpeg":
		return "image/jpeg"
	}
	return mt
}

// cleanFileName keeps a file name fit for a header and WeChat: no path, no
// control characters, at most 200 bytes.
func cleanFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// mediaKind maps a content type to WeChat's media kinds: images WeChat shows
// (JPEG, PNG, GIF, BMP), voice (AMR, MP3), video (MP4); anything else is a file.
func mediaKind(ct string) string {
	mt, _, _ := mime.ParseMediaType(ct)
	switch normalType(mt) {
	case "image/jpeg", "image/png", "image/gif", "image/bmp":
		return "image"
	case "audio/amr", "audio/mpeg":
		return "voice"
	case "video/mp4":
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
