package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// AuditLog reads the audit log of policy decisions back, oldest first: the
// write-only table of Tx.Audit made readable for `multiline audit` and the
// admin page.
func (db *DB) AuditLog(ctx context.Context, q bridge.AuditQuery) ([]bridge.AuditEntry, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := []string{"1 = 1"}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+arg(micros(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < "+arg(micros(q.Until)))
	}
	if q.Thread != "" {
		where = append(where, "thread = "+arg(string(q.Thread)))
	}
	if q.Employee != "" {
		e := arg(string(q.Employee))
		where = append(where, `thread IN (SELECT thread FROM participants WHERE employee = `+e+`
  UNION SELECT thread FROM messages WHERE author = `+e+`)`)
	}
	order, limit := "ASC", ""
	if q.Limit > 0 {
		order, limit = "DESC", fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := db.reads().QueryContext(ctx, `SELECT id, thread, at, event, detail, actions FROM audit WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id `+order+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	var out []bridge.AuditEntry
	for rows.Next() {
		var e bridge.AuditEntry
		var at int64
		var detail, actions string
		if err := rows.Scan(&e.ID, &e.Thread, &at, &e.Event, &detail, &actions); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		e.At, e.Detail, e.Actions = fromMicros(at), json.RawMessage(detail), json.RawMessage(actions)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	if q.Limit > 0 {
		slices.Reverse(out)
	}
	return out, nil
}
