package teamsapp

import (
	"context"
	"errors"

	"github.com/multiline/multiline/bridge"
)

// Bridge is what the tab needs from the domain; *bridge.Service implements it.
type Bridge interface {
	// EmployeeByAAD finds the employee signed in with an Entra token.
	EmployeeByAAD(ctx context.Context, tenantID, aadObjectID string) (bridge.Employee, error)
	// Employee returns an employee by ID.
	Employee(ctx context.Context, id bridge.EmployeeID) (bridge.Employee, error)
	// Employees lists the company's employees.
	Employees(ctx context.Context) ([]bridge.Employee, error)
	// Threads lists the employee's threads, most recent first.
	Threads(ctx context.Context, e bridge.EmployeeID) ([]bridge.ThreadSummary, error)
	// Thread returns one of the employee's threads with its recent messages.
	Thread(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) (bridge.ThreadSummary, error)
	// Send accepts a message; the view says whether it was sent, queued or not queued.
	Send(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID, body bridge.Content) (bridge.MessageView, error)
	// Leave takes the employee out of the thread.
	Leave(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) error
	// AddParticipant adds a colleague to a thread the employee is in.
	AddParticipant(ctx context.Context, by bridge.EmployeeID, t bridge.ThreadID, colleague bridge.EmployeeID) error
	// RemoveParticipant removes a colleague from a thread the employee is in.
	RemoveParticipant(ctx context.Context, by bridge.EmployeeID, t bridge.ThreadID, colleague bridge.EmployeeID) error
	// RequestOptIn starts an employee-initiated thread; its link appears on it later.
	RequestOptIn(ctx context.Context, e bridge.EmployeeID) (bridge.ThreadID, error)
	// ContactLinkFor returns the employee's personal WeChat contact link.
	ContactLinkFor(ctx context.Context, id bridge.EmployeeID) (string, error)
	// CompanySettings returns the company's policy and notice overrides.
	CompanySettings(ctx context.Context) (bridge.Company, error)
	// SetPolicy validates and stores the company's policy and notice overrides.
	SetPolicy(ctx context.Context, p bridge.Policy, o bridge.Overrides) error
	// SetLanguage sets the company's default language (en or zh-CN): consumers'
	// notices use it when WeChat does not report their language.
	SetLanguage(ctx context.Context, lang bridge.Language) error
	// SetEmployeeEnabled enables or disables WeChat for an employee.
	SetEmployeeEnabled(ctx context.Context, id bridge.EmployeeID, enabled bool) error
	// AddEmployee adds and enables a person (the dev sign-in's local employees).
	AddEmployee(ctx context.Context, tenantID, aadObjectID, name string) (bridge.Employee, error)
	// LearnUPN records an employee's user principal name when it changed; a
	// value that is not an address wraps bridge.ErrInvalidUPN.
	LearnUPN(ctx context.Context, id bridge.EmployeeID, upn string) error
}

// MediaStore keeps media files (implemented by the storage package).
type MediaStore interface {
	// Media returns a stored file; an unknown ref is an error wrapping bridge.ErrNotFound.
	Media(ctx context.Context, ref string) (contentType, fileName string, data []byte, err error)
	// PutMedia stores a file for the company and returns its ref.
	PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (ref string, err error)
}

// SendChecker says whether the company's WeChat account can send a kind of
// content (an Official Account sends no files), so that an upload is refused
// before a byte of it is stored. It is asked with MediaKind, FileName and the
// caption set and MediaRef empty; a refusal wraps bridge.ErrUnsupportedContent
// and says why. *bridge.Service implements it; when Config.Bridge does, the tab
// uses it without wiring.
type SendChecker interface {
	CanSend(body bridge.Content) error
}

// JobAdmin lets admins act on the durable jobs from the admin page, as
// `multiline admin jobs` does: list them, run a dead one again, or drop it.
// Optional (Config.Jobs); an adapter over the storage's job queue implements it.
// RetryJob and DiscardJob act on dead jobs only: an unknown id is an error
// wrapping bridge.ErrNotFound (answered 404), a job that is not dead one
// wrapping ErrJobNotDead (409).
type JobAdmin interface {
	// Jobs lists jobs, newest first: only the dead ones when dead is true, else
	// all of them.
	Jobs(ctx context.Context, dead bool) ([]bridge.Job, error)
	// RetryJob gives a dead job another life, due now.
	RetryJob(ctx context.Context, id int64) error
	// DiscardJob deletes a dead job.
	DiscardJob(ctx context.Context, id int64) error
}

// ErrJobNotDead is wrapped by a JobAdmin's refusal to retry or discard a job
// that is still alive: the runner owns it.
var ErrJobNotDead = errors.New("the job is not dead")

// Compile-time proof that the lead can pass the service as is, inbox and all.
var (
	_ Bridge = (*bridge.Service)(nil)
	_ Inbox  = (*bridge.Service)(nil)
)

// Directory finds people in the organization (Microsoft Graph), so an admin can
// add someone who has never opened MultiLine. Optional: without it the admin page
// lists only the people who installed the app.
type Directory interface {
	FindUsers(ctx context.Context, query string, limit int) ([]DirectoryUser, error)
}

// DirectoryUser is a person of the organization's directory.
type DirectoryUser struct {
	AADObjectID string `json:"aad_object_id"`
	Name        string `json:"name"`
	Mail        string `json:"mail,omitempty"`
	// UPN is the user principal name, which the archive addresses them by.
	UPN string `json:"upn,omitempty"`
}

// Inbox is what the tab's inbox needs from the bridge beyond Bridge: read marks
// kept per employee, the last message a person wrote, search, and the
// participants with their ids. *bridge.Service implements it (bridge/inbox.go,
// one query per call over all of an employee's threads). A Bridge without it
// still serves the tab: previews, search and participant ids are then worked
// out of Threads, Thread and Employees (one more query per thread; search sees
// the last 50 messages of each thread), no unread counts are shown, and
// /api/v1/config says so (features.unread false). When Config.Bridge
// implements Inbox the tab uses it without wiring.
type Inbox interface {
	// Unread counts, per thread of the employee, the messages after their read
	// mark that are not theirs: the consumer's, colleagues', and notes kept for
	// them (employee_note); never their own messages or the notices to the
	// consumer. A thread with none may be left out of the map.
	Unread(ctx context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]int, error)
	// MarkRead moves the employee's read mark of a thread they are in to message
	// upTo of that thread, never backwards. A thread they are not in is an error
	// wrapping bridge.ErrUnknownThread; a message not of the thread,
	// bridge.ErrUnknownMessage.
	MarkRead(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID, upTo bridge.MessageID) error
	// LastWritten returns, per thread of the employee, the last message a person
	// wrote (From consumer or employee; never a notice or a note), for the list's
	// preview. A thread nobody wrote in yet is left out.
	LastWritten(ctx context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageView, error)
	// SearchThreads returns the employee's threads whose contact name, or the
	// text or file name of any message a person wrote, contains query
	// (case-insensitive), most recent first, as Threads does.
	SearchThreads(ctx context.Context, e bridge.EmployeeID, query string) ([]bridge.ThreadSummary, error)
	// Participants returns the employees of a thread the employee is in, in
	// order of joining (ThreadSummary.Participants has their names only, and
	// removing a colleague needs the id). A thread they are not in is an error
	// wrapping bridge.ErrUnknownThread.
	Participants(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) ([]bridge.Employee, error)
}

// Changes tells the tab's live-update streams at once that an employee's
// threads changed, wherever the change was made: with several replicas, a
// message stored by one must reach a tab open on another without each open
// tab polling the database (the storage package implements it with
// PostgreSQL's LISTEN/NOTIFY, and in-process on SQLite). Optional
// (Config.Changes): without it the streams poll every 2 s.
type Changes interface {
	// WatchEmployee returns a channel that receives a signal after a change to
	// a thread employee e is (or was) in; signals may be spurious or merged,
	// since the stream reads the state afresh on each. stop ends the watch.
	WatchEmployee(e bridge.EmployeeID) (changed <-chan struct{}, stop func())
}
