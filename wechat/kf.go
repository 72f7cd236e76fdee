package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Limits of kf/send_msg.
const (
	MaxMsgIDLen   = 32
	MaxTextBytes  = 2048
	MaxSyncLimit  = 1000
	maxSceneBytes = 32
)

// KfClient calls the WeCom "WeChat Customer Service" (kf) APIs for one corp.
type KfClient struct {
	core *apiCore
}

// NewKfClient builds a client for corpID with the kf secret (WECOM_KF_SECRET).
func NewKfClient(corpID, secret string, o ClientOptions) *KfClient {
	c := newCore(o, DefaultWeComBase, "wecom:"+corpID)
	c.fetch = func(ctx context.Context) (string, time.Duration, error) {
		return c.getToken(ctx, "gettoken", "/cgi-bin/gettoken", url.Values{"corpid": {corpID}, "corpsecret": {secret}})
	}
	return &KfClient{core: c}
}

// SyncRequest asks kf/sync_msg for messages after Cursor.
type SyncRequest struct {
	Cursor   string `json:"cursor,omitempty"`
	Token    string `json:"token,omitempty"` // from the callback; raises the rate limit
	Limit    int    `json:"limit,omitempty"` // 1..1000, default 1000
	OpenKfID string `json:"open_kfid,omitempty"`
	// VoiceFormat 0 is amr, 1 is silk.
	VoiceFormat int `json:"voice_format,omitempty"`
}

// SyncPage is one kf/sync_msg answer.
type SyncPage struct {
	Messages   []Message
	NextCursor string
	HasMore    bool
}

// SyncMsg fetches one page.
func (k *KfClient) SyncMsg(ctx context.Context, req SyncRequest) (SyncPage, error) {
	var out struct {
		NextCursor string            `json:"next_cursor"`
		HasMore    int               `json:"has_more"`
		MsgList    []json.RawMessage `json:"msg_list"`
	}
	if err := k.core.call(ctx, "kf/sync_msg", http.MethodPost, "/cgi-bin/kf/sync_msg", nil, req, &out); err != nil {
		return SyncPage{}, err
	}
	page := SyncPage{NextCursor: out.NextCursor, HasMore: out.HasMore == 1}
	for _, raw := range out.MsgList {
		m, err := ParseKfMessage(raw)
		if err != nil {
			return SyncPage{}, fmt.Errorf("wechat: kf/sync_msg: %w", err)
		}
		page.Messages = append(page.Messages, m)
	}
	return page, nil
}

// SyncAll pages through kf/sync_msg from req.Cursor while has_more is set, calling
// handle for each page. handle should store the messages and page.NextCursor in one
// transaction: if it fails, SyncAll stops and the next pull resumes from the last
// stored cursor. It returns the last cursor handled.
func (k *KfClient) SyncAll(ctx context.Context, req SyncRequest, handle func(ctx context.Context, page SyncPage) error) (string, error) {
	for {
		page, err := k.SyncMsg(ctx, req)
		if err != nil {
			return req.Cursor, err
		}
		if err := handle(ctx, page); err != nil {
			return req.Cursor, fmt.Errorf("wechat: kf sync handler: %w", err)
		}
		if page.NextCursor != "" {
			req.Cursor = page.NextCursor
		}
		if !page.HasMore {
			return req.Cursor, nil
		}
	}
}

// Outgoing is the content of a message we send.
type Outgoing struct {
	Kind    Kind   // KindText, KindImage, KindVoice, KindVideo or KindFile (kf only)
	Text    string // for KindText
	MediaID string // for media kinds, from UploadMedia
}

// KfSend is a kf/send_msg request.
type KfSend struct {
	ToUser   string // external_userid
	OpenKfID string
	// MsgID is our idempotency key: a retry with the same MsgID is delivered once.
	MsgID string
	Outgoing
}

// SendMsg sends a message and returns WeChat's msgid (ours when we gave one).
func (k *KfClient) SendMsg(ctx context.Context, s KfSend) (string, error) {
	if err := ValidateMsgID(s.MsgID); err != nil {
		return "", err
	}
	body, err := outgoingBody(s.Outgoing)
	if err != nil {
		return "", err
	}
	body["touser"], body["open_kfid"], body["msgid"] = s.ToUser, s.OpenKfID, s.MsgID
	var out struct {
		MsgID string `json:"msgid"`
	}
	err = k.core.call(ctx, "kf/send_msg", http.MethodPost, "/cgi-bin/kf/send_msg", nil, body, &out)
	return out.MsgID, err
}

// SendOnEvent answers an event code (welcome_code of enter_session, or msg_code of
// session_status_change) with one message. It does not count against the 5 sends.
func (k *KfClient) SendOnEvent(ctx context.Context, code, msgID string, o Outgoing) (string, error) {
	if msgID != "" {
		if err := ValidateMsgID(msgID); err != nil {
			return "", err
		}
	}
	body, err := outgoingBody(o)
	if err != nil {
		return "", err
	}
	body["code"] = code
	if msgID != "" {
		body["msgid"] = msgID
	}
	var out struct {
		MsgID string `json:"msgid"`
	}
	err = k.core.call(ctx, "kf/send_msg_on_event", http.MethodPost, "/cgi-bin/kf/send_msg_on_event", nil, body, &out)
	return out.MsgID, err
}

// outgoingBody builds the msgtype and content part of a send request.
func outgoingBody(o Outgoing) (map[string]any, error) {
	switch o.Kind {
	case KindText:
		if len(o.Text) > MaxTextBytes {
			return nil, fmt.Errorf("%w: %d bytes, max %d", ErrTextTooLong, len(o.Text), MaxTextBytes)
		}
		if o.Text == "" {
			return nil, fmt.Errorf("wechat: empty text: %w (%w)", ErrInvalidRequest, ErrPermanent)
		}
		return map[string]any{"msgtype": "text", "text": map[string]string{"content": o.Text}}, nil
	case KindImage, KindVoice, KindVideo, KindFile:
		if o.MediaID == "" {
			return nil, fmt.Errorf("wechat: %s message without media_id: %w (%w)", o.Kind, ErrInvalidRequest, ErrPermanent)
		}
		return map[string]any{"msgtype": string(o.Kind), string(o.Kind): map[string]string{"media_id": o.MediaID}}, nil
	}
	return nil, fmt.Errorf("wechat: cannot send message kind %q: %w (%w)", o.Kind, ErrInvalidRequest, ErrPermanent)
}

// ValidateMsgID checks our msgid against WeCom's rule: 1..32 bytes of [0-9a-zA-Z_-].
func ValidateMsgID(id string) error {
	if !validToken(id, MaxMsgIDLen) {
		return fmt.Errorf("%w: %q", ErrInvalidMsgID, id)
	}
	return nil
}

func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ServiceState is a kf session state.
type ServiceState int

// kf session states (kf/service_state).
const (
	StateUntreated ServiceState = 0 // not handled yet: the API may send
	StateBot       ServiceState = 1 // handled by the API ("smart assistant"): the API may send
	StatePool      ServiceState = 2 // waiting in the servicer pool
	StateServicer  ServiceState = 3 // handled by a human servicer in WeCom
	StateEnded     ServiceState = 4 // ended
)

// ServiceStateGet returns the session state and its servicer.
func (k *KfClient) ServiceStateGet(ctx context.Context, openKfID, externalUserID string) (ServiceState, string, error) {
	var out struct {
		ServiceState   int    `json:"service_state"`
		ServicerUserID string `json:"servicer_userid"`
	}
	in := map[string]string{"open_kfid": openKfID, "external_userid": externalUserID}
	err := k.core.call(ctx, "kf/service_state/get", http.MethodPost, "/cgi-bin/kf/service_state/get", nil, in, &out)
	return ServiceState(out.ServiceState), out.ServicerUserID, err
}

// ServiceStateTrans moves the session to state (servicer only for StateServicer) and
// returns the msg_code that allows one send_msg_on_event, if WeChat gave one.
func (k *KfClient) ServiceStateTrans(ctx context.Context, openKfID, externalUserID string, state ServiceState, servicer string) (string, error) {
	in := map[string]any{"open_kfid": openKfID, "external_userid": externalUserID, "service_state": int(state)}
	if servicer != "" {
		in["servicer_userid"] = servicer
	}
	var out struct {
		MsgCode string `json:"msg_code"`
	}
	err := k.core.call(ctx, "kf/service_state/trans", http.MethodPost, "/cgi-bin/kf/service_state/trans", nil, in, &out)
	return out.MsgCode, err
}

// AddContactWay returns a contact link for the kf account whose enter_session events
// carry scene. Append ContactLinkWithParam's scene_param for per-request opt-ins.
func (k *KfClient) AddContactWay(ctx context.Context, openKfID, scene string) (string, error) {
	if scene != "" && !validToken(scene, maxSceneBytes) {
		return "", fmt.Errorf("%w: %q", ErrInvalidScene, scene)
	}
	in := map[string]string{"open_kfid": openKfID}
	if scene != "" {
		in["scene"] = scene
	}
	var out struct {
		URL string `json:"url"`
	}
	err := k.core.call(ctx, "kf/add_contact_way", http.MethodPost, "/cgi-bin/kf/add_contact_way", nil, in, &out)
	return out.URL, err
}

// ContactLinkWithParam appends scene_param to a contact link, as WeCom documents:
// the value comes back in enter_session's scene_param (≤128 bytes before encoding).
func ContactLinkWithParam(link, sceneParam string) (string, error) {
	if len(sceneParam) > 128 {
		return "", fmt.Errorf("%w: scene_param over 128 bytes", ErrInvalidScene)
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("wechat: contact link: %w", err)
	}
	q := u.Query()
	q.Set("scene_param", sceneParam)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// MaxCustomerBatch is how many external_userids customer/batchget takes at once.
const MaxCustomerBatch = 100

// KfCustomer is what kf/customer/batchget tells about a consumer. WeChat reports
// no language here.
type KfCustomer struct {
	ExternalUserID string
	Nickname       string
	Avatar         string
	UnionID        string
}

// Customers asks kf/customer/batchget about 1..100 consumers. Those WeChat does
// not know come back in invalid (WeCom answers errcode 0 for them).
func (k *KfClient) Customers(ctx context.Context, externalUserIDs []string) (found []KfCustomer, invalid []string, err error) {
	if len(externalUserIDs) == 0 || len(externalUserIDs) > MaxCustomerBatch {
		return nil, nil, fmt.Errorf("wechat: kf/customer/batchget: %d ids, want 1..%d: %w (%w)", len(externalUserIDs), MaxCustomerBatch, ErrInvalidRequest, ErrPermanent)
	}
	in := map[string]any{"external_userid_list": externalUserIDs, "need_enter_session_context": 0}
	var out struct {
		CustomerList []struct {
			ExternalUserID string `json:"external_userid"`
			Nickname       string `json:"nickname"`
			Avatar         string `json:"avatar"`
			UnionID        string `json:"unionid"`
		} `json:"customer_list"`
		InvalidExternalUserID []string `json:"invalid_external_userid"`
	}
	if err := k.core.call(ctx, "kf/customer/batchget", http.MethodPost, "/cgi-bin/kf/customer/batchget", nil, in, &out); err != nil {
		return nil, nil, err
	}
	for _, c := range out.CustomerList {
		found = append(found, KfCustomer{ExternalUserID: c.ExternalUserID, Nickname: c.Nickname, Avatar: c.Avatar, UnionID: c.UnionID})
	}
	return found, out.InvalidExternalUserID, nil
}
