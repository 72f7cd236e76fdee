// Package jobs is the job runner shared by the SQLite/PostgreSQL store and the
// in-memory store: it claims due head-of-lane jobs from a Queue, runs their
// handlers on a fixed number of workers, and reschedules failures.
//
// The queue decides which jobs are claimable (only the oldest job of a lane, and
// only when no job of that lane is held by a live lease); this package decides
// when to ask, how many at a time, and what a handler's result means.
package jobs
