package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/multiline/multiline/archive"
)

// SMTP journaling: once a UTC day is anchored, each conversation of that day is
// sent to the archive's journaling mailbox as one EML, by a durable job of its
// own, so a failing delivery is retried (and visible among the jobs and on
// /metrics) without holding up the others. Delivery is at least once; the
// archive dedupes by the Message-ID, which depends on the thread and the day.

// Journaler sends conversation-days to the journaling mailbox (package journal).
type Journaler interface {
	// Threads lists the company's threads that have archive events on day.
	Threads(ctx context.Context, company string, day time.Time) ([]string, error)
	// Send renders one thread's day as EML and delivers it; an error wrapping
	// ErrPermanent is a final refusal.
	Send(ctx context.Context, company, thread string, day time.Time) error
	// Target says where deliveries go, for the admin page: the SMTP server's
	// host:port and the journaling mailbox (never a credential).
	Target() (server, mailbox string)
	// Redact removes the journal's credentials from a failure's text (the
	// SMTP password, a URL's user information) before an admin reads it.
	Redact(msg string) string
}

// Job kinds of journaling: a day's fan-out, and one conversation-day.
const (
	JobJournalDay = "archive.journal_day"
	JobJournal    = "archive.journal"
)

type journalJob struct {
	Day    string `json:"day"`
	Thread string `json:"thread,omitempty"`
}

// errNoJournal: a journaling job reached a replica without journaling (its
// MULTILINE_ARCHIVE_SMTP_URL is unset while another's is set).
var errNoJournal = errors.New("journaling is not configured on this replica")

// JournalLanes is the prefix of the lanes of a company's journaling jobs:
// the day's fan-out (the prefix itself) and each thread's deliveries.
func JournalLanes(c CompanyID) string { return "archive:journal:" + string(c) + ":" }

func journalLane(c CompanyID, thread string) string { return JournalLanes(c) + thread }

// AttachJournal turns journaling on: anchored days are sent through j.
func (s *Service) AttachJournal(j Journaler) { s.journal = j }

// JournalDay enqueues the sending of every conversation of day (a re-send, or
// a first load); the jobs run wherever journaling is attached.
func (s *Service) JournalDay(ctx context.Context, day time.Time) error {
	return s.tx(ctx, func(tx Tx) error { return s.enqueueJournalDay(ctx, tx, day) })
}

func (s *Service) enqueueJournalDay(ctx context.Context, tx Tx, day time.Time) error {
	return s.enqueue(ctx, tx, journalLane(s.company, ""), JobJournalDay,
		journalJob{Day: archive.DayOf(day).Format(archive.DayLayout)}, s.now())
}

// runJournalDay lists the day's conversations and enqueues one job for each,
// in one transaction with its completion.
func (s *Service) runJournalDay(ctx context.Context, j Job) error {
	p, day, err := journalPayload(j)
	if err != nil {
		return err
	}
	if s.journal == nil {
		return Permanent(errNoJournal)
	}
	threads, err := s.journal.Threads(ctx, string(s.company), day)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx Tx) error {
		for _, t := range threads {
			if err := s.enqueue(ctx, tx, journalLane(s.company, t), JobJournal, journalJob{Day: p.Day, Thread: t}, s.now()); err != nil {
				return err
			}
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

// runJournal sends one conversation-day; failures are retried by the runner.
func (s *Service) runJournal(ctx context.Context, j Job) error {
	p, day, err := journalPayload(j)
	if err != nil {
		return err
	}
	if s.journal == nil {
		return Permanent(errNoJournal)
	}
	if err := s.journal.Send(ctx, string(s.company), p.Thread, day); err != nil {
		return err
	}
	if s.retention == nil {
		return nil
	}
	// Retention purges only what the archive's mailbox accepted. Should this
	// fail, the retry sends the day again, which the archive dedupes.
	return s.retention.MarkJournaled(ctx, s.company, p.Thread, day, s.now())
}

func journalPayload(j Job) (journalJob, time.Time, error) {
	p, err := decode[journalJob](j)
	if err != nil {
		return p, time.Time{}, Permanent(err)
	}
	day, err := time.Parse(archive.DayLayout, p.Day)
	if err != nil {
		return p, time.Time{}, Permanent(err)
	}
	return p, day, nil
}
