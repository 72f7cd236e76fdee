package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/multiline/multiline/bridge"
)

// JournalState implements bridge.Retention: when the company's journal last
// delivered (archive_journaled), and its journaling jobs, live and dead, by
// their lanes (bridge.JournalLanes). Three small reads for the admin page; the
// jobs are matched by a prefix of their lane, which no index serves, so it is
// not for a hot path.
func (db *DB) JournalState(ctx context.Context, company bridge.CompanyID) (bridge.JournalState, error) {
	var st bridge.JournalState
	var last, oldest int64
	if err := db.reads().QueryRowContext(ctx, `SELECT COALESCE(MAX(at), 0) FROM archive_journaled WHERE company = $1`,
		string(company)).Scan(&last); err != nil {
		return st, fmt.Errorf("journal state of %s: %w", company, err)
	}
	st.LastDelivered = fromMicros(last)

	prefix := bridge.JournalLanes(company)
	if err := db.reads().QueryRowContext(ctx, `SELECT
  COALESCE(SUM(CASE WHEN dead_at = 0 AND kind = $3 THEN 1 ELSE 0 END), 0),
  COALESCE(MIN(CASE WHEN dead_at = 0 AND kind = $3 THEN created_at END), 0),
  COALESCE(SUM(CASE WHEN dead_at = 0 AND attempts > 0 THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN dead_at > 0 THEN 1 ELSE 0 END), 0)
FROM jobs WHERE substr(lane, 1, $2) = $1`, prefix, len(prefix), bridge.JobJournal).Scan(&st.Pending, &oldest, &st.Failing, &st.Dead); err != nil {
		return st, fmt.Errorf("journal state of %s: jobs: %w", company, err)
	}
	st.OldestPending = fromMicros(oldest)

	// The latest failure: of a live job (its retry is the next due), else of
	// the job that died last.
	err := db.reads().QueryRowContext(ctx, `SELECT last_error FROM jobs
WHERE substr(lane, 1, $2) = $1 AND last_error <> ''
ORDER BY CASE WHEN dead_at = 0 THEN 0 ELSE 1 END, CASE WHEN dead_at = 0 THEN run_at ELSE dead_at END DESC, id DESC
LIMIT 1`, prefix, len(prefix)).Scan(&st.LastError)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("journal state of %s: last error: %w", company, err)
	}
	return st, nil
}
