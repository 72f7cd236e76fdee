package storage

import (
	"context"
	"fmt"
	"sync"

	"github.com/multiline/multiline/bridge"
)

// watchers fans thread changes out to the live-update streams of this process,
// by employee. A stream's channel holds one pending signal: changes that come
// while it is busy coalesce into one, since the stream reads the state afresh.
type watchers struct {
	mu   sync.Mutex
	subs map[bridge.EmployeeID]map[chan struct{}]struct{}
}

func (w *watchers) add(e bridge.EmployeeID) chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs == nil {
		w.subs = map[bridge.EmployeeID]map[chan struct{}]struct{}{}
	}
	if w.subs[e] == nil {
		w.subs[e] = map[chan struct{}]struct{}{}
	}
	w.subs[e][ch] = struct{}{}
	return ch
}

func (w *watchers) remove(e bridge.EmployeeID, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs[e], ch)
	if len(w.subs[e]) == 0 {
		delete(w.subs, e)
	}
}

// any says whether a stream is open here at all: with none, changes need no
// work (not even finding a thread's employees).
func (w *watchers) any() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.subs) > 0
}

// signal tells the streams of employees es (every stream, when all is set).
func (w *watchers) signal(all bool, es ...bridge.EmployeeID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	poke := func(set map[chan struct{}]struct{}) {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default: // a signal is pending already
			}
		}
	}
	if all {
		for _, set := range w.subs {
			poke(set)
		}
		return
	}
	for _, e := range es {
		poke(w.subs[e])
	}
}

// WatchEmployee returns a channel that receives a signal soon after a
// transaction commits that changed a thread employee e takes part in (or took
// part in before it), on this replica or, on PostgreSQL, on any replica of the
// database (through LISTEN/NOTIFY). It is what lets the tab's live updates
// answer at once without polling (teamsapp.Changes). A signal may be spurious
// (after the listener reconnected, every stream gets one, since notices may
// have been missed); changes that come together may arrive as one signal.
// stop must be called when the stream ends.
func (db *DB) WatchEmployee(e bridge.EmployeeID) (changed <-chan struct{}, stop func()) {
	db.listen()
	ch := db.watch.add(e)
	var once sync.Once
	return ch, func() { once.Do(func() { db.watch.remove(e, ch) }) }
}

// deliver hands a notice to this process: runners are woken for jobs, and the
// streams of each changed thread's employees are signalled. A thread whose
// employees the notice does not name (the transaction never read them) has
// them read here, and only when some stream is open.
func (db *DB) deliver(ctx context.Context, n notice) {
	if n.Jobs || n.All {
		db.Wake()
	}
	if n.All {
		db.watch.signal(true)
		return
	}
	if len(n.Threads) == 0 || !db.watch.any() {
		return
	}
	for _, tc := range n.Threads {
		es := tc.Employees
		if len(es) == 0 {
			var err error
			if es, err = db.participantsOf(ctx, tc.Thread); err != nil {
				db.log().Warn("live updates: read a changed thread's participants", "thread", tc.Thread, "err", err)
				db.watch.signal(true) // better a spurious look than a missed change
				continue
			}
		}
		db.watch.signal(false, es...)
	}
}

// participantsOf reads the employees of thread id.
func (db *DB) participantsOf(ctx context.Context, id bridge.ThreadID) ([]bridge.EmployeeID, error) {
	st, err := db.stmt(ctx, `SELECT employee FROM participants WHERE thread = $1`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("participants of %s: %w", id, err)
	}
	defer rows.Close()
	var out []bridge.EmployeeID
	for rows.Next() {
		var e bridge.EmployeeID
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("participants of %s: %w", id, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("participants of %s: %w", id, err)
	}
	return out, nil
}
