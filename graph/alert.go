package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/multiline/multiline/manifest"
)

// ComplianceAlert tells a compliance reviewer, in their Teams activity feed,
// that a lexicon rule blocked or flagged a message. Teams shows "Lexicon rule
// {rule} {action} a message between {contact} and {employee}"
// (manifest.ComplianceAlertTemplate); a click opens the tab's review page on
// the message.
type ComplianceAlert struct {
	ThreadID  string
	MessageID string
	// Blocked is a block; otherwise the message was flagged.
	Blocked bool
	// Inbound is a consumer's message; otherwise an employee's.
	Inbound bool
	// Rules name the rules that blocked, or that flagged.
	Rules []string
	// Consumer and Employees are the thread's people as the tab names them.
	Consumer  string
	Employees []string
	// Preview is the start of a flagged message as delivered. It is never sent
	// for a block: see blockedPreview.
	Preview string
}

// Previews of a block. What a rule stopped stays in the archive and on the
// review page, where reading it takes the reviewer role; the activity feed
// would copy it into Teams' feed, phones' push notifications and lock screens,
// out of reach of retention and legal hold. So the preview says where to read
// it, and nothing of what it said.
const (
	blockedOutboundPreview = "Not sent to the consumer. Open the review page to read it."
	blockedInboundPreview  = "Hidden from employees. Open the review page to read it."
)

// NotifyComplianceAlert posts a to the reviewer userID's activity feed. Each
// message has its own chain, so alerts of one thread do not replace each
// other. The MultiLine app must be installed for the reviewer; Graph answers
// 403 or 404 when it is not.
func (c *Client) NotifyComplianceAlert(ctx context.Context, userID string, a ComplianceAlert) error {
	if a.ThreadID == "" || a.MessageID == "" {
		return fmt.Errorf("%w: an alert needs its thread and message ids", ErrInvalidNotification)
	}
	if c.teamsAppID == "" {
		return fmt.Errorf("%w: no Config.TeamsAppID to build the review page's deep link", ErrInvalidNotification)
	}
	action, preview := "flagged", a.Preview
	if a.Blocked {
		action, preview = "blocked", blockedOutboundPreview
		if a.Inbound {
			preview = blockedInboundPreview
		}
	}
	rules := strings.Join(a.Rules, ", ")
	if rules == "" {
		rules = "(unnamed)"
	}
	employees := strings.Join(a.Employees, ", ")
	if employees == "" {
		employees = "no employee"
	}
	return c.NotifyNewMessage(ctx, userID, Notification{
		ThreadID:     a.ThreadID,
		Preview:      preview,
		Actor:        a.Consumer,
		WebURL:       manifest.ReviewDeepLink(c.teamsAppID, a.ThreadID, a.MessageID),
		ActivityType: manifest.ActivityComplianceAlert,
		Params: map[string]string{
			manifest.TemplateParamRule:     rules,
			manifest.TemplateParamAction:   action,
			manifest.TemplateParamEmployee: employees,
		},
		ChainKey: "review:" + a.MessageID,
	})
}
