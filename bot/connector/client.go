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
			return fmt.Errorf("bot connector %s: %w", op, err)
		}
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
