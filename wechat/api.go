package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Default API bases.
const (
	DefaultWeComBase  = "https://qyapi.weixin.qq.com"
	DefaultWeChatBase = "https://api.weixin.qq.com"
)

// maxJSONResponse bounds API answers that are JSON (media downloads have their own limit).
const maxJSONResponse = 4 << 20

// ClientOptions are shared by KfClient and OAClient.
type ClientOptions struct {
	// BaseURL replaces the public API host (the fake server in tests and local mode).
	BaseURL string
	// HTTPClient carries the per-call timeout; nil means NewHTTPClient's defaults
	// (10 s a call, 16 idle connections kept per host).
	HTTPClient *http.Client
	// Tokens caches access tokens; nil means a private MemoryTokenCache.
	Tokens TokenCache
	// Now is the clock for token expiry; nil means time.Now.
	Now func() time.Time
}

// apiStatus is the errcode/errmsg pair every WeChat JSON answer carries.
type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// tokenFetcher fetches a fresh access token.
type tokenFetcher func(ctx context.Context) (value string, expiresIn time.Duration, err error)

// apiCore is the token handling and JSON transport both clients share.
type apiCore struct {
	base     string
	hc       *http.Client
	tokens   TokenCache
	cacheKey string
	fetch    tokenFetcher
	now      func() time.Time
	mu       sync.Mutex // one fetch at a time per process
}

func newCore(o ClientOptions, defaultBase, cacheKey string) *apiCore {
	c := &apiCore{base: strings.TrimRight(o.BaseURL, "/"), hc: o.HTTPClient, tokens: o.Tokens, cacheKey: cacheKey, now: o.Now}
	if c.base == "" {
		c.base = defaultBase
	}
	if c.hc == nil {
		c.hc = NewHTTPClient(HTTPOptions{})
	}
	if c.tokens == nil {
		c.tokens = NewMemoryTokenCache()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// token returns a usable access token. With stale set, that token was just refused,
// so a different one is fetched unless another caller already replaced it.
func (c *apiCore) token(ctx context.Context, stale string) (string, error) {
	if f, ok := c.tokens.(tokenForgetter); ok && stale != "" {
		f.Forget(c.cacheKey, stale) // read the shared cache: another replica may have a newer one
	}
	fresh := func() (string, bool, error) {
		t, ok, err := c.tokens.Get(ctx, c.cacheKey)
		if err != nil {
			return "", false, fmt.Errorf("wechat: token cache: %w", err)
		}
		if !ok || t.Value == "" || t.Value == stale || !c.now().Add(refreshMargin).Before(t.ExpiresAt) {
			return "", false, nil
		}
		return t.Value, true, nil
	}
	if v, ok, err := fresh(); err != nil || ok {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok, err := fresh(); err != nil || ok {
		return v, err
	}
	v, ttl, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	if err := c.tokens.Put(ctx, c.cacheKey, Token{Value: v, ExpiresAt: c.now().Add(ttl)}); err != nil {
		return "", fmt.Errorf("wechat: token cache: %w", err)
	}
	return v, nil
}

// call performs an authenticated API call and decodes the answer into out. A token
// refusal is retried once with a fresh token.
func (c *apiCore) call(ctx context.Context, op, method, path string, q url.Values, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("wechat: %s: encode: %w", op, err)
		}
	}
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, stale)
		if err != nil {
			return err
		}
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("access_token", tok)
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path+"?"+qq.Encode(), body)
		if err != nil {
			return fmt.Errorf("wechat: %s: %w", op, redactURLError(err))
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		err = c.doJSON(op, req, out)
		if attempt == 0 && errors.Is(err, ErrTokenInvalid) {
			stale = tok
			continue
		}
		return err
	}
}

// doJSON sends req and decodes a JSON answer, mapping failures to typed errors.
// Every JSON call of both clients passes here, and so every answer and failure
// is counted in the metrics (multiline_http_client_responses_total{service="wechat"},
// multiline_wechat_api_errors_total).
func (c *apiCore) doJSON(op string, req *http.Request, out any) (err error) {
	defer func() { observe(op, err) }()
	resp, err := c.do(req)
	if err != nil {
		return &TransportError{Op: op, Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	return decodeJSON(op, resp, out)
}

func decodeJSON(op string, resp *http.Response, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse))
	if err != nil {
		return &TransportError{Op: op, Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode >= 500 {
		return &TransportError{Op: op, Status: resp.StatusCode, Err: errors.New(http.StatusText(resp.StatusCode))}
	}
	var st apiStatus
	if err := json.Unmarshal(b, &st); err != nil {
		if resp.StatusCode >= 400 {
			return &APIError{Op: op, Code: resp.StatusCode, Msg: "http " + resp.Status, http: true}
		}
		return &TransportError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("undecodable answer: %w", err)}
	}
	if st.ErrCode != 0 {
		return &APIError{Op: op, Code: st.ErrCode, Msg: st.ErrMsg}
	}
	if resp.StatusCode != http.StatusOK {
		return &APIError{Op: op, Code: resp.StatusCode, Msg: "http " + resp.Status, http: true}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("wechat: %s: decode: %w", op, err)
		}
	}
	return nil
}

// getToken calls a token endpoint (gettoken or token) without an access token.
func (c *apiCore) getToken(ctx context.Context, op, path string, q url.Values) (string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return "", 0, fmt.Errorf("wechat: %s: %w", op, redactURLError(err))
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.doJSON(op, req, &out); err != nil {
		return "", 0, err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return "", 0, &TransportError{Op: op, Status: http.StatusOK, Err: errors.New("answer without access_token")}
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}
