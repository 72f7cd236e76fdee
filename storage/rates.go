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
var ErrNoSharedRates = errors.New("shared rate limits need PostgreSQL")

// SharesRates says whether TakeRates works here (PostgreSQL), so that the bot
// shares its Teams limits with the other replicas.
func (db *DB) SharesRates() bool { return db.dialect == dialectPostgres }

// TakeRates lets a request through every one of limits at now, or through
// none, in one statement (rate_grant, migration 0011): wait is 0 when the
// request may go (its grant is recorded under each key), otherwise how long
// until it could, and nothing was recorded. Every replica on the database
// grants from the same rows, so N replicas together keep to each window.
// Replicas' clocks must agree (NTP): a replica whose clock runs ahead by d
// may go up to d early.
func (db *DB) TakeRates(ctx context.Context, now time.Time, limits []bridge.RateLimit) (wait time.Duration, err error) {
	if db.dialect != dialectPostgres {
		return 0, ErrNoSharedRates
	}
	if len(limits) == 0 {
		return 0, nil
	}
	keys := make([]string, len(limits))
	keeps := make([]int32, len(limits))
	var wkeys, ns []int32
	var pers []int64
	for i, l := range limits {
		keys[i] = l.Key
		for _, w := range l.Windows {
			if w.N < 1 || w.Per <= 0 {
				return 0, fmt.Errorf("take rate %q: window %d per %s: %w", l.Key, w.N, w.Per, ErrBadRateWindow)
			}
			wkeys, pers, ns = append(wkeys, int32(i+1)), append(pers, w.Per.Microseconds()), append(ns, int32(w.N))
			keeps[i] = max(keeps[i], int32(w.N))
		}
	}
	st, err := db.stmt(ctx, `SELECT rate_grant(CAST($1 AS text[]), CAST($2 AS int[]), CAST($3 AS int[]), CAST($4 AS bigint[]), CAST($5 AS int[]), $6)`)
	if err != nil {
		return 0, err
	}
	var us int64
	if err := st.QueryRowContext(ctx, keys, keeps, wkeys, pers, ns, micros(now)).Scan(&us); err != nil {
		return 0, fmt.Errorf("take rates %v: %w", keys, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// ErrBadRateWindow reports a window that allows nothing or spans no time.
var ErrBadRateWindow = errors.New("a rate window needs N ≥ 1 and a positive span")
