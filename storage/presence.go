package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/multiline/multiline/bridge"
)

// Presence: which employees have the MultiLine tab open, shared by the
// replicas (teamsapp.Presence). Each replica holds a lease per employee with a
// live-update stream open on it (tab_presence, migration 0014); leases carry
// their expiry (unix microseconds, by the writer's clock), so a replica that
// dies leaves leases that simply stop counting. The protocol (when to hold,
// renew, drop) is teamsapp's; these are its statements.

// HoldPresence records that replica has a stream of employee e open, until
// until: the lease is made, or extended if it exists.
func (db *DB) HoldPresence(ctx context.Context, replica string, e bridge.EmployeeID, until time.Time) error {
	st, err := db.stmt(ctx, `INSERT INTO tab_presence (employee, replica, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (employee, replica) DO UPDATE SET expires_at = excluded.expires_at`)
	if err == nil {
		_, err = st.ExecContext(ctx, e, replica, micros(until))
	}
	if err != nil {
		return fmt.Errorf("hold the tab presence of %s: %w", e, err)
	}
	return nil
}

// The employees to renew travel as one JSON array, which both dialects unpack.
const (
	renewPresenceSQLite = `UPDATE tab_presence SET expires_at = $1
WHERE replica = $2 AND employee IN (SELECT value FROM json_each($3))`
	renewPresencePostgres = `UPDATE tab_presence SET expires_at = $1
WHERE replica = $2 AND employee IN (SELECT jsonb_array_elements_text(CAST($3 AS text)::jsonb))`
)

// RenewPresence extends replica's leases of employees es to until, and deletes
// every replica's leases that expired before now (those of replicas that died,
// or that could not drop theirs). It returns how many leases it extended: fewer
// than len(es) means some are missing (their making failed, or they expired
// and were deleted while the replica could not reach the database) and must be
// held again. It never makes a lease, so a renewal that races with the close of
// a stream cannot bring back the lease the close dropped. Two statements,
// whatever the number of employees.
func (db *DB) RenewPresence(ctx context.Context, replica string, es []bridge.EmployeeID, now, until time.Time) (int, error) {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM tab_presence WHERE expires_at < $1`, micros(now)); err != nil {
		return 0, fmt.Errorf("delete expired tab presence: %w", err)
	}
	if len(es) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(es)
	if err != nil {
		return 0, fmt.Errorf("renew the tab presence: %w", err)
	}
	query := renewPresenceSQLite
	if db.dialect == dialectPostgres {
		query = renewPresencePostgres
	}
	st, err := db.stmt(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("renew the tab presence: %w", err)
	}
	res, err := st.ExecContext(ctx, micros(until), replica, string(list))
	if err != nil {
		return 0, fmt.Errorf("renew the tab presence: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("renew the tab presence: %w", err)
	}
	return int(n), nil
}

// DropPresence deletes replica's lease of employee e (its last stream closed).
func (db *DB) DropPresence(ctx context.Context, replica string, e bridge.EmployeeID) error {
	st, err := db.stmt(ctx, `DELETE FROM tab_presence WHERE employee = $1 AND replica = $2`)
	if err == nil {
		_, err = st.ExecContext(ctx, e, replica)
	}
	if err != nil {
		return fmt.Errorf("drop the tab presence of %s: %w", e, err)
	}
	return nil
}

// DropReplicaPresence deletes every lease of replica (it is shutting down).
func (db *DB) DropReplicaPresence(ctx context.Context, replica string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM tab_presence WHERE replica = $1`, replica); err != nil {
		return fmt.Errorf("drop the tab presence of this replica: %w", err)
	}
	return nil
}

// Present reports whether some replica holds a lease of employee e that is
// alive at now. One lookup on the primary key's first column, on the reading
// pool (SQLite's does not wait for the writer).
func (db *DB) Present(ctx context.Context, e bridge.EmployeeID, now time.Time) (bool, error) {
	r := db.reader
	if r == nil {
		r = db
	}
	st, err := r.stmt(ctx, `SELECT EXISTS (SELECT 1 FROM tab_presence WHERE employee = $1 AND expires_at > $2)`)
	if err != nil {
		return false, fmt.Errorf("read the tab presence of %s: %w", e, err)
	}
	var ok bool
	if err := st.QueryRowContext(ctx, e, micros(now)).Scan(&ok); err != nil {
		return false, fmt.Errorf("read the tab presence of %s: %w", e, err)
	}
	return ok, nil
}
