package graph

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/multiline/multiline/metrics"
)

// DefaultMaxIdleConnsPerHost is how many idle connections the default client
// keeps per host (Graph and Entra): one for each job worker, with room.
const DefaultMaxIdleConnsPerHost = 16

// NewHTTPClient returns the client New uses when Config.HTTPClient is nil:
// timeout bounds a whole call (30 s when zero); connections are kept for reuse
// (DefaultMaxIdleConnsPerHost), dialing, the TLS handshake and waiting for the
// answer's headers have their own timeouts, and the environment's proxy
// settings apply.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = min(20*time.Second, timeout)
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, 4*DefaultMaxIdleConnsPerHost)
	t.IdleConnTimeout = 90 * time.Second
	t.ExpectContinueTimeout = time.Second
	return &http.Client{Timeout: timeout, Transport: t}
}

// counting records every answer of Graph (service "graph") and of the token
// endpoint (service "entra") in multiline_http_client_responses_total, by
// status ("error" when none came).
type counting struct {
	next      http.RoundTripper
	graphHost string // host[:port] of the Graph base URL
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	service := "entra"
	if strings.EqualFold(r.URL.Host, c.graphHost) {
		service = "graph"
	}
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		metrics.Response(service, 0)
		return resp, err
	}
	metrics.Response(service, resp.StatusCode)
	return resp, nil
}

// withCounting returns a copy of base whose transport counts answers.
func withCounting(base *http.Client, graphHost string) *http.Client {
	c := *base
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = counting{next: next, graphHost: graphHost}
	return &c
}
