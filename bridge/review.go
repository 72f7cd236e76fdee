package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/archive"
)

// Compliance review: a reviewer reads every thread's record, read-only,
// searches them, and works through the queue of messages a lexicon rule
// flagged, marking each reviewed with a comment (an archive.KindReview event
// on the thread's chain). What a reviewer reads is the archive itself, the
// record a regulator would be shown, not the employees' inbox.

// ReviewQuery selects threads for a reviewer; empty fields select all.
type ReviewQuery struct {
	// Text is matched, case-insensitively, in the messages' texts (originals).
	Text string
	// Consumer is a WeChat id or part of a nickname.
	Consumer string
	// Employee is an employee id: threads they are in or wrote in.
	Employee EmployeeID
	// From and To bound the threads' activity: [From, To).
	From, To time.Time
}

// ReviewThread is one thread in a reviewer's search results.
type ReviewThread struct {
	ID           ThreadID   `json:"id"`
	Consumer     ConsumerID `json:"consumer"`
	ConsumerName string     `json:"consumer_name"`
	// Employees are the names of the thread's participants now.
	Employees []string  `json:"employees"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Events    int       `json:"events"`
}

// FlaggedItem is a lexicon flag not reviewed yet.
type FlaggedItem struct {
	Thread       ThreadID            `json:"thread"`
	ConsumerName string              `json:"consumer_name"`
	Seq          int64               `json:"seq"`
	At           time.Time           `json:"at"`
	Decision     archive.LexiconBody `json:"decision"`
}

// Reviews is the store's side of review (storage.DB implements it).
type Reviews interface {
	// ReviewThreads lists the company's threads that match q, latest first.
	ReviewThreads(ctx context.Context, company CompanyID, q ReviewQuery) ([]ReviewThread, error)
	// ThreadEvents is a thread's whole archive chain, in order.
	ThreadEvents(ctx context.Context, company CompanyID, t ThreadID) ([]archive.Event, error)
	// Flagged lists the lexicon events whose action is flag and that no review
	// event of their thread names, oldest first.
	Flagged(ctx context.Context, company CompanyID) ([]FlaggedItem, error)
}

// ErrNoReviews says the service was not given the store's review side.
var ErrNoReviews = errors.New("bridge: review is not attached")

// ErrNotFlagged says the event named for review is not a lexicon flag.
var ErrNotFlagged = errors.New("bridge: that event is not a flagged message")

// AttachReviews lets the service serve reviewers through r.
func (s *Service) AttachReviews(r Reviews) { s.reviews = r }

// ReviewThreads searches every thread of the company, for a reviewer.
func (s *Service) ReviewThreads(ctx context.Context, q ReviewQuery) ([]ReviewThread, error) {
	if s.reviews == nil {
		return nil, ErrNoReviews
	}
	q.Text, q.Consumer = strings.TrimSpace(q.Text), strings.TrimSpace(q.Consumer)
	return s.reviews.ReviewThreads(ctx, s.company, q)
}

// ThreadRecord is a thread's full archive record, for a reviewer;
// ErrUnknownThread if it has none.
func (s *Service) ThreadRecord(ctx context.Context, t ThreadID) ([]archive.Event, error) {
	if s.reviews == nil {
		return nil, ErrNoReviews
	}
	evs, err := s.reviews.ThreadEvents(ctx, s.company, t)
	if err == nil && len(evs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownThread, t)
	}
	return evs, err
}

// Flagged is the queue of flagged messages waiting for review.
func (s *Service) Flagged(ctx context.Context) ([]FlaggedItem, error) {
	if s.reviews == nil {
		return nil, ErrNoReviews
	}
	return s.reviews.Flagged(ctx, s.company)
}

// MarkReviewed records that reviewer reviewed the flagged event seq of thread
// t, with a comment: a KindReview event on the thread's chain, which takes
// the item off the queue.
func (s *Service) MarkReviewed(ctx context.Context, reviewer archive.Party, t ThreadID, seq int64, comment string) error {
	if s.reviews == nil {
		return ErrNoReviews
	}
	items, err := s.reviews.Flagged(ctx, s.company)
	if err != nil {
		return err
	}
	found := false
	for _, it := range items {
		found = found || (it.Thread == t && it.Seq == seq)
	}
	if !found {
		return fmt.Errorf("%w: %s #%d (or it was reviewed already)", ErrNotFlagged, t, seq)
	}
	reviewer.Role = archive.RoleReviewer
	return s.tx(ctx, func(tx Tx) error {
		// The thread's row lock serialises its chain.
		if _, err := tx.LoadThread(ctx, t); err != nil {
			return err
		}
		return tx.Archive(ctx, archive.Draft{Company: string(s.company), Thread: string(t), Time: s.now(), Kind: archive.KindReview,
			Body: archive.ReviewBody{Reviewer: reviewer, Seq: seq, Comment: strings.TrimSpace(comment)}})
	})
}
