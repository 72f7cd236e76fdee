package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/multiline/multiline/bridge"
)

// Audit appends a policy decision to the audit log.
func (t *tx) Audit(ctx context.Context, a bridge.AuditRecord) error {
	_, err := t.exec(ctx, `INSERT INTO audit (thread, at, event, detail, actions) VALUES ($1, $2, $3, $4, $5)`,
		a.Thread, micros(a.At), a.Event, rawOrNull(a.Detail), rawOrNull(a.Actions))
	if err != nil {
		return fmt.Errorf("audit %s on %s: %w", a.Event, a.Thread, err)
	}
	return nil
}

func rawOrNull(r json.RawMessage) string {
	if len(r) == 0 {
		return "null"
	}
	return string(r)
}

// Cursor reads the sync_msg cursor of a WeChat account; bridge.ErrNotFound before
// the first sync.
func (t *tx) Cursor(ctx context.Context, company bridge.CompanyID, account string) (string, error) {
	var c string
	err := t.scanOne(ctx, bridge.ErrNotFound, "cursor of account "+account,
		`SELECT cursor FROM cursors WHERE company = $1 AND account = $2`, []any{company, account}, &c)
	return c, err
}

// SaveCursor stores the sync_msg cursor of a WeChat account.
func (t *tx) SaveCursor(ctx context.Context, company bridge.CompanyID, account, cursor string) error {
	_, err := t.exec(ctx, `INSERT INTO cursors (company, account, cursor) VALUES ($1, $2, $3)
ON CONFLICT (company, account) DO UPDATE SET cursor = excluded.cursor`, company, account, cursor)
	if err != nil {
		return fmt.Errorf("save cursor of %s: %w", account, err)
	}
	return nil
}

// SaveCard inserts or replaces a card and points each of its messages at it.
func (t *tx) SaveCard(ctx context.Context, c bridge.CardRecord) error {
	msgs, err := json.Marshal(c.Messages)
	if err != nil {
		return fmt.Errorf("encode card messages: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO cards (employee, activity_id, thread, messages, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (employee, activity_id) DO UPDATE SET thread = excluded.thread, messages = excluded.messages, updated_at = excluded.updated_at`,
		c.Employee, c.ActivityID, c.Thread, string(msgs), micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save card %s: %w", c.ActivityID, err)
	}
	// In key order, like every multi-row write (doc.go, "Locks"): two cards
	// showing the same messages then lock their rows in one order.
	for _, m := range slices.Compact(slices.Sorted(slices.Values(c.Messages))) {
		_, err := t.exec(ctx, `INSERT INTO card_messages (employee, message, activity_id) VALUES ($1, $2, $3)
ON CONFLICT (employee, message) DO UPDATE SET activity_id = excluded.activity_id`, c.Employee, m, c.ActivityID)
		if err != nil {
			return fmt.Errorf("save card %s message %s: %w", c.ActivityID, m, err)
		}
	}
	return nil
}

const cardCols = `c.employee, c.thread, c.activity_id, c.messages, c.updated_at`

func (t *tx) cardWhere(ctx context.Context, query string, args ...any) (bridge.CardRecord, bool, error) {
	var c bridge.CardRecord
	var msgs string
	var updated int64
	err := t.scanOne(ctx, bridge.ErrNotFound, "card", query, args, &c.Employee, &c.Thread, &c.ActivityID, &msgs, &updated)
	if errors.Is(err, bridge.ErrNotFound) {
		return bridge.CardRecord{}, false, nil
	}
	if err != nil {
		return bridge.CardRecord{}, false, err
	}
	if err := json.Unmarshal([]byte(msgs), &c.Messages); err != nil {
		return bridge.CardRecord{}, false, fmt.Errorf("card %s messages: %w", c.ActivityID, err)
	}
	c.UpdatedAt = fromMicros(updated)
	return c, true, nil
}

// LastCard finds the card most recently saved for an employee and a thread.
func (t *tx) LastCard(ctx context.Context, e bridge.EmployeeID, th bridge.ThreadID) (bridge.CardRecord, bool, error) {
	return t.cardWhere(ctx, `SELECT `+cardCols+` FROM cards c WHERE c.employee = $1 AND c.thread = $2
ORDER BY c.updated_at DESC, c.activity_id DESC LIMIT 1`, e, th)
}

// CardForMessage finds the card that last showed message m to employee e.
func (t *tx) CardForMessage(ctx context.Context, e bridge.EmployeeID, m bridge.MessageID) (bridge.CardRecord, bool, error) {
	return t.cardWhere(ctx, `SELECT `+cardCols+` FROM card_messages cm JOIN cards c
ON c.employee = cm.employee AND c.activity_id = cm.activity_id WHERE cm.employee = $1 AND cm.message = $2`, e, m)
}
