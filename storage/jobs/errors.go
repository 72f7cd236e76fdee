package jobs

import "errors"

// ErrJobIncomplete: a job needs a lane and a kind.
var ErrJobIncomplete = errors.New("job has no lane or no kind")

// ErrEmptyLanePrefix: cancelling lanes by an empty prefix would cancel every job;
// callers must say which.
var ErrEmptyLanePrefix = errors.New("empty lane prefix")
