package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/multiline/multiline/bridge"
)

const messageCols = `id, thread, seq, from_party, author, body, notice, text, status, reason, position, wechat_msgid, at, updated_at`

func scanMessage(r rowScanner) (bridge.MessageRecord, error) {
	var m bridge.MessageRecord
	var body string
	var at, updated int64
	if err := r.Scan(&m.ID, &m.Thread, &m.Seq, &m.From, &m.Author, &body, &m.Notice, &m.Text, &m.Status,
		&m.Reason, &m.Position, &m.WeChatMsgID, &at, &updated); err != nil {
		return bridge.MessageRecord{}, err
	}
	if err := json.Unmarshal([]byte(body), &m.Body); err != nil {
		return bridge.MessageRecord{}, fmt.Errorf("message %s body: %w", m.ID, err)
	}
	m.At, m.UpdatedAt = fromMicros(at), fromMicros(updated)
	return m, nil
}

// InsertMessage stores a new message; its ID and (thread, seq) must be new.
func (t *tx) InsertMessage(ctx context.Context, m bridge.MessageRecord) error {
	body, err := json.Marshal(m.Body)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	updated := m.UpdatedAt
	if updated.IsZero() {
		updated = m.At
	}
	_, err = t.exec(ctx, `INSERT INTO messages (`+messageCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		m.ID, m.Thread, m.Seq, m.From, m.Author, string(body), m.Notice, m.Text, m.Status, m.Reason,
		m.Position, m.WeChatMsgID, micros(m.At), micros(updated))
	if err != nil {
		return fmt.Errorf("insert message %s: %w", m.ID, err)
	}
	t.changes.thread("", m.Thread, t.participants[m.Thread]...)
	return nil
}

// UpdateMessage sets a message's status, reason and queue position.
func (t *tx) UpdateMessage(ctx context.Context, id bridge.MessageID, s bridge.MessageStatus, reason string, position int, at time.Time) error {
	var th bridge.ThreadID
	err := t.scanOne(ctx, bridge.ErrUnknownMessage, "message "+string(id),
		`UPDATE messages SET status = $1, reason = $2, position = $3, updated_at = $4 WHERE id = $5 RETURNING thread`,
		[]any{s, reason, position, micros(at), id}, &th)
	if err != nil {
		return err
	}
	t.changes.thread("", th, t.participants[th]...)
	return nil
}

// Message reads one message.
func (t *tx) Message(ctx context.Context, id bridge.MessageID) (bridge.MessageRecord, error) {
	rows, err := t.query(ctx, `SELECT `+messageCols+` FROM messages WHERE id = $1`, id)
	if err != nil {
		return bridge.MessageRecord{}, fmt.Errorf("read message %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return bridge.MessageRecord{}, fmt.Errorf("read message %s: %w", id, err)
		}
		return bridge.MessageRecord{}, fmt.Errorf("%w: %s", bridge.ErrUnknownMessage, id)
	}
	m, err := scanMessage(rows)
	if err != nil {
		return bridge.MessageRecord{}, fmt.Errorf("read message %s: %w", id, err)
	}
	return m, rows.Close()
}

// Messages lists the thread's last limit messages (all if limit <= 0), oldest first.
func (t *tx) Messages(ctx context.Context, th bridge.ThreadID, limit int) ([]bridge.MessageRecord, error) {
	q := `SELECT ` + messageCols + ` FROM messages WHERE thread = $1 ORDER BY seq DESC`
	args := []any{th}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("messages of %s: %w", th, err)
	}
	defer rows.Close()
	var out []bridge.MessageRecord
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages of %s: %w", th, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages of %s: %w", th, err)
	}
	slices.Reverse(out)
	return out, nil
}

// MarkInbound records a WeChat msgid and reports whether it was new.
func (t *tx) MarkInbound(ctx context.Context, company bridge.CompanyID, msgid string) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO inbound (company, wechat_msgid) VALUES ($1, $2) ON CONFLICT DO NOTHING`, company, msgid)
	if err != nil {
		return false, fmt.Errorf("mark inbound %s: %w", msgid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mark inbound %s: %w", msgid, err)
	}
	return n == 1, nil
}
