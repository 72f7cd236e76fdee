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

// ErrEmployeeDisabled: an admin has not enabled WeChat for the employee, or has
// disabled it. The bot and the tab say so plainly.
var ErrEmployeeDisabled = errors.New("WeChat is disabled for you: ask your admin to enable it")

// ErrUnsupportedContent: the company's WeChat account cannot send this kind of
// message (an Official Account sends no files). Nothing is queued.
var ErrUnsupportedContent = errors.New("this kind of message cannot be sent on this WeChat account")

// ErrPermanent marks a failure that no retry can fix: a 4xx other than 408/429, a
// WeChat errcode that retrying does not change, a validation error. The job runner
// ends a job that fails this way at once: it becomes dead and its outcome is
// settled (see Service.JobDied). Wrap with Permanent.
var ErrPermanent = errors.New("permanent failure")

// Permanent marks err as a failure no retry can fix (errors.Is(err, ErrPermanent)).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }
