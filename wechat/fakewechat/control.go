package fakewechat

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Control endpoints for playing the consumer (used by `multiline simulate`).
// They answer JSON; errors are {"error": "..."} with a 4xx/5xx status.
func (s *Server) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /fake/consumer/send", s.ctlSend)
	m.HandleFunc("POST /fake/consumer/arrive", s.ctlArrive)
	m.HandleFunc("GET /fake/consumer/inbox", s.ctlInbox)
	m.HandleFunc("POST /fake/clock/advance", s.ctlAdvance)
	m.HandleFunc("POST /fake/faults", s.ctlFault)
}

// SendRequest is the body of POST /fake/consumer/send: text, an image in base64
// (Image), or media of any kind a consumer sends (Kind image, voice, video or
// file, with Data in base64). A set Profile field changes what WeChat reports
// about the consumer from then on.
type SendRequest struct {
	Consumer string `json:"consumer"`
	Text     string `json:"text,omitempty"`
	Image    string `json:"image,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Data     string `json:"data,omitempty"`
	Filename string `json:"filename,omitempty"`
	Profile
}

// ArriveRequest is the body of POST /fake/consumer/arrive.
type ArriveRequest struct {
	Consumer   string `json:"consumer"`
	Link       string `json:"link,omitempty"`
	Scene      string `json:"scene,omitempty"`
	SceneParam string `json:"scene_param,omitempty"`
	Profile
}

// AdvanceRequest is the body of POST /fake/clock/advance; By is a Go duration ("24h").
type AdvanceRequest struct {
	By string `json:"by"`
}

// InboxResponse is the answer of GET /fake/consumer/inbox?consumer=ID.
type InboxResponse struct {
	Consumer string      `json:"consumer"`
	Now      time.Time   `json:"now"`
	Messages []Delivered `json:"messages"`
}

// ActionResponse answers the consumer actions.
type ActionResponse struct {
	MsgID string `json:"msgid,omitempty"`
	// Callback is "ok", "none" (no callback URL) or the failure.
	Callback string    `json:"callback"`
	Now      time.Time `json:"now"`
}

func ctlError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 30<<20)).Decode(v); err != nil {
		ctlError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

func (s *Server) actionDone(w http.ResponseWriter, msgID string, err error) {
	out := ActionResponse{MsgID: msgID, Callback: "ok", Now: s.Now()}
	var cbErr *CallbackError
	switch {
	case errors.Is(err, ErrNoCallback):
		out.Callback = "none"
	case errors.As(err, &cbErr):
		out.Callback = cbErr.Error()
	case err != nil:
		ctlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, out)
}

// setProfile applies the profile fields a control request set.
func (s *Server) setProfile(consumerID string, p Profile) {
	if p == (Profile{}) || consumerID == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consumerLocked(consumerID)
	if p.Nickname != "" {
		c.profile.Nickname = p.Nickname
	}
	if p.Language != "" {
		c.profile.Language = p.Language
	}
	if p.AvatarURL != "" {
		c.profile.AvatarURL = p.AvatarURL
	}
}

func (s *Server) ctlSend(w http.ResponseWriter, r *http.Request) {
	var in SendRequest
	if !readJSON(w, r, &in) {
		return
	}
	s.setProfile(in.Consumer, in.Profile)
	var (
		id  string
		err error
	)
	switch {
	case in.Kind != "" || in.Data != "":
		data, derr := base64.StdEncoding.DecodeString(in.Data)
		if derr != nil {
			ctlError(w, http.StatusBadRequest, derr)
			return
		}
		if in.Filename == "" {
			in.Filename = in.Kind
		}
		id, err = s.ConsumerSendsMedia(r.Context(), in.Consumer, in.Kind, in.Filename, data)
	case in.Image != "":
		data, derr := base64.StdEncoding.DecodeString(in.Image)
		if derr != nil {
			ctlError(w, http.StatusBadRequest, derr)
			return
		}
		if in.Filename == "" {
			in.Filename = "image.png"
		}
		id, err = s.ConsumerSendsImage(r.Context(), in.Consumer, in.Filename, data)
	case in.Text != "":
		id, err = s.ConsumerSends(r.Context(), in.Consumer, in.Text)
	default:
		err = errors.New("text or image required")
	}
	s.actionDone(w, id, err)
}

func (s *Server) ctlArrive(w http.ResponseWriter, r *http.Request) {
	var in ArriveRequest
	if !readJSON(w, r, &in) {
		return
	}
	s.setProfile(in.Consumer, in.Profile)
	s.actionDone(w, "", s.Arrive(r.Context(), in.Consumer, in.Link, in.Scene, in.SceneParam))
}

func (s *Server) ctlInbox(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("consumer")
	if id == "" {
		ctlError(w, http.StatusBadRequest, errors.New("consumer required"))
		return
	}
	msgs := s.Inbox(id)
	if msgs == nil {
		msgs = []Delivered{}
	}
	writeJSON(w, InboxResponse{Consumer: id, Now: s.Now(), Messages: msgs})
}

func (s *Server) ctlAdvance(w http.ResponseWriter, r *http.Request) {
	var in AdvanceRequest
	if !readJSON(w, r, &in) {
		return
	}
	d, err := time.ParseDuration(in.By)
	if err != nil || d <= 0 {
		ctlError(w, http.StatusBadRequest, errors.New("by must be a positive duration such as 24h"))
		return
	}
	writeJSON(w, map[string]any{"now": s.Advance(d)})
}

func (s *Server) ctlFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Fault
		DelayText string `json:"delay_text,omitempty"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.DelayText != "" {
		d, err := time.ParseDuration(in.DelayText)
		if err != nil {
			ctlError(w, http.StatusBadRequest, err)
			return
		}
		in.Delay = d
	}
	if in.Path == "" {
		ctlError(w, http.StatusBadRequest, errors.New("path required"))
		return
	}
	s.InjectFault(in.Fault)
	writeJSON(w, map[string]string{"status": "queued"})
}
