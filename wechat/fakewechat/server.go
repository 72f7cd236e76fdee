// Package fakewechat is an in-process WeChat: the WeCom kf and Official Account APIs
// the wechat package calls, with WeChat's rules (expiring tokens, 5 sends per 48 h,
// msgid deduplication, sync cursors, encrypted callbacks), a controllable clock,
// fault injection, and /fake/... control endpoints for playing the consumer.
//
// It is an http.Handler: use it with httptest in tests, or mount it in the binary's
// local mode and point WECOM_API_BASE / WECHAT_API_BASE at it.
package fakewechat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/multiline/multiline/wechat"
)

// Defaults used when Config leaves a field empty.
const (
	DefaultOpenKfID = "wkFAKEKF000000000001"
	DefaultTokenTTL = 2 * time.Hour
	// SendLimit and Window are WeChat's rule: 5 messages within 48 h of the consumer's.
	SendLimit = 5
	Window    = 48 * time.Hour
	// welcomeCodeTTL is how long a welcome_code may be used (WeCom: 20 s).
	welcomeCodeTTL = 20 * time.Second
)

// Config describes the accounts the fake accepts and where it posts callbacks.
type Config struct {
	CorpID    string // WeCom corp id (kf)
	KfSecret  string
	AppID     string // Official Account
	AppSecret string
	// CallbackToken and EncodingAESKey sign and encrypt callbacks (as configured in the
	// WeCom or Official Account console). An empty EncodingAESKey in Official Account
	// mode posts plaintext callbacks.
	CallbackToken  string
	EncodingAESKey string
	// CallbackURL receives consumer traffic; empty means nobody is told.
	CallbackURL string
	// Mode is which product consumers write through (default wecom-kf).
	Mode     wechat.Source
	OpenKfID string
	TokenTTL time.Duration
	// Now is the base clock; Advance adds to it. Nil means time.Now.
	Now func() time.Time
	// HTTPClient posts callbacks; nil means a client with a 5 s timeout (WeChat's).
	HTTPClient *http.Client
}

// Server is the fake. Create it with New.
type Server struct {
	cfg    Config
	cipher *wechat.Cipher
	mux    *http.ServeMux

	mu        sync.Mutex
	offset    time.Duration
	seq       int
	tokens    map[string]time.Time // access token -> expiry
	consumers map[string]*consumer
	syncLog   []map[string]any
	syncToks  map[string]bool
	sent      map[string]string // msgid -> consumer, for dedup
	welcome   map[string]welcomeCode
	media     map[string]mediaItem
	links     map[string]string // contact-link or QR id -> scene
	faults    []Fault
}

type consumer struct {
	id       string
	lastMsg  time.Time // zero: never wrote
	sends    int
	state    wechat.ServiceState
	servicer string
	follower bool // Official Account: has subscribed
	inbox    []Delivered
}

type welcomeCode struct {
	consumer string
	expires  time.Time
}

type mediaItem struct {
	typ, filename, contentType string
	data                       []byte
}

// Delivered is one message a consumer received.
type Delivered struct {
	MsgID   string    `json:"msgid"`
	Kind    string    `json:"kind"`
	Text    string    `json:"text,omitempty"`
	MediaID string    `json:"media_id,omitempty"`
	At      time.Time `json:"at"`
	// Via is the API that delivered it: kf/send_msg, kf/send_msg_on_event or message/custom/send.
	Via string `json:"via"`
}

// New builds a fake from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Mode == "" {
		cfg.Mode = wechat.SourceKf
	}
	if cfg.OpenKfID == "" {
		cfg.OpenKfID = DefaultOpenKfID
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	s := &Server{
		cfg:       cfg,
		tokens:    map[string]time.Time{},
		consumers: map[string]*consumer{},
		syncToks:  map[string]bool{},
		sent:      map[string]string{},
		welcome:   map[string]welcomeCode{},
		media:     map[string]mediaItem{},
		links:     map[string]string{},
	}
	receiveID := cfg.CorpID
	if cfg.Mode == wechat.SourceOfficialAccount {
		receiveID = cfg.AppID
	}
	if cfg.EncodingAESKey != "" {
		c, err := wechat.NewCipher(cfg.CallbackToken, cfg.EncodingAESKey, receiveID)
		if err != nil {
			return nil, fmt.Errorf("fakewechat: %w", err)
		}
		s.cipher = c
	} else if cfg.Mode == wechat.SourceKf {
		return nil, fmt.Errorf("fakewechat: kf mode needs an EncodingAESKey")
	}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetCallbackURL changes where callbacks go (handy once an httptest server is up).
func (s *Server) SetCallbackURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.CallbackURL = u
}

// Now is the fake's clock: the base clock plus every Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.cfg.Now().Add(s.offset) }

// Advance moves the fake's clock forward (tokens expire, windows close).
func (s *Server) Advance(d time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
	return s.nowLocked()
}

// Inbox returns what a consumer received, in order.
func (s *Server) Inbox(consumerID string) []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.consumers[consumerID]; c != nil {
		return append([]Delivered(nil), c.inbox...)
	}
	return nil
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%06d", prefix, s.seq)
}

func (s *Server) consumerLocked(id string) *consumer {
	c := s.consumers[id]
	if c == nil {
		c = &consumer{id: id}
		s.consumers[id] = c
	}
	return c
}

// writeJSON answers like WeChat: HTTP 200 with errcode in the body, always.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg})
}

func ok(extra map[string]any) map[string]any {
	out := map[string]any{"errcode": 0, "errmsg": "ok"}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
