package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/multiline/multiline/metrics"
)

// metricsService names the Bot Connector in multiline_http_client_responses_total.
const metricsService = "botconnector"

// Scope is the token scope of the Bot Connector.
const Scope = "https://api.botframework.com/.default"

// Options configure a Client.
type Options struct {
	// Credential gets the outbound token; nil sends no token at all (local mode:
	// the Agents Playground expects none).
	Credential azcore.TokenCredential
	// TenantID is the bot's own tenant, asked for the token.
	TenantID string
	// HTTPClient sends the requests (default: a client with a 30 s timeout over
	// NewTransport(MaxIdleConnsPerHost)). Downloads use it too, with their own
	// redirect rule.
	HTTPClient *http.Client
	// MaxIdleConnsPerHost is how many idle connections to one host the default
	// transport keeps. Make it about twice the number of requests that run at
	// once (the job runner's workers that deliver to Teams): a connection goes
	// back to the pool a moment after its answer is read, a request starting in
	// that moment opens another, and a full pool then closes one again, so that
	// connections churn, each one a TLS handshake with Teams. Default
	// DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
}

// Defaults of the default transport (see NewTransport).
const (
	// DefaultMaxIdleConnsPerHost covers up to 8 requests at once: the job
	// runner's workers (4 today) and the answers to inbound activities. An idle
	// connection costs a file descriptor and a little memory.
	DefaultMaxIdleConnsPerHost = 16
	// requestTimeout bounds one API call with the default client.
	requestTimeout = 30 * time.Second
	// dialTimeout, tlsTimeout: a connection that takes longer is not coming.
	dialTimeout = 10 * time.Second
	tlsTimeout  = 10 * time.Second
	// responseHeaderTimeout: Teams answers API calls within seconds; a request
	// that has no answer's headers by then is retried as a network error.
	responseHeaderTimeout = 20 * time.Second
	// idleConnTimeout: an idle connection is closed after this long (below
	// Azure's load balancers' 4 min idle timeout, so that we close first).
	idleConnTimeout = 90 * time.Second
)

// NewTransport returns the transport of the default clients: connections kept
// for reuse (idlePerHost per host, at least DefaultMaxIdleConnsPerHost when 0
// or less), dial, TLS handshake and response-header timeouts, HTTP/2 where the
// server offers it, and the proxy from the environment (HTTPS_PROXY).
func NewTransport(idlePerHost int) *http.Transport {
	if idlePerHost <= 0 {
		idlePerHost = DefaultMaxIdleConnsPerHost
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = idlePerHost
	t.MaxIdleConns = max(100, 4*idlePerHost) // the connector, and the hosts files come from
	t.IdleConnTimeout = idleConnTimeout
	t.TLSHandshakeTimeout = tlsTimeout
	t.ResponseHeaderTimeout = responseHeaderTimeout
	return t
}

// Client calls the Bot Connector. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
	// transport is the default clients' transport (nil with Options.HTTPClient):
	// API calls and downloads share its connections.
	transport http.RoundTripper
}

// New returns a Client.
func New(opts Options) *Client {
	c := &Client{opts: opts, http: opts.HTTPClient}
	if c.http == nil {
		c.transport = NewTransport(opts.MaxIdleConnsPerHost)
		c.http = &http.Client{Timeout: requestTimeout, Transport: c.transport}
	}
	return c
}

// CreateConversation opens (or finds) the 1:1 conversation with a user and returns
// its id.
func (c *Client) CreateConversation(ctx context.Context, serviceURL string, p ConversationParams) (string, error) {
	body := conversationParameters{
		Bot:         account{ID: p.BotID},
		Members:     []account{{ID: p.UserID}},
		TenantID:    p.TenantID,
		ChannelData: channelData{Tenant: tenantRef{ID: p.TenantID}},
	}
	var out resourceResponse
	if err := c.do(ctx, "create", http.MethodPost, serviceURL, "v3/conversations", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("bot connector create: response carries no conversation id")
	}
	return out.ID, nil
}

// SendActivity posts an activity to a conversation and returns the id Teams gave it.
func (c *Client) SendActivity(ctx context.Context, serviceURL, conversationID string, a Activity) (string, error) {
	var out resourceResponse
	if err := c.do(ctx, "send", http.MethodPost, serviceURL, "v3/conversations/"+url.PathEscape(conversationID)+"/activities", a, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// UpdateActivity replaces an activity the bot posted earlier.
func (c *Client) UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a Activity) error {
	a.ID = activityID
	return c.do(ctx, "update", http.MethodPut, serviceURL,
		"v3/conversations/"+url.PathEscape(conversationID)+"/activities/"+url.PathEscape(activityID), a, nil)
}

// DeleteActivity deletes an activity the bot posted earlier.
func (c *Client) DeleteActivity(ctx context.Context, serviceURL, conversationID, activityID string) error {
	return c.do(ctx, "delete", http.MethodDelete, serviceURL,
		"v3/conversations/"+url.PathEscape(conversationID)+"/activities/"+url.PathEscape(activityID), nil, nil)
}

func (c *Client) do(ctx context.Context, op, method, serviceURL, path string, in, out any) error {
	base, err := url.Parse(serviceURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return fmt.Errorf("%w: %q", ErrBadServiceURL, serviceURL)
	}
	// A token must not travel in clear text, except to a local emulator.
	if c.opts.Credential != nil && base.Scheme == "http" && !isLoopback(base.Hostname()) {
		return fmt.Errorf("%w: %q is not https", ErrBadServiceURL, serviceURL)
	}
	u := strings.TrimSuffix(base.String(), "/") + "/" + path
	var payload []byte
	if in != nil {
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
	}
	var used string // the token of the previous try
	for try := 0; ; try++ {
		var body io.Reader
		if in != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		req.Header.Set("Accept", "application/json")
		tok, err := c.token(ctx)
		if err != nil {
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
		if tok != "" {
			if try > 0 && tok == used {
				// The connector refused this very token and the credential has no
				// other: asking again cannot help.
				return &APIError{Op: op, StatusCode: http.StatusUnauthorized, Code: "Unauthorized",
					Message: "the Bot Connector refused the bot's token, and a fresh one is the same"}
			}
			used = tok
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			metrics.Response(metricsService, 0)
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
		metrics.Response(metricsService, resp.StatusCode)
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && tok != "" && try == 0 {
			// A token Teams refuses may have been revoked or rotated before its
			// expiry: ask the credential once more. azidentity hands out a new
			// token when its cached one is no longer valid.
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return apiError(op, resp, raw)
		}
		if out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("bot connector %s: response: %w", op, err)
			}
		}
		return nil
	}
}

// token returns the outbound bearer token, or "" without a credential.
func (c *Client) token(ctx context.Context) (string, error) {
	if c.opts.Credential == nil {
		return "", nil
	}
	tok, err := c.opts.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}, TenantID: c.opts.TenantID})
	if err != nil {
		return "", fmt.Errorf("outbound token: %w", err)
	}
	return tok.Token, nil
}

// apiError reads Teams' error body ({"error":{"code":…,"message":…}}).
func apiError(op string, resp *http.Response, raw []byte) *APIError {
	e := &APIError{Op: op, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &eb) == nil {
		e.Code, e.Message = clip(eb.Error.Code), clip(eb.Error.Message)
	}
	return e
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
