package wechat

import "time"

// Source says which WeChat product a message came through.
type Source string

// The two connection kinds (WECHAT_MODE values).
const (
	SourceKf              Source = "wecom-kf"
	SourceOfficialAccount Source = "official-account"
)

// Kind is the normalized kind of an inbound message or event.
type Kind string

// Message kinds. Content kinds come from both products; event kinds are named after
// the WeCom event_type or the Official Account Event.
const (
	KindText        Kind = "text"
	KindImage       Kind = "image"
	KindVoice       Kind = "voice"
	KindVideo       Kind = "video"
	KindFile        Kind = "file"
	KindLocation    Kind = "location"
	KindLink        Kind = "link"
	KindMiniProgram Kind = "miniprogram"
	// KindEnterSession: a consumer opened the kf chat (Scene, SceneParam, WelcomeCode).
	KindEnterSession Kind = "enter_session"
	// KindSendFailed: a message we sent was not delivered (FailMsgID, FailType).
	KindSendFailed Kind = "msg_send_fail"
	// KindSessionStatusChange: the kf session changed hands or ended (ChangeType, ...).
	KindSessionStatusChange Kind = "session_status_change"
	// KindSubscribe: a consumer followed the Official Account; Scene is set when they
	// scanned a parametric QR code.
	KindSubscribe Kind = "subscribe"
	// KindScan: an existing follower scanned a parametric QR code (Scene).
	KindScan Kind = "scan"
	// KindUnsubscribe: a consumer unfollowed the Official Account.
	KindUnsubscribe Kind = "unsubscribe"
	// KindUnknown: a kind this package does not map; RawType says what it was.
	KindUnknown Kind = "unknown"
)

// Origin says who produced a kf message (sync_msg "origin").
type Origin int

// kf origins.
const (
	OriginConsumer Origin = 3
	OriginSystem   Origin = 4
	OriginServicer Origin = 5
)

// FailType values of msg_send_fail that the bridge acts on (others exist).
const (
	FailTypeExpired   = 4  // sent outside the 48 h window
	FailTypeOverLimit = 6  // over the 5-message limit
	FailTypeRejected  = 10 // the consumer refused messages
)

// Message is one normalized inbound message or event from either product.
type Message struct {
	// MsgID is WeChat's id; the sink deduplicates on (Source, MsgID). Official Account
	// events carry none, so one is derived from consumer, time and event.
	MsgID  string
	Source Source
	// Account is the kf account (open_kfid) or the Official Account (ToUserName).
	Account string
	// Consumer is the external_userid (kf) or openid (Official Account).
	Consumer string
	// Servicer is the WeCom userid of a human servicer when Origin is OriginServicer.
	Servicer string
	Origin   Origin
	// SendTime is when WeChat says it was sent; zero when WeChat gave no usable time.
	SendTime time.Time
	Kind     Kind
	// RawType is the msgtype (and event type) exactly as WeChat sent it.
	RawType string

	Text    string // text content
	MenuID  string // kf text: id of a menu item the consumer tapped
	MediaID string // image, voice, video, file; thumb media for miniprogram
	// PicURL is the Official Account image URL (kf images have only a media id).
	PicURL string
	// Format is the Official Account voice format (amr, speex).
	Format string

	Location    *Location
	Link        *Link
	MiniProgram *MiniProgram

	// Scene is the kf contact-way scene, or the Official Account QR scene_str.
	Scene string
	// SceneParam is the kf scene_param appended to a contact link (opt-in requests).
	SceneParam string
	// WelcomeCode allows one kf/send_msg_on_event shortly after enter_session.
	WelcomeCode string
	// Ticket is the Official Account QR ticket of a subscribe/SCAN event.
	Ticket string

	FailMsgID string // msg_send_fail: our msgid that failed
	FailType  int    // msg_send_fail: see FailType constants

	ChangeType  int    // session_status_change: 1 taken, 2 transferred, 3 ended, 4 reopened
	OldServicer string // session_status_change
	NewServicer string // session_status_change
	MsgCode     string // session_status_change: allows one send_msg_on_event
}

// Location is a shared location.
type Location struct {
	Latitude  float64
	Longitude float64
	Name      string
	Address   string
	Scale     int // Official Account map zoom
}

// Link is a shared web link.
type Link struct {
	Title       string
	Description string
	URL         string
	PicURL      string
}

// MiniProgram is a shared mini program card.
type MiniProgram struct {
	Title        string
	AppID        string
	PagePath     string
	ThumbMediaID string
}

// PullRequest is what a kf callback says: messages are waiting for this account and
// may be fetched with kf/sync_msg using Token (valid for 10 minutes).
type PullRequest struct {
	OpenKfID string
	Token    string
	// Received is when the callback arrived (from the handler's clock).
	Received time.Time
}
