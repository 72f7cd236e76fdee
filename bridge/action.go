package bridge

import "time"

// Action is an effect the policy asks for. The service carries each one out inside
// the same transaction that stores the new thread state (outbound work becomes a
// durable job there), so a crash loses nothing and repeats nothing.
type Action interface{ action() }

// Party says who wrote a message.
type Party string

// Parties of a message.
const (
	FromConsumer Party = "consumer"
	FromEmployee Party = "employee"
	// FromSystem marks an automatic notice sent to the consumer.
	FromSystem Party = "system"
	// ToEmployee marks an automatic note kept in the thread for one employee
	// (the message's Author), such as a card Teams did not take.
	ToEmployee Party = "employee_note"
)

// MessageStatus is where a message stands. It is what an employee sees next to each
// of their messages, and it always says why a message was not delivered.
type MessageStatus string

// Message statuses.
const (
	StatusReceived  MessageStatus = "received"   // a consumer message, stored
	StatusQueued    MessageStatus = "queued"     // waiting for the consumer to write
	StatusSending   MessageStatus = "sending"    // handed to the send job
	StatusSent      MessageStatus = "sent"       // WeChat accepted it
	StatusFailed    MessageStatus = "failed"     // WeChat refused it for good; Reason says why
	StatusNotQueued MessageStatus = "not_queued" // kept, but will not be sent; Reason says why
)

// Reasons a message was not queued; failure reasons are FailReason values.
const (
	ReasonQueueFull   = "queue_full"
	ReasonContactLeft = "contact_left"
	ReasonNobodyLeft  = "nobody_left"
)

// RecordMessage stores a new message of the thread. For a notice to the consumer
// (From == FromSystem) the service renders Notice with Params in the consumer's
// language and stores the text.
type RecordMessage struct {
	Message MessageID
	Seq     int64
	From    Party
	Author  EmployeeID // the employee, when From == FromEmployee
	Body    Content
	Notice  NoticeKind
	Params  NoticeParams
	Status  MessageStatus
	Reason  string
}

// SetStatus changes a stored message's status. Position is the 1-based place in the
// queue when Status is StatusQueued. Author is the employee who wrote the message,
// who sees the change; empty for notices.
type SetStatus struct {
	Message  MessageID
	Author   EmployeeID
	Status   MessageStatus
	Reason   string
	Position int
}

// SendToConsumer sends a recorded message to the consumer through WeChat, using the
// message ID as WeChat's msgid. The job must not send after NotAfter (the window's end);
// it reports SendFailed with FailWindowClosed instead.
type SendToConsumer struct {
	Message  MessageID
	NotAfter time.Time
}

// ShowToEmployees delivers a consumer message to employees (Teams card, tab).
type ShowToEmployees struct {
	Message MessageID
	To      []EmployeeID
}

// NotifyEmployees sends an automatic notice to employees (bot card and tab).
type NotifyEmployees struct {
	To     []EmployeeID
	Notice NoticeKind
	Params NoticeParams
}

// ScheduleTimer adds a timer of this kind to fire at At; a CancelTimers before it
// removes the earlier ones. For is echoed back in TimerFired.
type ScheduleTimer struct {
	Timer TimerKind
	At    time.Time
	For   time.Time
}

// CancelTimers removes the thread's pending timers.
type CancelTimers struct{}

// CreateOptInLink asks the WeChat side for a contact link or QR code whose scene
// names this thread, and shows it to the requesting employee.
type CreateOptInLink struct{ Employee EmployeeID }

// EndSession tells the WeChat side that no employee serves the consumer any more
// (WeCom kf: end the session), so the next consumer message is routed afresh.
type EndSession struct{}

func (RecordMessage) action()   {}
func (SetStatus) action()       {}
func (SendToConsumer) action()  {}
func (ShowToEmployees) action() {}
func (NotifyEmployees) action() {}
func (ScheduleTimer) action()   {}
func (CancelTimers) action()    {}
func (CreateOptInLink) action() {}
func (EndSession) action()      {}
