package bot

import (
	"context"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Bridge is what the bot needs from the core (bridge.Service implements it).
type Bridge interface {
	EmployeeInstalled(ctx context.Context, in bridge.Installation) (bridge.Employee, error)
	EmployeeUninstalled(ctx context.Context, tenantID, teamsUserID string) error
	// EmployeeByTeamsUser returns bridge.ErrUnknownEmployee if there is none.
	EmployeeByTeamsUser(ctx context.Context, tenantID, teamsUserID string) (bridge.Employee, error)
	// EmployeeInteracted clears a Blocked mark.
	EmployeeInteracted(ctx context.Context, e bridge.EmployeeID) error
	MarkUnreachable(ctx context.Context, e bridge.EmployeeID, reason string) error
	UpdateConversation(ctx context.Context, e bridge.EmployeeID, ref bridge.ConversationRef) error
	// Threads returns the employee's open threads, most recent first.
	Threads(ctx context.Context, e bridge.EmployeeID) ([]bridge.ThreadSummary, error)
	Thread(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) (bridge.ThreadSummary, error)
	Send(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID, body bridge.Content) (bridge.MessageView, error)
	Leave(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) error
	SetFocus(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) error
	// Card bookkeeping, so that a later delivery can update an earlier card.
	SaveCard(ctx context.Context, c Card) error
	LastCard(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) (Card, bool, error)
	CardForMessage(ctx context.Context, e bridge.EmployeeID, m bridge.MessageID) (Card, bool, error)
}

// Card records a Teams activity the bot posted for a thread (and which messages it
// shows). SaveCard replaces the record with the same Employee and ActivityID.
type Card struct {
	Employee   bridge.EmployeeID
	Thread     bridge.ThreadID
	ActivityID string
	Messages   []bridge.MessageID
	UpdatedAt  time.Time
}
