package wechat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Sink receives verified inbound traffic. Both methods must be quick and durable
// (a database insert): the callback is acknowledged only after they return nil, and
// WeChat retries when it is not acknowledged within 5 s. Retries repeat the same
// PullRequest or MsgID, so the sink must deduplicate.
type Sink interface {
	// PullRequested records that kf/sync_msg is due for an account.
	PullRequested(ctx context.Context, req PullRequest) error
	// Received records an Official Account message or event (content is in the callback).
	Received(ctx context.Context, msg Message) error
}

// Callback defaults.
const (
	DefaultMaxBody = 64 << 10
	DefaultMaxSkew = 5 * time.Minute
)

// CallbackConfig configures a CallbackHandler.
type CallbackConfig struct {
	// Mode is SourceKf or SourceOfficialAccount.
	Mode Source
	// Token is the callback Token from the console.
	Token string
	// EncodingAESKey is required for kf. For an Official Account, empty means
	// plaintext mode; set, it means safe mode and plaintext posts are refused.
	EncodingAESKey string
	// ReceiveID is the corp id (kf) or app id (Official Account).
	ReceiveID string
	Sink      Sink
	// Now is the clock for the timestamp check; nil means time.Now.
	Now func() time.Time
	// MaxBody bounds the request body; 0 means DefaultMaxBody.
	MaxBody int64
	// MaxSkew bounds |now - timestamp|; 0 means DefaultMaxSkew.
	MaxSkew time.Duration
	// Logger receives one line per rejection; nil means slog.Default().
	Logger *slog.Logger
}

// CallbackHandler serves GET (URL verification) and POST (events) on the callback URL.
type CallbackHandler struct {
	cfg    CallbackConfig
	cipher *Cipher // nil in Official Account plaintext mode
}

// NewCallbackHandler validates cfg and builds the handler.
func NewCallbackHandler(cfg CallbackConfig) (*CallbackHandler, error) {
	if cfg.Mode != SourceKf && cfg.Mode != SourceOfficialAccount {
		return nil, fmt.Errorf("wechat: unknown callback mode %q", cfg.Mode)
	}
	if cfg.Sink == nil || cfg.Token == "" || cfg.ReceiveID == "" {
		return nil, errors.New("wechat: callback needs a sink, a token and a receive id")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &CallbackHandler{cfg: cfg}
	if cfg.Mode == SourceKf || cfg.EncodingAESKey != "" {
		c, err := NewCipher(cfg.Token, cfg.EncodingAESKey, cfg.ReceiveID)
		if err != nil {
			return nil, err
		}
		h.cipher = c
	}
	return h, nil
}

// rejection is a 4xx answer with a reason kept for the log only: callers learn nothing.
type rejection struct {
	status int
	reason error
}

func (r *rejection) Error() string { return r.reason.Error() }

func reject(status int, format string, args ...any) error {
	return &rejection{status: status, reason: fmt.Errorf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var (
		body string
		err  error
	)
	switch r.Method {
	case http.MethodGet:
		body, err = h.verifyURL(r)
	case http.MethodPost:
		err = h.receive(r)
		body = "success"
	default:
		w.Header().Set("Allow", "GET, POST")
		err = reject(http.StatusMethodNotAllowed, "method %s", r.Method)
	}
	var rej *rejection
	switch {
	case errors.As(err, &rej):
		h.cfg.Logger.WarnContext(r.Context(), "wechat callback rejected", "method", r.Method, "status", rej.status, "reason", rej.reason)
		http.Error(w, http.StatusText(rej.status), rej.status)
	case err != nil:
		// The sink failed: answer 500 so WeChat retries later.
		h.cfg.Logger.ErrorContext(r.Context(), "wechat callback sink failed", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, body)
	}
}

// verifyURL answers the console's URL check with the plaintext echostr only.
func (h *CallbackHandler) verifyURL(r *http.Request) (string, error) {
	q := r.URL.Query()
	ts, nonce, echo := q.Get("timestamp"), q.Get("nonce"), q.Get("echostr")
	if ts == "" || nonce == "" || echo == "" {
		return "", reject(http.StatusBadRequest, "missing timestamp, nonce or echostr")
	}
	if err := h.checkTimestamp(ts); err != nil {
		return "", err
	}
	if h.cfg.Mode == SourceOfficialAccount {
		// Official Accounts verify the URL with a plain signature in both modes.
		if err := verifySignature(q.Get("signature"), Signature(h.cfg.Token, ts, nonce)); err != nil {
			return "", reject(http.StatusUnauthorized, "url check: %w", err)
		}
		return echo, nil
	}
	if err := h.cipher.Verify(q.Get("msg_signature"), ts, nonce, echo); err != nil {
		return "", reject(http.StatusUnauthorized, "url check: %w", err)
	}
	plain, err := h.cipher.Decrypt(echo)
	if err != nil {
		return "", reject(http.StatusBadRequest, "url check: %w", err)
	}
	return string(plain), nil
}

func (h *CallbackHandler) checkTimestamp(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return reject(http.StatusBadRequest, "timestamp %q: %w", ts, err)
	}
	skew := h.cfg.Now().Sub(time.Unix(sec, 0))
	if skew > h.cfg.MaxSkew || skew < -h.cfg.MaxSkew {
		return reject(http.StatusBadRequest, "timestamp %s is %s off", ts, skew)
	}
	return nil
}

func (h *CallbackHandler) readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBody+1))
	if err != nil {
		return nil, reject(http.StatusBadRequest, "read body: %w", err)
	}
	if int64(len(b)) > h.cfg.MaxBody {
		return nil, reject(http.StatusRequestEntityTooLarge, "body over %d bytes", h.cfg.MaxBody)
	}
	return b, nil
}

// receive authenticates a POST and hands its content to the sink.
func (h *CallbackHandler) receive(r *http.Request) error {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if ts == "" || nonce == "" {
		return reject(http.StatusBadRequest, "missing timestamp or nonce")
	}
	if err := h.checkTimestamp(ts); err != nil {
		return err
	}
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	var plain []byte
	if h.cipher == nil {
		// Official Account plaintext mode: the query signature covers token, timestamp, nonce.
		if err := verifySignature(q.Get("signature"), Signature(h.cfg.Token, ts, nonce)); err != nil {
			return reject(http.StatusUnauthorized, "plaintext post: %w", err)
		}
		plain = body
	} else {
		if h.cfg.Mode == SourceOfficialAccount && q.Get("encrypt_type") != "aes" {
			return reject(http.StatusBadRequest, "safe mode refuses encrypt_type %q", q.Get("encrypt_type"))
		}
		var env envelope
		if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
			return reject(http.StatusBadRequest, "envelope: no Encrypt element (%v)", err)
		}
		if err := h.cipher.Verify(q.Get("msg_signature"), ts, nonce, env.Encrypt); err != nil {
			return reject(http.StatusUnauthorized, "post: %w", err)
		}
		if plain, err = h.cipher.Decrypt(env.Encrypt); err != nil {
			return reject(http.StatusBadRequest, "post: %w", err)
		}
	}
	if h.cfg.Mode == SourceKf {
		return h.receiveKf(r.Context(), plain)
	}
	msg, err := ParseOfficialAccountXML(plain)
	if err != nil {
		return reject(http.StatusBadRequest, "%w", err)
	}
	if msg.Account == "" {
		return reject(http.StatusBadRequest, "official account message without ToUserName")
	}
	return h.cfg.Sink.Received(r.Context(), msg)
}

func (h *CallbackHandler) receiveKf(ctx context.Context, plain []byte) error {
	var cb kfCallback
	if err := xml.Unmarshal(plain, &cb); err != nil {
		return reject(http.StatusBadRequest, "kf callback xml: %w", err)
	}
	if cb.MsgType != "event" || cb.Event != "kf_msg_or_event" {
		// Other WeCom events (account changes, ...) are acknowledged and ignored so
		// WeChat does not retry them.
		h.cfg.Logger.Info("wechat kf callback ignored", "msgtype", cb.MsgType, "event", cb.Event)
		return nil
	}
	if cb.Token == "" || cb.OpenKfID == "" {
		return reject(http.StatusBadRequest, "kf_msg_or_event without Token or OpenKfId")
	}
	return h.cfg.Sink.PullRequested(ctx, PullRequest{OpenKfID: cb.OpenKfID, Token: cb.Token, Received: h.cfg.Now()})
}
