package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Every job kind has a bounded life. A failure that RetryAfterError defers (a
// rate limit, an employee Teams will not reach) does not count as an attempt, but
// the age limit still applies, so nothing waits forever.
var jobLimits = map[string]JobLimits{
	JobSend:    {MaxAttempts: maxSendAttempts, MaxAge: 48 * time.Hour},
	JobDeliver: {MaxAttempts: 12, MaxAge: 7 * 24 * time.Hour},
	JobTimer:   {MaxAttempts: 12, MaxAge: 96 * time.Hour},
	JobPull:    {MaxAttempts: 15, MaxAge: 6 * time.Hour},
	JobReceive: {MaxAttempts: 10, MaxAge: 24 * time.Hour},
	// A dead one keeps the consumers' messages in its payload, for an
	// operator's retry: the pull that enqueued it moved WeChat's cursor past them.
	JobApplyPulled: {MaxAttempts: 10, MaxAge: 24 * time.Hour},
	JobOptInLink:   {MaxAttempts: 10, MaxAge: 24 * time.Hour},
	JobEndSession:  {MaxAttempts: 10, MaxAge: 24 * time.Hour},
	JobInstall:     {MaxAttempts: 10, MaxAge: 7 * 24 * time.Hour},
	JobAnchor:      {MaxAttempts: 50, MaxAge: 7 * 24 * time.Hour},
	JobJournalDay:  {MaxAttempts: 50, MaxAge: 7 * 24 * time.Hour},
	JobJournal:     {MaxAttempts: 50, MaxAge: 7 * 24 * time.Hour},
	// An alert is a nudge: the flagged queue on the review page keeps the item
	// whatever becomes of it. 16 attempts span about 40 minutes of backoff, time
	// for an admin to grant a permission the first failures named.
	JobReviewAlert: {MaxAttempts: 16, MaxAge: 24 * time.Hour},
}

// defaultJobLimits apply to a kind this version does not know (a newer replica's).
var defaultJobLimits = JobLimits{MaxAttempts: 20, MaxAge: 7 * 24 * time.Hour}

// LimitsFor returns the life limits of a job kind.
func LimitsFor(kind string) JobLimits {
	if l, ok := jobLimits[kind]; ok {
		return l
	}
	return defaultJobLimits
}

// JobDied settles the outcome of a job that ended without success (a permanent
// error, or its limits reached) and buries it, in one transaction: the message it
// carried ends failed with a reason a person understands, and the people it
// concerns are told. The job runner calls it; cause is the last failure.
func (s *Service) JobDied(ctx context.Context, j Job, cause error) error {
	lastErr := cause.Error()
	bury := func(tx Tx) error { return tx.BuryJob(ctx, j.ID, j.Attempts+1, lastErr) }
	s.log.Warn("job ended dead", "job", j.ID, "kind", j.Kind, "lane", j.Lane, "attempts", j.Attempts+1, "err", cause)
	switch j.Kind {
	case JobSend:
		p, err := decode[sendJob](j)
		if err != nil {
			break
		}
		reason := FailTransient
		if errors.Is(cause, ErrPermanent) {
			reason = FailRejected
		}
		return s.tx(ctx, func(tx Tx) error {
			if err := s.settleIn(ctx, tx, p.Thread, SendFailed{Message: p.Message, Reason: reason}); err != nil {
				return err
			}
			return bury(tx)
		})
	case JobDeliver:
		p, err := decode[deliverJob](j)
		if err != nil {
			break
		}
		return s.tx(ctx, func(tx Tx) error {
			if err := s.recordUndelivered(ctx, tx, p, cause); err != nil {
				return err
			}
			return bury(tx)
		})
	case JobReceive:
		in, err := decode[Inbound](j)
		if err != nil || in.Media == nil {
			break
		}
		// The consumer's message must not be lost because its media could not be
		// fetched: it is applied with a note in place of the media.
		in.Body.Text = joinText(in.Body.Text, fmt.Sprintf("[%s could not be downloaded from WeChat]", in.Media.Kind))
		in.Media = nil
		return s.tx(ctx, func(tx Tx) error {
			if err := s.receive(ctx, tx, []Inbound{in}); err != nil {
				return err
			}
			return bury(tx)
		})
	}
	return s.tx(ctx, bury)
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// settleIn applies an outcome event to a thread inside tx.
func (s *Service) settleIn(ctx context.Context, tx Tx, t ThreadID, ev Event) error {
	c, err := tx.Company(ctx, s.company)
	if err != nil {
		return err
	}
	rec, err := tx.LoadThread(ctx, t)
	if err != nil {
		return err
	}
	return s.applyTo(ctx, tx, c, &rec, ev, s.now())
}

// recordUndelivered keeps, in the thread, a note for the employee that Teams did
// not take a delivery: the tab shows it where the card would have been.
func (s *Service) recordUndelivered(ctx context.Context, tx Tx, p deliverJob, cause error) error {
	rec, err := tx.LoadThread(ctx, p.Thread)
	if errors.Is(err, ErrUnknownThread) {
		return nil
	}
	if err != nil {
		return err
	}
	emp, err := tx.Employee(ctx, p.Employee)
	if err != nil {
		return err
	}
	c, err := tx.Company(ctx, s.company)
	if err != nil {
		return err
	}
	rec.Seq++
	now := s.now()
	lang := ParseLanguage(emp.Locale)
	params := NoticeParams{Reason: teamsReason(cause)}
	text := Render(c.Overrides, NoticeTeamsUndelivered, lang, params, Names{})
	m := MessageRecord{ID: MessageIDFor(rec.ID, rec.Seq), Thread: rec.ID, Seq: rec.Seq, From: ToEmployee, Author: p.Employee,
		Notice: NoticeTeamsUndelivered, Text: text, Body: Content{Text: text}, Status: StatusFailed, Reason: params.Reason,
		At: now, UpdatedAt: now}
	rec.UpdatedAt = now
	if err := tx.SaveThread(ctx, rec); err != nil {
		return err
	}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	return s.captureNote(ctx, tx, rec, m, lang, now)
}

// teamsReason says in words why Teams did not take a delivery.
func teamsReason(err error) string {
	switch {
	case errors.Is(err, ErrEmployeeUnreachable):
		return "Teams does not let the bot reach you"
	case errors.Is(err, ErrPermanent):
		return "Teams refused the card"
	}
	return "Teams could not be reached"
}
