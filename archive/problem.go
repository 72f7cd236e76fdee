package archive

import (
	"errors"
	"fmt"
)

// ProblemKind says how a chain differs from what was written.
type ProblemKind string

// The problems Verify reports.
const (
	// ProblemChanged: an event's content, time, kind or sequence was altered, or
	// an event was rewritten with recomputed hashes (caught by the next event or
	// by an anchor).
	ProblemChanged ProblemKind = "changed"
	// ProblemRemoved: one or more events are missing from a chain.
	ProblemRemoved ProblemKind = "removed"
	// ProblemReordered: events are in another order than they were written in.
	ProblemReordered ProblemKind = "reordered"
	// ProblemThreadRemoved: an anchor recorded a thread that is no longer there.
	ProblemThreadRemoved ProblemKind = "thread removed"
	// ProblemBodyMissing: an event's body is gone but no purge covers it.
	ProblemBodyMissing ProblemKind = "body missing"
)

// Problem is the first thing wrong with one chain: the event at Seq is the first
// that cannot be trusted. Everything after it in that chain is unverified.
type Problem struct {
	Kind  ProblemKind `json:"kind"`  // what was found
	Chain ChainID     `json:"chain"` // where
	Seq   int64       `json:"seq"`   // the first event concerned
	// Detail says in words what was found, for the operator.
	Detail string `json:"detail"`
}

// Error makes a Problem usable as an error, as `archive verify` prints it.
func (p Problem) Error() string {
	return fmt.Sprintf("%s: event %d %s: %s", p.Chain, p.Seq, p.Kind, p.Detail)
}

// ChainHead is a chain's last verified event, for the operator to compare with a
// copy kept elsewhere (the company chain's head covers every anchor).
type ChainHead struct {
	Chain ChainID `json:"chain"` // which chain
	Head
}

// Report is what Verify found.
type Report struct {
	Chains  int `json:"chains"`  // chains read
	Events  int `json:"events"`  // events read
	Purged  int `json:"purged"`  // events read without a body
	Anchors int `json:"anchors"` // anchors trusted and compared
	// Heads are every chain's head, sorted like Problems.
	Heads []ChainHead `json:"heads"`
	// Problems holds the first problem of each chain that has one, sorted by
	// company, then the company chain, then thread.
	Problems []Problem `json:"problems"`
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// First is the first problem, or nil when all is well.
func (r Report) First() *Problem {
	if len(r.Problems) == 0 {
		return nil
	}
	return &r.Problems[0]
}

// Err is nil when all is well, else an error naming the first problem and how
// many chains have one, so a command can print it and exit non-zero.
func (r Report) Err() error {
	p := r.First()
	if p == nil {
		return nil
	}
	if len(r.Problems) == 1 {
		return fmt.Errorf("%w: %w", ErrTampered, *p)
	}
	return fmt.Errorf("%w: %w (and %d more chains with problems)", ErrTampered, *p, len(r.Problems)-1)
}

// ErrTampered wraps every Report.Err, so callers can tell a failed verification
// from a failure to read.
var ErrTampered = errors.New("archive: verification failed")
