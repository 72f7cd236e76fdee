package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/graph"
	"github.com/multiline/multiline/lexicon"
	"github.com/multiline/multiline/teamsapp"
)

// graphSide adapts Microsoft Graph to the bridge: it installs the app for enabled
// employees (bridge.Installer), adds activity feed notifications to deliveries
// and alerts compliance reviewers (bridge.Alerter).
type graphSide struct {
	client *graph.Client
	log    *slog.Logger
}

// InstallApp installs the app for the employee; "already installed" is success.
func (g *graphSide) InstallApp(ctx context.Context, e bridge.Employee) error {
	return graphError(g.client.InstallForUser(ctx, e.AADObjectID))
}

// Alert tells a compliance reviewer of a lexicon block or flag in their
// activity feed (bridge.Alerter).
func (g *graphSide) Alert(ctx context.Context, a bridge.ComplianceAlert) error {
	err := g.client.NotifyComplianceAlert(ctx, a.Reviewer, graph.ComplianceAlert{
		ThreadID: string(a.Thread), MessageID: string(a.Message),
		Blocked: a.Action == lexicon.Block, Inbound: a.Direction == lexicon.Inbound, Rules: a.Rules,
		Consumer: a.Consumer, Employees: a.Employees, Preview: a.Preview,
	})
	if errors.Is(err, graph.ErrInvalidNotification) {
		return bridge.Permanent(err)
	}
	return graphError(err)
}

// FindUsers searches the directory for the admin page.
func (g *graphSide) FindUsers(ctx context.Context, query string, limit int) ([]teamsapp.DirectoryUser, error) {
	users, err := g.client.FindUsers(ctx, query, limit)
	if err != nil {
		return nil, err
	}
	out := make([]teamsapp.DirectoryUser, len(users))
	for i, u := range users {
		out[i] = teamsapp.DirectoryUser{AADObjectID: u.ID, Name: u.DisplayName, Mail: u.Mail, UPN: u.UserPrincipalName}
	}
	return out, nil
}

// graphError turns Graph's refusals into what the job runner acts on: a permission
// or a missing app is for an admin to fix; throttling waits Retry-After.
func graphError(err error) error {
	var ge *graph.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, graph.ErrForbidden), errors.Is(err, graph.ErrNotFound), errors.Is(err, graph.ErrAuthentication):
		return fmt.Errorf("%w: %v", bridge.ErrNeedsAdmin, err)
	case errors.As(err, &ge) && errors.Is(err, graph.ErrThrottled) && ge.RetryAfter > 0:
		// Without a Retry-After the runner's backoff applies: a wait of zero
		// would run the job again at once, uncounted, until its age limit.
		return &bridge.RetryAfterError{Wait: ge.RetryAfter, Err: err}
	}
	return err
}

// notifyingSender delivers through the bot and, for a consumer's message to an
// employee whose tab is not open, also posts a Teams activity feed notification.
type notifyingSender struct {
	bot   bridge.TeamsSender
	graph *graphSide
	// tabOpen reports whether the employee has the MultiLine tab open (live updates).
	tabOpen func(context.Context, bridge.EmployeeID) bool
	log     *slog.Logger
}

func (n notifyingSender) Deliver(ctx context.Context, d bridge.Delivery) error {
	if err := n.bot.Deliver(ctx, d); err != nil {
		return err
	}
	if n.graph == nil || d.Kind != bridge.DeliverConsumerMessage || d.Employee.AADObjectID == "" || n.tabOpen(ctx, d.Employee.ID) {
		return nil
	}
	// The card is delivered; a failed notification is logged, not retried, so the
	// retry of this job cannot post the card twice.
	err := n.graph.client.NotifyNewMessage(ctx, d.Employee.AADObjectID, graph.Notification{
		ThreadID: string(d.Thread.ID), Preview: d.Message.Text, Actor: d.Thread.ConsumerName})
	if err != nil {
		n.log.WarnContext(ctx, "activity feed notification failed", "employee", d.Employee.ID, "thread", d.Thread.ID, "err", err)
	}
	return nil
}
