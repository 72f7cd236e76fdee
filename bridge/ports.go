package bridge

import (
	"context"
	"errors"
	"time"
)

// This file names what the bridge needs from the two sides and what it offers
// them. The adapters (wechat/, bot/, teamsapp/) implement or call these; the core
// imports none of them.

// Employee is a Teams user who may chat with consumers.
type Employee struct {
	ID          EmployeeID
	Company     CompanyID
	TenantID    string // Entra tenant
	AADObjectID string // Entra object id of the user
	TeamsUserID string // Bot Framework user id (29:…)
	// UPN is the Entra user principal name (ann@contoso.com), learnt from the
	// tab's SSO token or the directory; the archive addresses the employee by it.
	// Empty until learnt.
	UPN     string
	Name    string
	Enabled bool
	Locale  string
	// Conversation is where the bot reaches the employee; empty until the app is installed.
	Conversation ConversationRef
	// Blocked says Teams refused deliveries (bot disabled or blocked); they resume when
	// the employee interacts with the bot again.
	Blocked       bool
	BlockedReason string
	// ContactScene and ContactLink are the employee's personal WeChat contact link.
	ContactScene, ContactLink string
	// Focus is the thread that plain text in the bot chat goes to.
	Focus ThreadID
}

// ConversationRef is what the bot needs to message an employee proactively.
type ConversationRef struct {
	ServiceURL     string `json:"service_url,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	BotID          string `json:"bot_id,omitempty"`
	TenantID       string `json:"tenant_id,omitempty"`
	UserID         string `json:"user_id,omitempty"`
}

// Installation is what Teams tells the bot when an employee installs the app.
type Installation struct {
	TenantID     string
	AADObjectID  string
	TeamsUserID  string
	Name         string
	Locale       string
	Conversation ConversationRef
}

// ThreadSummary is a thread as an employee sees it in a list.
type ThreadSummary struct {
	ID           ThreadID `json:"id"`
	ConsumerName string   `json:"consumer_name"`
	// ConsumerAvatarURL is the consumer's WeChat avatar, if WeChat reported one.
	ConsumerAvatarURL string        `json:"consumer_avatar_url,omitempty"`
	Status            Status        `json:"status"`
	Participants      []string      `json:"participants"`
	LastMessage       string        `json:"last_message"`
	LastAt            time.Time     `json:"last_at"`
	Queued            int           `json:"queued"`
	QueueLimit        int           `json:"queue_limit"`
	SendsLeft         int           `json:"sends_left"`
	WindowEnd         time.Time     `json:"window_end,omitzero"`
	OptInLink         string        `json:"opt_in_link,omitempty"`
	Messages          []MessageView `json:"messages,omitempty"`
}

// MessageView is one message as employees see it.
type MessageView struct {
	ID     MessageID `json:"id"`
	Thread ThreadID  `json:"thread"`
	From   Party     `json:"from"`
	// Author is the employee who wrote the message (From FromEmployee), or for
	// whom a note is kept (From ToEmployee): the tab tells "mine" by it, since
	// two colleagues may share a name.
	Author     EmployeeID    `json:"author,omitempty"`
	AuthorName string        `json:"author_name,omitempty"`
	Text       string        `json:"text"`
	Media      *MediaView    `json:"media,omitempty"`
	Notice     NoticeKind    `json:"notice,omitempty"`
	Status     MessageStatus `json:"status"`
	Reason     string        `json:"reason,omitempty"`
	Position   int           `json:"position,omitempty"`
	At         time.Time     `json:"at"`
	// Original is what the author wrote when a lexicon rule redacted what was
	// sent (Text): the author keeps it. Empty otherwise, and for consumers'
	// messages, whose redacted part employees must not see.
	Original string `json:"original,omitempty"`
}

// MediaView describes a media attachment; URL is served by the tab and needs its auth.
type MediaView struct {
	Kind     string `json:"kind"`
	FileName string `json:"file_name,omitempty"`
	URL      string `json:"url"`
}

// Delivery is one thing to show an employee in Teams: a consumer message, a notice,
// or a status change of one of their messages. Deliveries run as durable jobs.
type Delivery struct {
	Employee Employee
	Kind     DeliveryKind
	Thread   ThreadSummary
	Message  MessageView // the consumer message or the employee's message whose status changed
	Notice   NoticeKind
	Text     string // the notice's rendered text
	Lang     Language
}

// DeliveryKind says what a Delivery carries.
type DeliveryKind string

// Delivery kinds.
const (
	DeliverConsumerMessage DeliveryKind = "consumer_message"
	DeliverNotice          DeliveryKind = "notice"
	DeliverStatus          DeliveryKind = "status"
)

// TeamsSender shows deliveries to employees (implemented by bot/).
type TeamsSender interface {
	Deliver(ctx context.Context, d Delivery) error
}

// Errors a TeamsSender returns so that the job runner can act on them.
var (
	// ErrEmployeeUnreachable: Teams refused for this employee (bot disabled or blocked);
	// stop until they interact again. The delivery is kept.
	ErrEmployeeUnreachable = errors.New("employee cannot be reached in Teams")
)

// RetryAfterError asks the job runner to try again after Wait (Teams 429,
// WeChat rate limits). It wraps the cause.
type RetryAfterError struct {
	Wait time.Duration
	Err  error
}

func (e *RetryAfterError) Error() string {
	return "retry after " + e.Wait.String() + ": " + e.Err.Error()
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// OutboundMessage is a message for the consumer, ready for WeChat.
type OutboundMessage struct {
	ID       MessageID
	Company  CompanyID
	Consumer ConsumerID
	Account  string // the WeChat account (open_kfid / Official Account) the consumer wrote to
	Body     Content
}

// WeChatSender sends messages to consumers (implemented by wechat/ through an adapter).
// A send must be idempotent by OutboundMessage.ID. A final refusal is a *SendError;
// anything else is transient and retried with the same ID.
type WeChatSender interface {
	Send(ctx context.Context, m OutboundMessage) error
}

// SendError is WeChat's final refusal of a send, in the policy's terms.
type SendError struct {
	Reason FailReason
	Err    error
}

func (e *SendError) Error() string {
	return "wechat refused the send (" + string(e.Reason) + "): " + e.Err.Error()
}
func (e *SendError) Unwrap() error { return e.Err }

// Inbound is something a consumer did on WeChat, as the WeChat adapter normalized it.
type Inbound struct {
	Kind         InboundKind
	WeChatMsgID  string // WeChat's id, for deduplication
	Account      string // open_kfid, or the Official Account's id
	Consumer     ConsumerID
	ConsumerName string
	Language     string // the consumer's WeChat language, if known
	At           time.Time
	Body         Content // for InboundMessage; media already stored by the adapter
	// Scene and SceneParam say which link the consumer came through: a personal
	// contact link (Scene) or an opt-in request (SceneParam, or Scene for an
	// Official Account QR code).
	Scene, SceneParam string
	// FailedMessage and FailReason describe a send WeChat reported as failed later
	// (WeCom msg_send_fail).
	FailedMessage MessageID
	FailReason    FailReason
	// Media names a consumer's media that is not downloaded yet (a callback that
	// must be answered within WeChat's 5 s). The receive job fetches it with
	// WeChatSide.FetchMedia before the message is applied.
	Media *PendingMedia `json:",omitempty"`
	// AvatarURL and ProfiledAt are set when WeChat was asked about the consumer
	// for this inbound (see Service.withProfiles): ProfiledAt is when.
	AvatarURL  string    `json:",omitempty"`
	ProfiledAt time.Time `json:",omitzero"`
}

// PendingMedia is a consumer's media item as WeChat names it, before download.
type PendingMedia struct {
	Kind     string // image, voice, video or file
	MediaID  string // WeChat's media_id
	FileName string
}

// InboundKind says what an Inbound is.
type InboundKind string

// Inbound kinds.
const (
	InboundMessage    InboundKind = "message"
	InboundArrived    InboundKind = "arrived"     // entered a session / scanned a QR code
	InboundSendFailed InboundKind = "send_failed" // a send we made failed after it was accepted
)

// PullBatch is one page of WeChat's sync_msg.
type PullBatch struct {
	Messages []Inbound
	Cursor   string
	More     bool
}

// WeChatSide is everything the service asks of WeChat (implemented by an adapter
// over wechat/). Send must be idempotent by message ID; a final refusal is a *SendError.
type WeChatSide interface {
	WeChatSender
	// Pull fetches the page after cursor for an account (WeCom kf sync_msg); token is
	// the one the callback carried.
	Pull(ctx context.Context, account, token, cursor string) (PullBatch, error)
	// ContactLink returns a link (or QR code URL) that brings a consumer to the
	// account with this scene and scene parameter.
	ContactLink(ctx context.Context, account, scene, sceneParam string) (string, error)
	// EndSession ends the consumer's WeChat session (nobody serves them any more).
	EndSession(ctx context.Context, account string, consumer ConsumerID) error
	// FetchMedia downloads a consumer's media item, stores it, and returns the
	// content that refers to it.
	FetchMedia(ctx context.Context, account string, m PendingMedia) (Content, error)
	// CanSend reports whether the account can send body to a consumer; a refusal
	// wraps ErrUnsupportedContent and says why.
	CanSend(body Content) error
	// Profiles asks WeChat about consumers (Official Account user/info; kf
	// customer/batchget, in as few calls as its batch limit allows), so that a
	// page of sync_msg costs one call, not one per consumer. The map holds the
	// consumers WeChat reported on; fields it does not report are empty.
	Profiles(ctx context.Context, account string, consumers []ConsumerID) (map[ConsumerID]Profile, error)
}

// Profile is what WeChat reports about a consumer.
type Profile struct {
	Name      string
	Language  string // WeChat's language code (en, zh_CN, …); empty if not reported
	AvatarURL string
}

// Installer installs the Teams app for an employee (Microsoft Graph), so the bot can
// reach someone an admin enabled before they opened Teams. It must be idempotent.
// A refusal the admin must fix (a missing permission) wraps ErrNeedsAdmin.
type Installer interface {
	InstallApp(ctx context.Context, e Employee) error
}

// ErrNeedsAdmin marks an error only an admin can fix, such as a missing permission.
var ErrNeedsAdmin = errors.New("an admin must act")
