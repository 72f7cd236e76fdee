package storage

import "sync"

// finished remembers the jobs whose handlers deleted them in their own
// transaction (Tx.CompleteJob), so that the runner's Complete, which follows,
// does not delete them a second time: one statement, one round trip less per
// job. An id is forgotten when the runner reports the job's outcome, whatever
// it is.
type finished struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

// maxFinished bounds the set: an id whose outcome this process never reports
// (a handler on another handle's runner completed it) would otherwise stay.
const maxFinished = 4096

func (f *finished) add(ids []int64) {
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil || len(f.ids) > maxFinished {
		f.ids = map[int64]struct{}{}
	}
	for _, id := range ids {
		f.ids[id] = struct{}{}
	}
}

// take reports whether id was deleted by its handler, and forgets it.
func (f *finished) take(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.ids[id]
	delete(f.ids, id)
	return ok
}
