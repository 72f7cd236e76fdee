package jobs

import "errors"

// ErrJobIncomplete: a job needs a lane and a kind.
var ErrJobIncomplete = errors.New("job has no lane or no kind")

// ErrEmptyLane: a lane operation was given no lane, or an empty name; callers
// must say which lanes they mean.
var ErrEmptyLane = errors.New("empty lane name")

// ErrJobAlive is returned when an operator retries or discards a job that is not
// dead: a live job belongs to the runner (it is waiting, running or backing off),
// and pulling it from under the runner could lose or repeat its work.
var ErrJobAlive = errors.New("job is not dead: only a dead job can be retried or discarded")
