package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/multiline/multiline/metrics"
)

// ErrTooLarge: an attachment is bigger than the caller's limit. Nothing of it is
// kept.
var ErrTooLarge = errors.New("attachment is larger than the limit")

// ErrBadAttachmentURL: an attachment names a URL the client will not fetch (not
// http(s), or plain http to a host that is not local).
var ErrBadAttachmentURL = errors.New("bad attachment url")

// Download is an attachment's content as fetched.
type Download struct {
	ContentType string // from the response; may be empty or generic
	Data        []byte
}

// downloadTimeout bounds one download with the default client; files take
// longer than API calls.
const downloadTimeout = 2 * time.Minute

// Download fetches an attachment a user sent the bot, reading at most limit
// bytes as they stream in and refusing more with ErrTooLarge.
//
// The bot's token goes along only when rawURL is on the host of serviceURL (the
// activity's Bot Connector, which keeps the images pasted into a personal chat).
// Every other URL, such as the pre-authorised downloadUrl of a file, is fetched
// without it, and so is a redirect away from that host: the token never reaches
// anyone but the connector. Pass "" as serviceURL for a link that must not get
// the token at all. Errors never carry the URL's query, which holds a file
// link's temporary credential.
func (c *Client) Download(ctx context.Context, rawURL, serviceURL string, limit int64) (Download, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return Download{}, fmt.Errorf("%w: %s", ErrBadAttachmentURL, redact(rawURL))
	}
	authorize := false
	if serviceURL != "" {
		if base, err := url.Parse(serviceURL); err == nil && strings.EqualFold(base.Scheme, u.Scheme) && strings.EqualFold(base.Host, u.Host) {
			authorize = true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Download{}, fmt.Errorf("bot connector download: %w", err)
	}
	req.Header.Set("Accept", "*/*")
	if authorize {
		tok, err := c.token(ctx)
		if err != nil {
			return Download{}, fmt.Errorf("bot connector download: %w", err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	hc := c.downloadClient(u.Host)
	resp, err := hc.Do(req)
	if err != nil {
		if authorize {
			metrics.Response(metricsService, 0)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact(ue.URL)
		}
		return Download{}, fmt.Errorf("bot connector download: %w", err)
	}
	if authorize { // from the Bot Connector itself; other hosts are not it
		metrics.Response(metricsService, resp.StatusCode)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return Download{}, apiError("download", resp, raw)
	}
	if resp.ContentLength > limit {
		return Download{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Download{}, fmt.Errorf("bot connector download: %w", err)
	}
	if int64(len(data)) > limit {
		return Download{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return Download{ContentType: resp.Header.Get("Content-Type"), Data: data}, nil
}

// downloadClient is the client for downloads: the configured one, or one with a
// longer timeout than API calls get over the API calls' transport (whose
// connections it reuses). Its redirect check drops the Authorization header on
// any hop away from host (Go's own rule would still send it to a subdomain).
func (c *Client) downloadClient(host string) *http.Client {
	hc := http.Client{Timeout: downloadTimeout, Transport: c.transport}
	if c.opts.HTTPClient != nil {
		hc = *c.opts.HTTPClient
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Host, host) {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &hc
}

// redact keeps scheme, host and path of a URL: the query of a pre-authorised
// file link is a credential.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}
