package archive

import (
	"encoding/json"
	"time"
)

// Role says in what capacity a Party acts, so a transcript can say "consumer" or
// "employee" and an address can be derived.
type Role string

// Roles of parties.
const (
	RoleConsumer Role = "consumer"
	RoleEmployee Role = "employee"
	RoleAdmin    Role = "admin"
	RoleReviewer Role = "reviewer"
	// RoleSystem is the product itself (automatic notices, retention, anchors).
	RoleSystem Role = "system"
)

// Party is a person (or the product) as the record names them at the time of the
// event. It is copied into each event rather than referenced, because the record
// must show who someone was then, even after a rename or a deleted account.
type Party struct {
	Role Role `json:"role"` // says how to address and label them
	// ID is the WeChat id (WeCom external_userid or Official Account openid) of a
	// consumer, or the Entra object id of an employee, admin or reviewer.
	ID string `json:"id"`
	// Address is the Entra UPN of an employee (empty for a consumer).
	Address string `json:"address,omitempty"`
	// Name is the display name: a consumer's WeChat nickname, an employee's name.
	Name string `json:"name,omitempty"`
}

// MessageBody is a message in either direction (KindMessageIn, KindMessageOut).
type MessageBody struct {
	// MessageID is the bridge's id of the message, which later events (status,
	// lexicon, media) refer to.
	MessageID string `json:"message_id"`
	// Author is who wrote it: the consumer inbound, an employee outbound.
	Author Party `json:"author"`
	// Text is what the author wrote: always the original, even when lexicon
	// rules redacted or blocked it.
	Text string `json:"text,omitempty"`
	// Shown is what the other side saw when it differs from Text (redaction);
	// absent means they saw Text. A blocked message has a KindStatus "blocked".
	Shown *string `json:"shown,omitempty"`
	// MediaKind is image, voice, video or file when the message carries media; the
	// item itself, with its hash, is a KindMedia event.
	MediaKind string `json:"media_kind,omitempty"`
	// FileName is the media's original name, if it has one.
	FileName string `json:"file_name,omitempty"`
}

// NoticeBody is an automatic notice (KindNoticeConsumer, KindNoticeEmployees),
// recorded as the recipient saw it, in their language.
type NoticeBody struct {
	// MessageID is the notice's own message id, when it was sent as a message.
	MessageID string `json:"message_id,omitempty"`
	// Template names the notice (e.g. "on_hold", "lexicon_blocked").
	Template string `json:"template,omitempty"`
	// Language is the notice's language (en, zh-CN).
	Language string `json:"language,omitempty"`
	// Text is the notice exactly as the recipient saw it.
	Text string `json:"text"`
	// To lists the employees a notice to employees went to.
	To []Party `json:"to,omitempty"`
}

// MediaBody is a media item (KindMedia). SHA256 is of the bytes as received or
// sent; the EML attaches them and checks the hash.
type MediaBody struct {
	// MessageID is the message the item belongs to.
	MessageID string `json:"message_id"`
	// MediaKind is image, voice, video or file.
	MediaKind string `json:"media_kind"`
	// FileName is the original name, used for the attachment.
	FileName string `json:"file_name,omitempty"`
	// ContentType is the MIME type of the bytes.
	ContentType string `json:"content_type,omitempty"`
	// Size is the length of the bytes.
	Size int64 `json:"size"`
	// SHA256 is the hash of the bytes; the chain covers it through the body hash.
	SHA256 Hash `json:"sha256"`
	// Ref is storage's key for the bytes.
	Ref string `json:"ref,omitempty"`
}

// ParticipantBody is an employee joining or leaving a thread
// (KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft).
type ParticipantBody struct {
	// Employee is who joined or left.
	Employee Party `json:"employee"`
	// By is who added or removed them; nil when they acted themselves or the
	// product routed the thread.
	By *Party `json:"by,omitempty"`
}

// OptInBody is the consumer opting in to a thread (KindOptIn).
type OptInBody struct {
	// Consumer is who opted in.
	Consumer Party `json:"consumer"`
	// Employee is who asked for the opt-in, if anyone did.
	Employee *Party `json:"employee,omitempty"`
	// Scene is the contact link's scene value, when the consumer came through one.
	Scene string `json:"scene,omitempty"`
}

// LeaveBody is the consumer's #LEAVE (KindLeave).
type LeaveBody struct {
	// Consumer is who left.
	Consumer Party `json:"consumer"`
}

// StatusBody is a change of a message's delivery status (KindStatus), such as
// queued, sent, delivered, failed or "blocked".
type StatusBody struct {
	// MessageID is the message whose status changed.
	MessageID string `json:"message_id"`
	// Status is the new status (queued, sent, delivered, failed, blocked, …).
	Status string `json:"status"`
	// Detail is what a person should read, e.g. "blocked by policy: card-number".
	Detail string `json:"detail,omitempty"`
}

// LexiconBody is a lexicon (DLP) decision on a message (KindLexicon): which
// rules matched, the strongest action, the original and what the other side saw.
type LexiconBody struct {
	// MessageID is the message decided on.
	MessageID string `json:"message_id"`
	// Direction is inbound or outbound.
	Direction string `json:"direction"`
	// Action is the strongest action taken: block, redact or flag.
	Action string `json:"action"`
	// Rules are the names of every rule that matched.
	Rules []string `json:"rules"`
	// Flags are the names of the flag rules that matched, when a stronger
	// action (redact) was taken too: the message is flagged for review all
	// the same. Empty when Action is flag (Rules are the flags) or block.
	Flags []string `json:"flags,omitempty"`
	// Original is the text as written; Result what the other side saw (empty when blocked).
	Original string `json:"original"`
	Result   string `json:"result"` // what the other side saw
}

// AdminBody is an admin's change to policy or lexicon rules (KindAdminChange).
type AdminBody struct {
	// Admin is who made the change.
	Admin Party `json:"admin"`
	// Object is what changed: "policy", "lexicon", "retention", …
	Object string `json:"object"`
	// Change is "set", "add" or "remove"; Key names the setting or rule.
	Change string `json:"change"`
	Key    string `json:"key,omitempty"` // the setting or rule changed
	// Old and New are JSON values; absent when there was none.
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"` // the value after the change
}

// ThreadHead is one thread's head as an anchor records it.
type ThreadHead struct {
	Thread string `json:"thread"` // the thread's id
	Seq    int64  `json:"seq"`    // its last event's Seq
	Hash   Hash   `json:"hash"`   // its last event's Hash
}

// AnchorBody is the daily anchor (KindAnchor) on the company chain: every thread
// chain's head at the time, sorted by thread, so a removed thread is noticed.
type AnchorBody struct {
	// Day is the UTC day the anchor closes, "2006-01-02".
	Day string `json:"day"`
	// Heads are the thread chains' heads, sorted by thread.
	Heads []ThreadHead `json:"heads"`
}

// PurgeBody is a retention run (KindPurge): bodies of events older than Before
// were dropped, except those under a hold.
type PurgeBody struct {
	// Before is the cut-off: bodies of events before it were dropped.
	Before time.Time `json:"before"`
	// RetentionDays is the company's retention period at the time.
	RetentionDays int `json:"retention_days"`
	// Events counts the bodies dropped.
	Events int64 `json:"events"`
	// Holds lists the ids of the holds that exempted records.
	Holds []string `json:"holds,omitempty"`
}

// HoldBody is a legal hold set or lifted (KindHoldSet, KindHoldLifted).
type HoldBody struct {
	// HoldID identifies the hold, so the lift names the hold it ends.
	HoldID string `json:"hold_id"`
	// Scope is consumer, thread or employee; Target its id.
	Scope  string `json:"scope"`
	Target string `json:"target"` // the consumer, thread or employee id
	// By is who set or lifted it.
	By Party `json:"by"`
	// Reason is the matter or instruction the hold is for.
	Reason string `json:"reason,omitempty"`
}

// ReviewBody is a reviewer marking a flagged item reviewed (KindReview).
type ReviewBody struct {
	// Reviewer is who marked it.
	Reviewer Party `json:"reviewer"`
	// Seq is the event of the same thread that was reviewed.
	Seq int64 `json:"seq"`
	// Comment is the reviewer's note.
	Comment string `json:"comment,omitempty"`
}
