package teamsapp

import (
	"context"
	"slices"
	"strings"
)

// ReviewerNoter remembers who holds the Compliance.Review role, so that
// lexicon blocks and flags alert them too (issue 12); *bridge.Service
// implements it. Config.Bridge is used when it implements it.
type ReviewerNoter interface {
	// NoteReviewer records whether the Entra user objectID holds the role.
	NoteReviewer(ctx context.Context, objectID, name string, holdsRole bool) error
}

// noteRole tells the noter what a token said of its holder's role, once per
// process per change: each request carries a token, and the store needs a
// write only when someone gains or loses the role. A failure is logged and
// tried again on the next request; the request goes on either way.
func (a *App) noteRole(ctx context.Context, id Identity) {
	if a.noter == nil || id.ObjectID == "" {
		return
	}
	key := strings.ToLower(id.ObjectID)
	holds := slices.Contains(id.Roles, RoleComplianceReview)
	a.rolesMu.Lock()
	last, seen := a.roles[key]
	a.rolesMu.Unlock()
	if seen && last == holds {
		return
	}
	if err := a.noter.NoteReviewer(ctx, id.ObjectID, id.Name, holds); err != nil {
		a.log.Warn("tab: could not record the compliance reviewer role", "user", id.ObjectID, "err", err)
		return
	}
	a.rolesMu.Lock()
	a.roles[key] = holds
	a.rolesMu.Unlock()
}
