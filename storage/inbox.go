package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// The inbox's reads (bridge.InboxTx): one query each over all of an
// employee's threads, whatever their number, so that the tab's thread list
// costs the same few queries for one thread or a thousand.

// writtenParties is the SQL list of the parties whose messages a person wrote.
// It is spelled out (not a parameter) so that the planner can match the
// partial index messages_written (migration 0006) that has the same list.
var writtenParties = `('` + string(bridge.FromConsumer) + `', '` + string(bridge.FromEmployee) + `')`

// mCols are the message columns qualified with the alias m (joins with
// participants share column names with messages).
var mCols = "m." + strings.ReplaceAll(messageCols, ", ", ", m.")

// tCols are the thread columns qualified with the alias t.
var tCols = "t." + strings.ReplaceAll(threadCols, ", ", ", t.")

// SaveReadMark moves e's read mark of thread th to seq; a mark further on stays.
func (t *tx) SaveReadMark(ctx context.Context, e bridge.EmployeeID, th bridge.ThreadID, seq int64) error {
	_, err := t.exec(ctx, `INSERT INTO read_marks (employee, thread, seq) VALUES ($1, $2, $3)
ON CONFLICT (employee, thread) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > read_marks.seq`, e, th, seq)
	if err != nil {
		return fmt.Errorf("save read mark of %s in %s: %w", e, th, err)
	}
	return nil
}

// UnreadCounts counts, per thread of e, the messages for e after e's read mark.
func (t *tx) UnreadCounts(ctx context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]int, error) {
	rows, err := t.query(ctx, `SELECT m.thread, COUNT(*) FROM participants p
JOIN messages m ON m.thread = p.thread
LEFT JOIN read_marks r ON r.employee = p.employee AND r.thread = p.thread
WHERE p.employee = $1 AND m.seq > COALESCE(r.seq, 0)
  AND (m.from_party = $2 OR m.from_party = $3 AND m.author <> $1 OR m.from_party = $4 AND m.author = $1)
GROUP BY m.thread`, e, bridge.FromConsumer, bridge.FromEmployee, bridge.ToEmployee)
	if err != nil {
		return nil, fmt.Errorf("unread of %s: %w", e, err)
	}
	defer rows.Close()
	out := map[bridge.ThreadID]int{}
	for rows.Next() {
		var th bridge.ThreadID
		var n int
		if err := rows.Scan(&th, &n); err != nil {
			return nil, fmt.Errorf("unread of %s: %w", e, err)
		}
		out[th] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unread of %s: %w", e, err)
	}
	return out, nil
}

// LastWrittenMessages returns, per thread of e, the last message a person wrote.
func (t *tx) LastWrittenMessages(ctx context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageRecord, error) {
	return t.lastMessages(ctx, e, "x.from_party IN "+writtenParties, "last written messages")
}

// LastListedMessages returns, per thread of e, the last message that is not a
// note kept for an employee.
func (t *tx) LastListedMessages(ctx context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageRecord, error) {
	return t.lastMessages(ctx, e, "x.from_party <> '"+string(bridge.ToEmployee)+"'", "last listed messages")
}

// lastMessages returns, per thread of e, the last message x that matches
// where (a literal condition on x). Each thread's is found by walking its
// (thread, seq) index backwards to the first match, not by reading the thread.
func (t *tx) lastMessages(ctx context.Context, e bridge.EmployeeID, where, what string) (map[bridge.ThreadID]bridge.MessageRecord, error) {
	rows, err := t.query(ctx, `SELECT `+mCols+` FROM participants p
JOIN messages m ON m.thread = p.thread
WHERE p.employee = $1 AND m.seq = (
  SELECT x.seq FROM messages x WHERE x.thread = p.thread AND `+where+` ORDER BY x.seq DESC LIMIT 1)`, e)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, e, err)
	}
	defer rows.Close()
	out := map[bridge.ThreadID]bridge.MessageRecord{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("%s of %s: %w", what, e, err)
		}
		out[m.Thread] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, e, err)
	}
	return out, nil
}

// likePattern is q as a LIKE pattern that matches q anywhere, with LIKE's
// wildcards in q taken literally (escaped with a backslash).
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// fileNameExpr is a message's file name, read from its body (JSON text).
func (db *DB) fileNameExpr() string {
	if db.dialect == dialectPostgres {
		return `COALESCE(m.body::jsonb ->> 'file_name', '')`
	}
	return `COALESCE(json_extract(m.body, '$.file_name'), '')`
}

// SearchThreadsOf lists e's threads whose consumer's name, or a written
// message's text or file name, contains q (lowercased by the caller). SQLite's
// lower() folds ASCII letters only; PostgreSQL's folds every script's.
func (t *tx) SearchThreadsOf(ctx context.Context, e bridge.EmployeeID, q string) ([]bridge.ThreadRecord, error) {
	rows, err := t.query(ctx, `SELECT `+tCols+` FROM threads t
JOIN participants p ON p.thread = t.id AND p.employee = $1
LEFT JOIN consumers c ON c.company = t.company AND c.id = t.consumer
WHERE lower(COALESCE(c.name, '')) LIKE $2 ESCAPE '\'
   OR EXISTS (SELECT 1 FROM messages m WHERE m.thread = t.id AND m.from_party IN `+writtenParties+`
              AND (lower(m.text) LIKE $2 ESCAPE '\' OR lower(`+t.db.fileNameExpr()+`) LIKE $2 ESCAPE '\'))
ORDER BY t.updated_at DESC, t.id`, e, likePattern(q))
	if err != nil {
		return nil, fmt.Errorf("search threads of %s: %w", e, err)
	}
	defer rows.Close()
	var out []bridge.ThreadRecord
	for rows.Next() {
		tr, err := scanThread(rows)
		if err != nil {
			return nil, fmt.Errorf("search threads of %s: %w", e, err)
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search threads of %s: %w", e, err)
	}
	return out, nil
}

// ThreadParticipants lists a thread's employees in order of joining.
func (t *tx) ThreadParticipants(ctx context.Context, th bridge.ThreadID) ([]bridge.EmployeeID, error) {
	rows, err := t.query(ctx, `SELECT employee FROM participants WHERE thread = $1 ORDER BY position`, th)
	if err != nil {
		return nil, fmt.Errorf("participants of %s: %w", th, err)
	}
	defer rows.Close()
	var out []bridge.EmployeeID
	for rows.Next() {
		var e bridge.EmployeeID
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("participants of %s: %w", th, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("participants of %s: %w", th, err)
	}
	return out, nil
}
