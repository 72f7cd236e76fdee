package bridge

import (
	"context"
	"time"

	"github.com/multiline/multiline/archive"
)

// The daily anchor: once per UTC day, a durable job appends to the company's
// archive chain the head of every thread chain (archive.NewAnchor). A thread
// removed whole, or cut short after an anchor, leaves no gap in any chain; the
// anchors are what `multiline archive verify` catches it with.

// JobAnchor is the daily anchor's job kind. It runs on the pool of other kinds.
const JobAnchor = "archive.anchor"

// anchorLane is the one lane of a company's anchors: one job at a time.
func anchorLane(c CompanyID) string { return "archive:anchor:" + string(c) }

// anchorJob is the payload: the UTC day the anchor closes (DayLayout).
type anchorJob struct {
	Day string `json:"day"`
}

// nextAnchor is the job that closes the UTC day of now, due when it ends.
func nextAnchor(c CompanyID, now time.Time) (Job, error) {
	day := archive.DayOf(now)
	return job(anchorLane(c), JobAnchor, anchorJob{Day: day.Format(archive.DayLayout)}, day.AddDate(0, 0, 1))
}

// ScheduleAnchors starts the company's daily anchor job unless it exists
// already (waiting or running). serve calls it at start-up; the job then
// reschedules itself, so every replica may call it.
func (s *Service) ScheduleAnchors(ctx context.Context) error {
	return s.tx(ctx, func(tx Tx) error {
		has, err := tx.HasJobs(ctx, anchorLane(s.company))
		if err != nil || has {
			return err
		}
		j, err := nextAnchor(s.company, s.now())
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, j)
	})
}

// runAnchor appends the anchor of its day and schedules the next day's, in one
// transaction with its completion. SetTimer drops any other waiting anchor job
// of the lane, so two replicas that both scheduled one at start-up leave one.
func (s *Service) runAnchor(ctx context.Context, j Job) error {
	p, err := decode[anchorJob](j)
	if err != nil {
		return Permanent(err)
	}
	day, err := time.Parse(archive.DayLayout, p.Day)
	if err != nil {
		return Permanent(err)
	}
	return s.tx(ctx, func(tx Tx) error {
		now := s.now()
		if err := s.anchorIn(ctx, tx, day, now); err != nil {
			return err
		}
		if s.journal != nil {
			// The day is closed: its conversations go to the archive's mailbox.
			if err := s.enqueueJournalDay(ctx, tx, day); err != nil {
				return err
			}
		}
		next, err := nextAnchor(s.company, now)
		if err != nil {
			return err
		}
		if err := tx.SetTimer(ctx, next); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

// anchorIn appends the company's anchor for day, with every thread's head as
// this transaction reads it.
func (s *Service) anchorIn(ctx context.Context, tx Tx, day, now time.Time) error {
	heads, err := tx.ArchiveHeads(ctx, s.company)
	if err != nil {
		return err
	}
	return tx.Archive(ctx, archive.NewAnchor(string(s.company), day, now, heads))
}

// Anchor appends an anchor now, closing the current UTC day so far: for an
// operator who wants one before a verification or an export.
func (s *Service) Anchor(ctx context.Context) error {
	return s.tx(ctx, func(tx Tx) error {
		now := s.now()
		return s.anchorIn(ctx, tx, now, now)
	})
}
