package bridge

import (
	"slices"
	"time"
)

// Status is where a thread stands with respect to WeChat's rules.
type Status string

// Thread statuses.
const (
	// StatusNew is the zero state: no event has been applied yet.
	StatusNew Status = ""
	// StatusAwaitingOptIn: an employee started the thread with an opt-in request;
	// the consumer has not written through it yet. Messages queue.
	StatusAwaitingOptIn Status = "awaiting_opt_in"
	// StatusActive: the consumer wrote within the window; sends are possible.
	StatusActive Status = "active"
	// StatusInactive: the window passed without a consumer reply. Messages queue
	// until the consumer writes.
	StatusInactive Status = "inactive"
	// StatusClosed: the consumer left with #LEAVE. A later consumer message reopens it.
	StatusClosed Status = "closed"
	// StatusUnrouted: no employee is in the thread (all left, or none could be
	// found); the next consumer message routes it again.
	StatusUnrouted Status = "unrouted"
)

// Thread is the policy state of one thread. It is a value: Apply returns a changed
// copy and never mutates its input.
type Thread struct {
	ID       ThreadID
	Consumer ConsumerID // empty while an opt-in request waits
	Status   Status
	// LastConsumerAt is the time of the consumer's last message; zero if none yet.
	LastConsumerAt time.Time
	// Sends counts every business message decided since the consumer's last
	// message, notices included. It never exceeds Policy.SendsPerWindow.
	Sends int
	// Streak counts employee messages decided since the consumer's last message.
	Streak int
	// OnHoldNoticeSent says the consumer has been told, since their last message,
	// that the employee cannot send more.
	OnHoldNoticeSent bool
	// ParticipantsChanged says employees joined or left since the consumer's last message.
	ParticipantsChanged bool
	// Participants are the employees in the thread, in order of joining.
	Participants []EmployeeID
	// Queue holds employee messages waiting for the consumer, oldest first.
	Queue []Pending
	// InFlight holds employee messages handed to WeChat and not yet confirmed, so a
	// failed one can return to the queue in its place.
	InFlight []Pending
	// InFlightNotices are notices to the consumer handed to WeChat and not yet
	// confirmed. With InFlight they may land after the consumer's next message,
	// where WeChat counts them.
	InFlightNotices []MessageID
	// Seq is the last message sequence number used in the thread.
	Seq int64
}

// Pending is an employee message that is queued or being sent.
type Pending struct {
	ID     MessageID
	Seq    int64
	Author EmployeeID
	Body   Content
}

// Content is what a message carries: text, or a media reference with an optional caption.
type Content struct {
	Text string `json:"text,omitempty"`
	// MediaKind is image, voice, video or file when the message carries media.
	MediaKind string `json:"media_kind,omitempty"`
	// MediaRef names the stored media (our own key, not WeChat's media_id).
	MediaRef string `json:"media_ref,omitempty"`
	// FileName is the media's original file name, if any.
	FileName string `json:"file_name,omitempty"`
	// Original is the text as written when a lexicon rule changed what is
	// shown and sent (Text); empty when Text is what was written. It is kept
	// for the author and the archive, and never sent (lexicon.go).
	Original string `json:"original,omitempty"`
}

// IsParticipant reports whether e is in the thread.
func (t *Thread) IsParticipant(e EmployeeID) bool { return slices.Contains(t.Participants, e) }

// WindowEnd is when the current send window closes; zero if the consumer never wrote.
func (t *Thread) WindowEnd(p Policy) time.Time {
	if t.LastConsumerAt.IsZero() {
		return time.Time{}
	}
	return t.LastConsumerAt.Add(p.Window)
}

// windowOpen reports whether a business send is allowed at now by time alone.
func (t *Thread) windowOpen(p Policy, now time.Time) bool {
	return !t.LastConsumerAt.IsZero() && now.Before(t.WindowEnd(p))
}

// clone returns a deep copy, so Apply never aliases its input's slices.
func (t Thread) clone() Thread {
	t.Participants = slices.Clone(t.Participants)
	t.Queue = slices.Clone(t.Queue)
	t.InFlight = slices.Clone(t.InFlight)
	t.InFlightNotices = slices.Clone(t.InFlightNotices)
	return t
}
