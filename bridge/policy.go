package bridge

import (
	"errors"
	"fmt"
	"time"
)

// Policy holds a company's numbers for the thread policy. The defaults are those of
// the design; WeChat's own limits (5 sends, 48 hours) are the upper bounds.
type Policy struct {
	// SendsPerWindow is how many messages the business may send after one consumer
	// message (WeChat: 5). System notices count.
	SendsPerWindow int
	// Window is how long after the consumer's last message the business may send
	// (WeChat: 48 h).
	Window time.Duration
	// ReminderAfter is when the 24-hour notices go out.
	ReminderAfter time.Duration
	// EmployeeLimit is how many consecutive employee messages are sent before further
	// ones are queued.
	EmployeeLimit int
	// QueueLimit is how many messages may wait in a thread's queue.
	QueueLimit int
	// Reserve is how many sends are kept for the mandatory consumer notices: employee
	// messages may use at most SendsPerWindow-Reserve of them.
	Reserve int
	// MaxParticipants is how many employees may share a thread.
	MaxParticipants int
	// ConsumerLanguage is the language of the notices consumers get: en, zh-CN,
	// or auto (the empty value): the language WeChat reports for the consumer,
	// else the company's default language.
	ConsumerLanguage string
	// RetentionDays is how long records are kept before retention purges their
	// bodies (messages, media, archive event bodies); 0, the default, keeps them
	// for ever, since a purge cannot be undone and SEC 17a-4 asks for 3 years.
	RetentionDays int `json:",omitempty"`
}

// ConsumerLanguageAuto is the default ConsumerLanguage.
const ConsumerLanguageAuto = "auto"

// DefaultPolicy returns the defaults of the design.
func DefaultPolicy() Policy {
	return Policy{
		SendsPerWindow:  5,
		Window:          48 * time.Hour,
		ReminderAfter:   24 * time.Hour,
		EmployeeLimit:   3,
		QueueLimit:      5,
		Reserve:         1,
		MaxParticipants: 5,

		ConsumerLanguage: ConsumerLanguageAuto,
	}
}

// MaxRetentionDays bounds RetentionDays (100 years), so a cut-off is always a
// representable time.
const MaxRetentionDays = 36500

// ErrInvalidPolicy is wrapped by Validate's errors.
var ErrInvalidPolicy = errors.New("invalid policy")

// Validate reports whether p can be enforced within WeChat's rules.
func (p Policy) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPolicy, fmt.Sprintf(format, a...))
	}
	switch {
	case p.SendsPerWindow < 1 || p.SendsPerWindow > 5:
		return bad("sends_per_window must be 1..5 (WeChat allows 5), got %d", p.SendsPerWindow)
	case p.Window <= 0 || p.Window > 48*time.Hour:
		return bad("window must be within 48h (WeChat's limit), got %s", p.Window)
	case p.ReminderAfter <= 0 || p.ReminderAfter >= p.Window:
		return bad("reminder_after must be between 0 and the window, got %s", p.ReminderAfter)
	case p.Reserve < 0 || p.Reserve >= p.SendsPerWindow:
		return bad("reserve must be 0..sends_per_window-1, got %d", p.Reserve)
	case p.EmployeeLimit < 1:
		return bad("employee_limit must be at least 1, got %d", p.EmployeeLimit)
	case p.QueueLimit < 0 || p.QueueLimit > 100:
		return bad("queue_limit must be 0..100, got %d", p.QueueLimit)
	case p.MaxParticipants < 1 || p.MaxParticipants > 50:
		return bad("max_participants must be 1..50, got %d", p.MaxParticipants)
	case p.RetentionDays < 0 || p.RetentionDays > MaxRetentionDays:
		return bad("retention_days must be 0 (keep for ever) up to %d, got %d", MaxRetentionDays, p.RetentionDays)
	case p.ConsumerLanguage != "" && p.ConsumerLanguage != ConsumerLanguageAuto &&
		p.ConsumerLanguage != string(English) && p.ConsumerLanguage != string(SimplifiedChinese):
		return bad("consumer_language must be en, zh-CN or auto, got %q", p.ConsumerLanguage)
	}
	return nil
}

// employeeSends is how many sends employee messages may use in one window.
func (p Policy) employeeSends() int { return p.SendsPerWindow - p.Reserve }
