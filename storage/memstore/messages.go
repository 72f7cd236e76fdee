package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/multiline/multiline/bridge"
)

func (t *tx) InsertMessage(_ context.Context, m bridge.MessageRecord) error {
	if _, ok := t.s.threads[m.Thread]; !ok {
		return fmt.Errorf("%w: message %s of unknown thread %s", ErrConstraint, m.ID, m.Thread)
	}
	if _, ok := t.s.messages[m.ID]; ok {
		return fmt.Errorf("%w: message %s exists", ErrConstraint, m.ID)
	}
	key := threadSeq{m.Thread, m.Seq}
	if _, ok := t.s.seqs[key]; ok {
		return fmt.Errorf("%w: thread %s has a message %d already", ErrConstraint, m.Thread, m.Seq)
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.At
	}
	m.At, m.UpdatedAt = norm(m.At), norm(m.UpdatedAt)
	put(t, t.s.messages, m.ID, m)
	put(t, t.s.seqs, key, m.ID)
	put(t, t.s.byThread, m.Thread, append(t.s.byThread[m.Thread], m.ID))
	return nil
}

func (t *tx) UpdateMessage(_ context.Context, id bridge.MessageID, s bridge.MessageStatus, reason string, position int, at time.Time) error {
	m, ok := t.s.messages[id]
	if !ok {
		return fmt.Errorf("%w: message %s", bridge.ErrUnknownMessage, id)
	}
	m.Status, m.Reason, m.Position, m.UpdatedAt = s, reason, position, norm(at)
	put(t, t.s.messages, id, m)
	return nil
}

func (t *tx) Message(_ context.Context, id bridge.MessageID) (bridge.MessageRecord, error) {
	m, ok := t.s.messages[id]
	if !ok {
		return bridge.MessageRecord{}, fmt.Errorf("%w: message %s", bridge.ErrUnknownMessage, id)
	}
	return m, nil
}

func (t *tx) Messages(_ context.Context, th bridge.ThreadID, limit int) ([]bridge.MessageRecord, error) {
	ids := t.s.byThread[th]
	out := make([]bridge.MessageRecord, 0, len(ids))
	for _, id := range ids {
		out = append(out, t.s.messages[id])
	}
	slices.SortFunc(out, func(a, b bridge.MessageRecord) int { return int(a.Seq - b.Seq) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (t *tx) MarkInbound(_ context.Context, company bridge.CompanyID, msgid string) (bool, error) {
	k := consumerKey{company, msgid}
	if _, ok := t.s.inbound[k]; ok {
		return false, nil
	}
	put(t, t.s.inbound, k, struct{}{})
	return true, nil
}

func (t *tx) Audit(_ context.Context, a bridge.AuditRecord) error {
	a.At = norm(a.At)
	a.Detail, a.Actions = slices.Clone(a.Detail), slices.Clone(a.Actions)
	n := len(t.s.audit)
	t.undo = append(t.undo, func() { t.s.audit = t.s.audit[:n] })
	t.s.audit = append(t.s.audit, a)
	return nil
}

// AuditLog returns the audit records of a thread, oldest first.
func (s *Store) AuditLog(th bridge.ThreadID) []bridge.AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bridge.AuditRecord
	for _, a := range s.audit {
		if a.Thread == th {
			out = append(out, a)
		}
	}
	return out
}

func (t *tx) Cursor(_ context.Context, company bridge.CompanyID, account string) (string, error) {
	c, ok := t.s.cursors[consumerKey{company, account}]
	if !ok {
		return "", fmt.Errorf("%w: cursor of account %s", bridge.ErrNotFound, account)
	}
	return c, nil
}

func (t *tx) SaveCursor(_ context.Context, company bridge.CompanyID, account, cursor string) error {
	put(t, t.s.cursors, consumerKey{company, account}, cursor)
	return nil
}

func (t *tx) SaveCard(_ context.Context, c bridge.CardRecord) error {
	c.Messages = slices.Clone(c.Messages)
	c.UpdatedAt = norm(c.UpdatedAt)
	put(t, t.s.cards, cardKey{c.Employee, c.ActivityID}, c)
	for _, m := range c.Messages {
		put(t, t.s.cardMsgs, cardKey{c.Employee, string(m)}, c.ActivityID)
	}
	return nil
}

func (t *tx) LastCard(_ context.Context, e bridge.EmployeeID, th bridge.ThreadID) (bridge.CardRecord, bool, error) {
	var best *bridge.CardRecord
	for _, c := range t.s.cards {
		if c.Employee != e || c.Thread != th {
			continue
		}
		if best == nil || c.UpdatedAt.After(best.UpdatedAt) ||
			(c.UpdatedAt.Equal(best.UpdatedAt) && c.ActivityID > best.ActivityID) {
			best = &c
		}
	}
	if best == nil {
		return bridge.CardRecord{}, false, nil
	}
	c := *best
	c.Messages = slices.Clone(c.Messages)
	return c, true, nil
}

func (t *tx) CardForMessage(_ context.Context, e bridge.EmployeeID, m bridge.MessageID) (bridge.CardRecord, bool, error) {
	act, ok := t.s.cardMsgs[cardKey{e, string(m)}]
	if !ok {
		return bridge.CardRecord{}, false, nil
	}
	c := t.s.cards[cardKey{e, act}]
	c.Messages = slices.Clone(c.Messages)
	return c, true, nil
}

// rawClone copies a JSON payload; nil stays nil.
func rawClone(r json.RawMessage) json.RawMessage { return slices.Clone(r) }
