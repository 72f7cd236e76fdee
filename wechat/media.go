package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// MaxMediaBytes bounds media downloads (WeCom allows files up to 20 MB).
const MaxMediaBytes = 20 << 20

// MediaType is the "type" of media/upload.
type MediaType string

// Media types accepted by media/upload.
const (
	MediaImage MediaType = "image"
	MediaVoice MediaType = "voice"
	MediaVideo MediaType = "video"
	MediaFile  MediaType = "file"
	MediaThumb MediaType = "thumb" // Official Account only
)

// Media is a downloaded media file.
type Media struct {
	ContentType string
	Filename    string
	Data        []byte
}

// uploadMedia posts a multipart "media" field to media/upload and returns the media_id.
func (c *apiCore) uploadMedia(ctx context.Context, typ MediaType, filename string, r io.Reader) (string, error) {
	const op = "media/upload"
	data, err := io.ReadAll(io.LimitReader(r, MaxMediaBytes+1))
	if err != nil {
		return "", fmt.Errorf("wechat: %s: read: %w", op, err)
	}
	if len(data) > MaxMediaBytes {
		return "", fmt.Errorf("wechat: %s: file over %d bytes: %w (%w)", op, MaxMediaBytes, ErrInvalidMedia, ErrPermanent)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("media", filename)
	if err != nil {
		return "", fmt.Errorf("wechat: %s: %w", op, err)
	}
	_, _ = fw.Write(data)
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("wechat: %s: %w", op, err)
	}
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, stale)
		if err != nil {
			return "", err
		}
		q := url.Values{"access_token": {tok}, "type": {string(typ)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/cgi-bin/media/upload?"+q.Encode(), bytes.NewReader(buf.Bytes()))
		if err != nil {
			return "", fmt.Errorf("wechat: %s: %w", op, redactURLError(err))
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		var out struct {
			MediaID string `json:"media_id"`
		}
		err = c.doJSON(op, req, &out)
		if attempt == 0 && errors.Is(err, ErrTokenInvalid) {
			stale = tok
			continue
		}
		if err == nil && out.MediaID == "" {
			err = &TransportError{Op: op, Status: http.StatusOK, Err: errors.New("answer without media_id")}
		}
		return out.MediaID, err
	}
}

// getMedia downloads media/get. WeChat answers with the file, or with JSON on error.
func (c *apiCore) getMedia(ctx context.Context, mediaID string) (Media, error) {
	const op = "media/get"
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, stale)
		if err != nil {
			return Media{}, err
		}
		q := url.Values{"access_token": {tok}, "media_id": {mediaID}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/cgi-bin/media/get?"+q.Encode(), nil)
		if err != nil {
			return Media{}, fmt.Errorf("wechat: %s: %w", op, redactURLError(err))
		}
		m, err := c.fetchMedia(ctx, op, req)
		if attempt == 0 && errors.Is(err, ErrTokenInvalid) {
			stale = tok
			continue
		}
		return m, err
	}
}

func (c *apiCore) fetchMedia(ctx context.Context, op string, req *http.Request) (m Media, err error) {
	defer func() { observe(op, err) }()
	resp, err := c.do(req)
	if err != nil {
		return Media{}, &TransportError{Op: op, Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Media{}, decodeJSON(op, resp, nil)
	}
	m, err = readMedia(op, resp)
	if err != nil {
		return Media{}, err
	}
	ct := m.ContentType
	if !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
		return m, nil
	}
	// WeChat answers errors as JSON (some as text/plain), and an Official Account
	// answers a video with {"video_url": ...}; a text file is just a file.
	var out struct {
		ErrCode  *int   `json:"errcode"`
		ErrMsg   string `json:"errmsg"`
		VideoURL string `json:"video_url"`
	}
	if json.Unmarshal(m.Data, &out) != nil || out.ErrCode == nil && out.VideoURL == "" {
		return m, nil
	}
	if out.ErrCode != nil && *out.ErrCode != 0 {
		return Media{}, &APIError{Op: op, Code: *out.ErrCode, Msg: out.ErrMsg}
	}
	if out.VideoURL == "" {
		return Media{}, &TransportError{Op: op, Status: resp.StatusCode, Err: errors.New("answer without the file")}
	}
	return c.followVideoURL(ctx, op, out.VideoURL)
}

// followVideoURL downloads the file an Official Account's media/get links to for a
// video (it answers {"video_url": ...} rather than the file). The link carries no
// access token.
func (c *apiCore) followVideoURL(ctx context.Context, op, link string) (Media, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return Media{}, fmt.Errorf("wechat: %s: video_url: %w", op, redactURLError(err))
	}
	resp, err := c.do(req)
	if err != nil {
		return Media{}, &TransportError{Op: op, Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return Media{}, fmt.Errorf("wechat: %s: video_url answered %d: %w (%w)", op, resp.StatusCode, ErrInvalidMedia, ErrPermanent)
		}
		return Media{}, &TransportError{Op: op, Status: resp.StatusCode, Err: errors.New("video_url download failed")}
	}
	m, err := readMedia(op, resp)
	if err == nil && m.Filename == "" {
		m.Filename = path.Base(req.URL.Path)
	}
	return m, err
}

// readMedia reads a file answer, bounded by MaxMediaBytes.
func readMedia(op string, resp *http.Response) (Media, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxMediaBytes+1))
	if err != nil {
		return Media{}, &TransportError{Op: op, Status: resp.StatusCode, Err: err}
	}
	if len(data) > MaxMediaBytes {
		return Media{}, fmt.Errorf("wechat: %s: file over %d bytes: %w (%w)", op, MaxMediaBytes, ErrInvalidMedia, ErrPermanent)
	}
	m := Media{ContentType: resp.Header.Get("Content-Type"), Data: data}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		m.Filename = params["filename"]
	}
	return m, nil
}

// UploadMedia uploads a temporary media file (valid 3 days) and returns its media_id.
func (k *KfClient) UploadMedia(ctx context.Context, typ MediaType, filename string, r io.Reader) (string, error) {
	return k.core.uploadMedia(ctx, typ, filename, r)
}

// GetMedia downloads a media file a consumer sent.
func (k *KfClient) GetMedia(ctx context.Context, mediaID string) (Media, error) {
	return k.core.getMedia(ctx, mediaID)
}
