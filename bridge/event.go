package bridge

import "time"

// Event is something that happened to a thread. The concrete types below are the
// only events; Apply has one rule for each.
type Event interface{ event() }

// ConsumerMessage: the consumer wrote. Assign names the employee the thread is
// routed to when it has nobody (chosen by the service from the contact link or
// the company pool); it is ignored otherwise.
type ConsumerMessage struct {
	Consumer ConsumerID
	Body     Content
	Assign   EmployeeID
	// SentAt is when WeChat says the consumer sent it (send_time). WeChat's
	// window runs from then, not from when we pulled it. Zero means now.
	SentAt time.Time
	// Name is the consumer's WeChat nickname as the service knew it then; the
	// policy ignores it, the archive names the author with it.
	Name string `json:",omitempty"`
}

// ConsumerArrivedViaOptIn: the consumer came in through this thread's opt-in link
// (a WeCom enter_session with the thread's scene_param, or an Official Account
// QR scan). Their first message then completes the opt-in.
type ConsumerArrivedViaOptIn struct{ Consumer ConsumerID }

// EmployeeSend: an employee wrote a message in the thread.
type EmployeeSend struct {
	Employee EmployeeID
	Body     Content
}

// EmployeeLeave: an employee left the thread (after confirming).
type EmployeeLeave struct{ Employee EmployeeID }

// ParticipantAdded: By added Employee to the thread.
type ParticipantAdded struct{ Employee, By EmployeeID }

// ParticipantRemoved: By removed Employee from the thread.
type ParticipantRemoved struct{ Employee, By EmployeeID }

// OptInRequested: an employee starts a thread with a consumer who has not written
// yet; the service creates a link or QR code that names the thread.
type OptInRequested struct{ Employee EmployeeID }

// TimerFired: a timer scheduled by a ScheduleTimer action went off. For is the
// LastConsumerAt it was scheduled for: a timer from an older window is ignored.
type TimerFired struct {
	Timer TimerKind
	For   time.Time
}

// SendSucceeded: WeChat accepted a message.
type SendSucceeded struct{ Message MessageID }

// SendFailed: WeChat refused a message for good (transient errors are retried by
// the job runner first, with the same message ID).
type SendFailed struct {
	Message MessageID
	Reason  FailReason
	// For a failure WeChat reports after it accepted the send (msg_send_fail):
	// SentAt is when it was accepted and Author who wrote it. A failure of a send
	// accepted before the consumer's last message belongs to an earlier window
	// and leaves the current one alone.
	SentAt time.Time
	Author EmployeeID
}

// FailReason is why WeChat refused a send, in the policy's terms.
type FailReason string

// Failure reasons, mapped from WeChat's error codes by the WeChat adapter.
const (
	FailWindowClosed FailReason = "window_closed" // 95002, 45015, msg_send_fail type 4
	FailCountUsed    FailReason = "count_used"    // 95001, 45047, msg_send_fail type 6
	FailSessionEnded FailReason = "session_ended" // 95013, 95018
	FailRejected     FailReason = "rejected"      // msg_send_fail type 10: the consumer refused
	FailTransient    FailReason = "transient"     // retries exhausted
)

// TimerKind names a thread timer.
type TimerKind string

// Timers of a thread; each is scheduled relative to the consumer's last message.
const (
	Timer24h TimerKind = "24h"
	Timer48h TimerKind = "48h"
)

func (ConsumerMessage) event()         {}
func (ConsumerArrivedViaOptIn) event() {}
func (EmployeeSend) event()            {}
func (EmployeeLeave) event()           {}
func (ParticipantAdded) event()        {}
func (ParticipantRemoved) event()      {}
func (OptInRequested) event()          {}
func (TimerFired) event()              {}
func (SendSucceeded) event()           {}
func (SendFailed) event()              {}
