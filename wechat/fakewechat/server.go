// Package fakewechat is an in-process WeChat: the WeCom kf and Official Account APIs
// the wechat package calls, with WeChat's rules (expiring tokens, 5 sends per 48 h,
// msgid deduplication, sync cursors, encrypted callbacks), a controllable clock,
// fault injection, and /fake/... control endpoints for playing the consumer.
//
// It is stricter than us, as WeChat documents: it knows exactly one kf account and
// refuses any other open_kfid (95000); a token from one product is unknown to the
// other; media must be uploaded with the type it is sent as, within WeChat's size
// limits; an Official Account has no file messages. Tests read what consumers got
// with Inbox: each Delivered names its kind, file name and size.
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
	// DefaultOpenKfID is the simulator's kf account in local mode.
	DefaultOpenKfID = "wkFAKEKF000000000001"
	// DefaultKfAccountName is the kf account's name in kf/account/list.
	DefaultKfAccountName = "MultiLine simulator"
	// DefaultTokenTTL is WeChat's documented access token life (expires_in 7200).
	DefaultTokenTTL = 7200 * time.Second
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
	Mode wechat.Source
	// OpenKfID is the one kf account the fake knows (default DefaultOpenKfID);
	// every kf API refuses any other with errcode 95000. KfAccountName is its name
	// in kf/account/list (default DefaultKfAccountName).
	OpenKfID, KfAccountName string
	// TokenTTL is how long an access token lives (default DefaultTokenTTL); after it,
	// calls with the token get 42001.
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
	tokens    map[string]issuedToken
	consumers map[string]*consumer
	syncLog   []map[string]any
	syncToks  map[string]bool
	sent      map[string]string // msgid -> consumer, for dedup
	welcome   map[string]welcomeCode
	media     map[string]mediaItem
	links     map[string]string // contact-link or QR id -> scene
	faults    []Fault
}

// issuedToken is an access token the fake handed out: which product's, and until when.
type issuedToken struct {
	product wechat.Source
	expires time.Time
}

type consumer struct {
	id       string
	profile  Profile
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

// Profile is what WeChat tells about a consumer: Official Account user/info
// reports all three, kf customer/batchget the nickname and avatar. Set it with
// SetProfile (or the nickname, language and avatar fields of the control
// endpoints); an unset profile answers empty fields.
type Profile struct {
	Nickname string `json:"nickname,omitempty"`
	// Language is WeChat's code: zh_CN, zh_TW, en, …
	Language  string `json:"language,omitempty"`
	AvatarURL string `json:"avatar,omitempty"`
}

// Delivered is one message a consumer received.
type Delivered struct {
	MsgID   string `json:"msgid"`
	Kind    string `json:"kind"`
	Text    string `json:"text,omitempty"`
	MediaID string `json:"media_id,omitempty"`
	// FileName, ContentType and Size describe the media as it was uploaded.
	FileName    string    `json:"file_name,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Size        int       `json:"size,omitempty"`
	At          time.Time `json:"at"`
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
	if cfg.KfAccountName == "" {
		cfg.KfAccountName = DefaultKfAccountName
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
		tokens:    map[string]issuedToken{},
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

// OpenKfID is the one kf account the fake knows.
func (s *Server) OpenKfID() string { return s.cfg.OpenKfID }

// SetProfile sets what user/info and customer/batchget report about a consumer.
func (s *Server) SetProfile(consumerID string, p Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consumerLocked(consumerID).profile = p
}

// Media returns an uploaded or consumer-sent media item, for tests that check
// what reached WeChat byte for byte.
func (s *Server) Media(mediaID string) (fileName, contentType string, data []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[mediaID]
	return m.filename, m.contentType, append([]byte(nil), m.data...), ok
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
