package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/multiline/multiline/bridge"
)

// ErrNoSharedRates is returned by TakeRates on SQLite, whose single process
// keeps its limits in memory.
var ErrNoSharedRates = errors.New("shared rate buckets need PostgreSQL")

// SharesRates says whether TakeRates works here (PostgreSQL), so that the bot
// shares its Teams limits with the other replicas.
func (db *DB) SharesRates() bool { return db.dialect == dialectPostgres }

// TakeRates takes one token from each of buckets at now, all or none, in one
// statement (rate_take, migration 0008): wait is 0 when the request may go,
// otherwise how long until it could, and nothing was taken. Every replica on
// the database takes from the same rows, so N replicas together keep to each
// bucket's rate. Replicas' clocks must agree (NTP): a replica whose clock runs
// ahead by d may go up to d early.
func (db *DB) TakeRates(ctx context.Context, now time.Time, buckets []bridge.RateBucket) (wait time.Duration, err error) {
	if db.dialect != dialectPostgres {
		return 0, ErrNoSharedRates
	}
	if len(buckets) == 0 {
		return 0, nil
	}
	keys := make([]string, len(buckets))
	intervals := make([]int64, len(buckets))
	bursts := make([]int64, len(buckets))
	for i, b := range buckets {
		keys[i], intervals[i], bursts[i] = b.Key, max(b.Interval.Microseconds(), 1), int64(max(b.Burst, 1))
	}
	st, err := db.stmt(ctx, `SELECT rate_take(CAST($1 AS text[]), CAST($2 AS bigint[]), CAST($3 AS bigint[]), $4)`)
	if err != nil {
		return 0, err
	}
	var us int64
	if err := st.QueryRowContext(ctx, keys, intervals, bursts, micros(now)).Scan(&us); err != nil {
		return 0, fmt.Errorf("take rate tokens %v: %w", keys, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}
