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
)

// Scope is the token scope of the Bot Connector.
const Scope = "https://api.botframework.com/.default"

// Options configure a Client.
type Options struct {
	// Credential gets the outbound token; nil sends no token at all (local mode:
	// the Agents Playground expects none).
	Credential azcore.TokenCredential
	// TenantID is the bot's own tenant, asked for the token.
	TenantID string
	// HTTPClient sends the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Client calls the Bot Connector. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
}

// New returns a Client.
func New(opts Options) *Client {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{opts: opts, http: hc}
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
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("bot connector %s: %w", op, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	if c.opts.Credential != nil {
		tok, err := c.opts.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}, TenantID: c.opts.TenantID})
		if err != nil {
			return fmt.Errorf("bot connector %s: outbound token: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("bot connector %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Op: op, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		var eb struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &eb) == nil {
			e.Code, e.Message = eb.Error.Code, eb.Error.Message
		}
		return e
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("bot connector %s: response: %w", op, err)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
