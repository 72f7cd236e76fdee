package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/multiline/multiline/bridge"
)

// The policy state is stored whole as JSON (state); the columns beside it are
// copies for lookups, rewritten by every SaveThread.
const threadCols = `id, company, account, optin_scene, optin_link, created_at, updated_at, state`

func scanThread(r rowScanner) (bridge.ThreadRecord, error) {
	var tr bridge.ThreadRecord
	var created, updated int64
	var state string
	if err := r.Scan(&tr.ID, &tr.Company, &tr.Account, &tr.OptInScene, &tr.OptInLink, &created, &updated, &state); err != nil {
		return bridge.ThreadRecord{}, err
	}
	id := tr.ID
	if err := json.Unmarshal([]byte(state), &tr.Thread); err != nil {
		return bridge.ThreadRecord{}, fmt.Errorf("thread %s state: %w", id, err)
	}
	tr.ID = id
	tr.CreatedAt, tr.UpdatedAt = fromMicros(created), fromMicros(updated)
	return tr, nil
}

// LoadThread reads a thread and, on PostgreSQL, locks its row until the end of the
// transaction (on SQLite the write transaction holds the database).
func (t *tx) LoadThread(ctx context.Context, id bridge.ThreadID) (bridge.ThreadRecord, error) {
	rows, err := t.query(ctx, `SELECT `+threadCols+` FROM threads WHERE id = $1`+t.db.lock, id)
	if err != nil {
		return bridge.ThreadRecord{}, fmt.Errorf("read thread %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return bridge.ThreadRecord{}, fmt.Errorf("read thread %s: %w", id, err)
		}
		return bridge.ThreadRecord{}, fmt.Errorf("%w: %s", bridge.ErrUnknownThread, id)
	}
	tr, err := scanThread(rows)
	if err != nil {
		return bridge.ThreadRecord{}, fmt.Errorf("read thread %s: %w", id, err)
	}
	// The participant rows are always written from the state, so they match it.
	t.rememberParticipants(id, tr.Participants)
	return tr, rows.Close()
}

// LiveThread finds the consumer's most recently updated thread in the company.
func (t *tx) LiveThread(ctx context.Context, company bridge.CompanyID, consumer bridge.ConsumerID) (bridge.ThreadID, error) {
	var id bridge.ThreadID
	err := t.scanOne(ctx, bridge.ErrUnknownThread, "thread of consumer "+string(consumer),
		`SELECT id FROM threads WHERE company = $1 AND consumer = $2 ORDER BY updated_at DESC, id DESC LIMIT 1`,
		[]any{company, consumer}, &id)
	return id, err
}

// ThreadByOptInScene finds the thread whose opt-in link has scene.
func (t *tx) ThreadByOptInScene(ctx context.Context, company bridge.CompanyID, scene string) (bridge.ThreadID, error) {
	if scene == "" {
		return "", fmt.Errorf("%w: empty opt-in scene", bridge.ErrUnknownThread)
	}
	var id bridge.ThreadID
	err := t.scanOne(ctx, bridge.ErrUnknownThread, "opt-in scene "+scene,
		`SELECT id FROM threads WHERE company = $1 AND optin_scene = $2`, []any{company, scene}, &id)
	return id, err
}

// SaveThread inserts or updates a thread and rewrites its participant index.
func (t *tx) SaveThread(ctx context.Context, tr bridge.ThreadRecord) error {
	state, err := json.Marshal(tr.Thread)
	if err != nil {
		return fmt.Errorf("encode thread %s: %w", tr.ID, err)
	}
	_, err = t.exec(ctx, `INSERT INTO threads (id, company, consumer, account, status, state, optin_scene, optin_link, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE SET company = excluded.company, consumer = excluded.consumer,
  account = excluded.account, status = excluded.status, state = excluded.state,
  optin_scene = excluded.optin_scene, optin_link = excluded.optin_link, updated_at = excluded.updated_at`,
		tr.ID, tr.Company, tr.Consumer, tr.Account, tr.Status, string(state), tr.OptInScene, tr.OptInLink,
		micros(tr.CreatedAt), micros(tr.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save thread %s: %w", tr.ID, err)
	}
	// Those who were in the thread as this transaction found it hear of the
	// change too: a removed employee's list loses the thread.
	t.changes.thread(tr.Company, tr.ID, t.participants[tr.ID]...)
	t.changes.thread(tr.Company, tr.ID, tr.Participants...)
	return t.syncParticipants(ctx, tr.ID, tr.Participants)
}

func (t *tx) rememberParticipants(id bridge.ThreadID, ps []bridge.EmployeeID) {
	if t.participants == nil {
		t.participants = map[bridge.ThreadID][]bridge.EmployeeID{}
	}
	t.participants[id] = slices.Clone(ps)
}

// syncParticipants makes the participants rows match ps, touching only what
// changed: most saves change no participant.
func (t *tx) syncParticipants(ctx context.Context, id bridge.ThreadID, ps []bridge.EmployeeID) error {
	old, known := t.participants[id]
	if known && slices.Equal(old, ps) {
		return nil
	}
	have := map[bridge.EmployeeID]int{}
	if known {
		for i, e := range old {
			have[e] = i
		}
	} else if err := t.readParticipants(ctx, id, have); err != nil {
		return err
	}
	for i, e := range ps {
		pos, ok := have[e]
		delete(have, e)
		if ok && pos == i {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO participants (thread, employee, position) VALUES ($1, $2, $3)
ON CONFLICT (thread, employee) DO UPDATE SET position = excluded.position`, id, e, i); err != nil {
			return fmt.Errorf("add participant %s to %s: %w", e, id, err)
		}
	}
	for e := range have {
		if _, err := t.exec(ctx, `DELETE FROM participants WHERE thread = $1 AND employee = $2`, id, e); err != nil {
			return fmt.Errorf("remove participant %s from %s: %w", e, id, err)
		}
	}
	t.rememberParticipants(id, ps)
	return nil
}

func (t *tx) readParticipants(ctx context.Context, id bridge.ThreadID, into map[bridge.EmployeeID]int) error {
	rows, err := t.query(ctx, `SELECT employee, position FROM participants WHERE thread = $1`, id)
	if err != nil {
		return fmt.Errorf("read participants of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e bridge.EmployeeID
		var pos int
		if err := rows.Scan(&e, &pos); err != nil {
			return fmt.Errorf("read participants of %s: %w", id, err)
		}
		into[e] = pos
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read participants of %s: %w", id, err)
	}
	return nil
}

// ThreadsOf lists the threads e takes part in, most recently updated first.
func (t *tx) ThreadsOf(ctx context.Context, e bridge.EmployeeID) ([]bridge.ThreadRecord, error) {
	rows, err := t.query(ctx, `SELECT t.id, t.company, t.account, t.optin_scene, t.optin_link, t.created_at, t.updated_at, t.state
FROM threads t JOIN participants p ON p.thread = t.id
WHERE p.employee = $1 ORDER BY t.updated_at DESC, t.id`, e)
	if err != nil {
		return nil, fmt.Errorf("threads of %s: %w", e, err)
	}
	defer rows.Close()
	var out []bridge.ThreadRecord
	for rows.Next() {
		tr, err := scanThread(rows)
		if err != nil {
			return nil, fmt.Errorf("threads of %s: %w", e, err)
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("threads of %s: %w", e, err)
	}
	return out, nil
}
