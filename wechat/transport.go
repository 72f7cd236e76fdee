package wechat

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/multiline/multiline/metrics"
)

// HTTP client defaults for the WeChat APIs.
const (
	// DefaultMaxIdleConnsPerHost keeps a connection for each concurrent caller
	// (the job workers, the pulls and the callbacks' work): Go's default of 2 made
	// every third concurrent call open a new TLS connection to WeChat. 24 covers
	// storage/jobs' default pools that call WeChat (16 wechat workers and 4
	// inbound ones) with room for the callbacks' own calls.
	DefaultMaxIdleConnsPerHost = 24
	// DefaultCallTimeout bounds one API call, answer included.
	DefaultCallTimeout = 10 * time.Second
)

// HTTPOptions tune NewHTTPClient; zero values take the defaults.
type HTTPOptions struct {
	// Timeout bounds one call, reading the answer included (default 10 s).
	Timeout time.Duration
	// MaxIdleConnsPerHost is how many idle connections to keep per WeChat host
	// (default 16); give at least the number of concurrent callers.
	MaxIdleConnsPerHost int
	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout bound the steps
	// of a call (defaults 5 s, 5 s, and Timeout).
	DialTimeout, TLSHandshakeTimeout, ResponseHeaderTimeout time.Duration
}

// NewHTTPClient returns the HTTP client for WeChat's APIs (ClientOptions.HTTPClient):
// connections are kept for reuse, each step of a call has its timeout, and the
// proxy settings of the environment (HTTPS_PROXY, NO_PROXY) apply.
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultCallTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.TLSHandshakeTimeout <= 0 {
		o.TLSHandshakeTimeout = 5 * time.Second
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = o.Timeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.DialContext = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = o.TLSHandshakeTimeout
	t.ResponseHeaderTimeout = o.ResponseHeaderTimeout
	t.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, 4*o.MaxIdleConnsPerHost)
	t.IdleConnTimeout = 90 * time.Second
	t.ExpectContinueTimeout = time.Second
	return &http.Client{Timeout: o.Timeout, Transport: t}
}

// do sends one request and records the answer's HTTP status, or the
// transport error, in the metrics. Callers decode the answer and call observe.
func (c *apiCore) do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		metrics.Response("wechat", 0)
		return nil, err
	}
	metrics.Response("wechat", resp.StatusCode)
	return resp, nil
}

// observe records a failed call of API op: a WeChat errcode, or a call that
// got no usable answer ("transport": no connection, a timeout, HTTP 5xx, an
// undecodable body, HTTP 4xx without an errcode). A caller's own cancellation
// is not WeChat's failure and is not counted.
func observe(op string, err error) {
	var apiErr *APIError
	var te *TransportError
	switch {
	case err == nil:
	case errors.As(err, &apiErr) && !apiErr.http:
		metrics.WeChatError(op, apiErr.Code)
	case errors.Is(err, context.Canceled):
	case errors.As(err, &te), errors.As(err, &apiErr):
		metrics.WeChatTransportError(op)
	}
}
