package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/archive"
)

// Retention and legal holds. The company keeps records Policy.RetentionDays
// days (0: for ever). Once a day a durable job purges what is older: message
// texts and bodies, media bytes and archive event bodies, never their hashes,
// so `multiline archive verify` still passes; the purge is itself a
// archive.KindPurge event. With journaling on, only conversation-days the
// archive's mailbox accepted are purged, so nothing leaves before it was
// exported. A legal hold on a consumer, a thread or an employee exempts their
// records until it is lifted; holds are archive events (on the company chain,
// where the purge takes its lock, so a hold and a purge never race), and the
// holds in force are read back from those events, the one source of truth.

// JobRetention is the daily retention run's job kind.
const JobRetention = "archive.retention"

// retentionLane is the one lane of a company's retention runs.
func retentionLane(c CompanyID) string { return "archive:retention:" + string(c) }

// retentionDelay is how long after midnight UTC the run starts: after the
// day's anchor and the journaling it enqueues.
const retentionDelay = time.Hour

// HoldScope is what a legal hold covers.
type HoldScope string

// The scopes of a hold.
const (
	HoldConsumer HoldScope = "consumer" // every thread of a WeChat consumer
	HoldThread   HoldScope = "thread"   // one thread
	HoldEmployee HoldScope = "employee" // every thread an employee is or was in
)

// Hold is a legal hold in force, as its KindHoldSet event recorded it.
type Hold struct {
	ID     string        `json:"id"`
	Scope  HoldScope     `json:"scope"`
	Target string        `json:"target"` // the consumer, thread or employee id
	Reason string        `json:"reason"`
	By     archive.Party `json:"by"`
	SetAt  time.Time     `json:"set_at"`
}

// PurgeRequest is one retention run, as the store carries it out.
type PurgeRequest struct {
	Company CompanyID
	// Before is the cut-off: records from before it are purged.
	Before time.Time
	// RetentionDays is the period that gave Before, recorded in the purge event.
	RetentionDays int
	// JournaledOnly limits the purge to conversation-days the journal sent.
	JournaledOnly bool
	// At is the time of the purge event.
	At time.Time
}

// PurgeResult counts what a retention run dropped.
type PurgeResult struct {
	Events   int64    `json:"events"`   // archive event bodies
	Messages int64    `json:"messages"` // message texts and bodies
	Media    int64    `json:"media"`    // media items' bytes
	Holds    []string `json:"holds"`    // the holds in force
}

// Retention is the store's side of retention (storage.DB implements it).
type Retention interface {
	// Holds lists the company's holds in force, oldest first.
	Holds(ctx context.Context, company CompanyID) ([]Hold, error)
	// Purge carries out r in one transaction: it reads the holds in force,
	// drops what is older than r.Before and not held, and appends the
	// KindPurge event when it dropped anything.
	Purge(ctx context.Context, r PurgeRequest) (PurgeResult, error)
	// MarkJournaled records that the journal delivered a thread's day.
	MarkJournaled(ctx context.Context, company CompanyID, thread string, day, at time.Time) error
	// JournalState reads the company's journaling: the days MarkJournaled
	// recorded and the journaling jobs (lanes under JournalLanes).
	JournalState(ctx context.Context, company CompanyID) (JournalState, error)
}

// ErrNoRetention says the service was not given the store's retention side.
var ErrNoRetention = errors.New("bridge: retention is not attached")

// ErrUnknownHold says no hold in force has that id.
var ErrUnknownHold = errors.New("bridge: no such hold in force")

// AttachRetention lets the service purge and keep holds through r.
func (s *Service) AttachRetention(r Retention) { s.retention = r }

// PurgeJournaledOnly makes retention purge only journaled conversation-days
// even where this process has no journal attached (a command run by an
// operator on a deployment that journals).
func (s *Service) PurgeJournaledOnly() { s.journaledOnly = true }

// ScheduleRetention starts the company's daily retention job unless it exists
// already; like the anchor, the job reschedules itself.
func (s *Service) ScheduleRetention(ctx context.Context) error {
	return s.tx(ctx, func(tx Tx) error {
		has, err := tx.HasJobs(ctx, retentionLane(s.company))
		if err != nil || has {
			return err
		}
		return tx.Enqueue(ctx, nextRetention(s.company, s.now()))
	})
}

// nextRetention is the run due after the end of now's UTC day.
func nextRetention(c CompanyID, now time.Time) Job {
	return Job{Lane: retentionLane(c), Kind: JobRetention, Payload: []byte(`{}`),
		RunAt: archive.DayOf(now).AddDate(0, 0, 1).Add(retentionDelay)}
}

// runRetention purges per the policy, then schedules tomorrow's run. A purge
// repeated after a crash finds nothing more to drop, so it needs no shared
// transaction with the job's completion.
func (s *Service) runRetention(ctx context.Context, j Job) error {
	if s.retention == nil {
		return Permanent(ErrNoRetention)
	}
	res, err := s.Purge(ctx)
	if err != nil {
		return err
	}
	if res.Events+res.Messages+res.Media > 0 {
		s.log.Info("retention purged records", "events", res.Events, "messages", res.Messages, "media", res.Media, "holds", len(res.Holds))
	}
	return s.tx(ctx, func(tx Tx) error {
		if err := tx.SetTimer(ctx, nextRetention(s.company, s.now())); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

// Purge runs retention now, per the company's policy: records from before the
// start of the UTC day RetentionDays ago are purged, unless held. With a
// period of 0 it does nothing.
func (s *Service) Purge(ctx context.Context) (PurgeResult, error) {
	if s.retention == nil {
		return PurgeResult{}, ErrNoRetention
	}
	c, err := s.CompanySettings(ctx)
	if err != nil {
		return PurgeResult{}, err
	}
	days := c.Policy.RetentionDays
	if days <= 0 {
		return PurgeResult{}, nil
	}
	now := s.now()
	return s.retention.Purge(ctx, PurgeRequest{Company: s.company, Before: archive.DayOf(now).AddDate(0, 0, -days),
		RetentionDays: days, JournaledOnly: s.journal != nil || s.journaledOnly, At: now})
}

// Holds lists the company's legal holds in force.
func (s *Service) Holds(ctx context.Context) ([]Hold, error) {
	if s.retention == nil {
		return nil, ErrNoRetention
	}
	return s.retention.Holds(ctx, s.company)
}

// SetHold puts a legal hold on a consumer, a thread or an employee, by the
// admin of ctx (WithAdmin), and returns it. The target must exist: a hold on
// a mistyped id would protect nothing.
func (s *Service) SetHold(ctx context.Context, scope HoldScope, target, reason string) (Hold, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Hold{}, fmt.Errorf("%w: a hold needs a reason (the matter it is for)", ErrInvalidPolicy)
	}
	h := Hold{ID: "hold-" + newID(10), Scope: scope, Target: target, Reason: reason, By: adminOf(ctx), SetAt: s.now()}
	err := s.tx(ctx, func(tx Tx) error {
		if err := holdTargetExists(ctx, tx, s.company, scope, target); err != nil {
			return err
		}
		return tx.Archive(ctx, holdDraft(s.company, archive.KindHoldSet, h, h.SetAt))
	})
	return h, err
}

// LiftHold ends the hold in force with this id, by the admin of ctx.
func (s *Service) LiftHold(ctx context.Context, id, reason string) (Hold, error) {
	holds, err := s.Holds(ctx)
	if err != nil {
		return Hold{}, err
	}
	for _, h := range holds {
		if h.ID != id {
			continue
		}
		lift := h
		lift.By, lift.Reason = adminOf(ctx), strings.TrimSpace(reason)
		err := s.tx(ctx, func(tx Tx) error {
			return tx.Archive(ctx, holdDraft(s.company, archive.KindHoldLifted, lift, s.now()))
		})
		return h, err
	}
	return Hold{}, fmt.Errorf("%w: %s", ErrUnknownHold, id)
}

func holdDraft(c CompanyID, kind archive.Kind, h Hold, at time.Time) archive.Draft {
	return archive.Draft{Company: string(c), Thread: archive.CompanyThread, Time: at, Kind: kind,
		Body: archive.HoldBody{HoldID: h.ID, Scope: string(h.Scope), Target: h.Target, By: h.By, Reason: h.Reason}}
}

func holdTargetExists(ctx context.Context, tx Tx, c CompanyID, scope HoldScope, target string) error {
	switch scope {
	case HoldConsumer:
		_, err := tx.Consumer(ctx, c, ConsumerID(target))
		return err
	case HoldThread:
		rec, err := tx.LoadThread(ctx, ThreadID(target))
		if err == nil && rec.Company != c {
			return fmt.Errorf("%w: %s", ErrUnknownThread, target)
		}
		return err
	case HoldEmployee:
		e, err := tx.Employee(ctx, EmployeeID(target))
		if err == nil && e.Company != c {
			return fmt.Errorf("%w: %s", ErrUnknownEmployee, target)
		}
		return err
	}
	return fmt.Errorf("%w: a hold's scope is consumer, thread or employee, got %q", ErrInvalidPolicy, scope)
}
