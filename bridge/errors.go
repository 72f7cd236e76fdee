package bridge

import "errors"

// Errors of the policy and the service. They say what the caller can do: show the
// user why nothing happened. A rejected event changes nothing.
var (
	// ErrNotParticipant: the employee is not in the thread.
	ErrNotParticipant = errors.New("employee is not a participant of this thread")
	// ErrAlreadyParticipant: the employee is in the thread already.
	ErrAlreadyParticipant = errors.New("employee is already a participant of this thread")
	// ErrTooManyParticipants: the thread has Policy.MaxParticipants employees.
	ErrTooManyParticipants = errors.New("the thread has the maximum number of participants")
	// ErrNoThread: the event needs a thread that does not exist yet.
	ErrNoThread = errors.New("no such thread")
	// ErrThreadExists: an opt-in request was made for a thread that already exists.
	ErrThreadExists = errors.New("thread already exists")
	// ErrEmptyMessage: a message with neither text nor media.
	ErrEmptyMessage = errors.New("message is empty")
	// ErrMessageTooLong: the text is longer than WeChat accepts (2048 bytes).
	ErrMessageTooLong = errors.New("message is longer than WeChat's 2048-byte limit")
)

// MaxTextBytes is WeChat's limit for one text message (kf/send_msg).
const MaxTextBytes = 2048

// ErrUnknownEmployee: no enabled employee matches the Teams user.
var ErrUnknownEmployee = errors.New("unknown employee")

// ErrUnknownThread: the thread does not exist or the employee may not see it.
var ErrUnknownThread = errors.New("unknown thread")

// ErrUnknownMessage: no such message.
var ErrUnknownMessage = errors.New("unknown message")

// ErrUnknownCompany: no such company.
var ErrUnknownCompany = errors.New("unknown company")

// ErrNotFound is wrapped by a Store's "no such row" errors for rows without a
// more specific error (consumers, cursors).
var ErrNotFound = errors.New("not found")
