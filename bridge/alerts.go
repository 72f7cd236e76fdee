package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/multiline/multiline/lexicon"
)

// This file is the compliance alerts: the designated reviewers get each
// lexicon block and flag in Teams. Reviewers are the Entra object ids the
// operator configured (MULTILINE_COMPLIANCE_REVIEWERS) and the people the tab
// saw holding the Compliance.Review role (NoteReviewer keeps them in the
// store). Each decision that blocks or flags enqueues one JobReviewAlert per
// reviewer in the transaction that records the decision (applyActs), so a
// crash loses no alert and a refused message alerts nobody; the job tells the
// Alerter (the Teams activity feed, graph/), which deep-links to the review
// page on the message.

// JobReviewAlert tells one compliance reviewer of one lexicon block or flag.
// It runs on the Teams side's workers.
const JobReviewAlert = "teams.review_alert"

// reviewLane keeps one reviewer's alerts in order, apart from deliveries to
// employees.
func reviewLane(reviewer string) string { return "review:" + reviewer }

// alertPreviewMax bounds the preview of a flagged message in an alert: enough
// to recognise it; the reviewer reads the whole message on the review page.
const alertPreviewMax = 80

// ComplianceAlert is what a reviewer is told of a lexicon decision.
type ComplianceAlert struct {
	// Reviewer is the reviewer's Entra object id.
	Reviewer string
	Thread   ThreadID
	// Message is the message decided on; the review page opens on it.
	Message MessageID
	// Action is lexicon.Block or lexicon.Flag.
	Action    lexicon.Action
	Direction lexicon.Direction
	// Rules name the rules that blocked, or that flagged.
	Rules []string
	// Consumer is the thread's consumer as the tab names them.
	Consumer string
	// Employees are the employee who wrote an outbound message, or the thread's
	// employees for an inbound one.
	Employees []string
	// Preview is the start of a flagged message as it was delivered (redacted
	// where a rule redacted). It is empty for a block: what a rule stopped is
	// not copied out of the archive into Teams' feed, push notifications and
	// lock screens; the reviewer reads it on the review page.
	Preview string
}

// Alerter delivers compliance alerts (graph/ implements it with the Teams
// activity feed). A *RetryAfterError asks to wait (throttling); an error
// wrapping ErrNeedsAdmin (the app is not installed for the reviewer, a missing
// permission) is logged and the alert dropped, as the employees' activity feed
// notifications are; an error wrapping ErrPermanent ends the job dead at once;
// any other error is retried with backoff until the job kind's limits, then
// the job ends dead, for an operator.
type Alerter interface {
	Alert(ctx context.Context, a ComplianceAlert) error
}

// Reviewer is a compliance reviewer the store remembers: someone the tab saw
// holding the Compliance.Review role.
type Reviewer struct {
	// AADObjectID is the reviewer's Entra object id, in lower case.
	AADObjectID string
	Name        string
	// SeenAt is when the tab last recorded them with the role.
	SeenAt time.Time
}

// ReviewerTx is the part of a Tx that keeps the reviewers seen with the role.
type ReviewerTx interface {
	// Reviewers lists the company's remembered reviewers by object id.
	Reviewers(ctx context.Context, company CompanyID) ([]Reviewer, error)
	// SaveReviewer inserts or updates a reviewer.
	SaveReviewer(ctx context.Context, company CompanyID, r Reviewer) error
	// DeleteReviewer forgets a reviewer; forgetting one not remembered is no error.
	DeleteReviewer(ctx context.Context, company CompanyID, objectID string) error
}

// AttachAlerts makes the service alert reviewers through a: the configured
// object ids (MULTILINE_COMPLIANCE_REVIEWERS) and the reviewers the store
// remembers. Without it no alert is enqueued (local mode has no Teams feed).
func (s *Service) AttachAlerts(a Alerter, configured []string) {
	s.alerts = a
	s.reviewers = nil
	for _, id := range configured {
		if id = normalOID(id); id != "" && !slices.Contains(s.reviewers, id) {
			s.reviewers = append(s.reviewers, id)
		}
	}
}

func normalOID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// NoteReviewer records what a tab token of the Entra user objectID said:
// whether they hold the Compliance.Review role. Holders are remembered (and
// alerted from then on); a remembered one seen without the role is forgotten,
// so someone whose role was taken away stops getting alerts.
func (s *Service) NoteReviewer(ctx context.Context, objectID, name string, holdsRole bool) error {
	id := normalOID(objectID)
	if id == "" {
		return errors.New("bridge: note reviewer: no object id")
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		if !holdsRole {
			return tx.DeleteReviewer(ctx, s.company, id)
		}
		return tx.SaveReviewer(ctx, s.company, Reviewer{AADObjectID: id, Name: strings.TrimSpace(name), SeenAt: s.now().UTC()})
	})
	if err != nil {
		return fmt.Errorf("bridge: note reviewer %s: %w", id, err)
	}
	return nil
}

// ComplianceReviewers lists whom alerts go to: the configured object ids, then
// the remembered reviewers not among them.
func (s *Service) ComplianceReviewers(ctx context.Context) ([]string, error) {
	var out []string
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		out, err = s.alertees(ctx, tx)
		return err
	})
	return out, err
}

func (s *Service) alertees(ctx context.Context, tx Tx) ([]string, error) {
	out := slices.Clone(s.reviewers)
	seen, err := tx.Reviewers(ctx, s.company)
	if err != nil {
		return nil, fmt.Errorf("read compliance reviewers: %w", err)
	}
	for _, r := range seen {
		if id := normalOID(r.AADObjectID); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// alertJob is JobReviewAlert's payload: ids and the decision, no text, so a
// job kept dead holds nothing retention would have to purge.
type alertJob struct {
	Reviewer  string            `json:"reviewer"`
	Thread    ThreadID          `json:"thread"`
	Message   MessageID         `json:"message"`
	Action    lexicon.Action    `json:"action"`
	Direction lexicon.Direction `json:"direction"`
	Rules     []string          `json:"rules"`
}

// enqueueAlerts enqueues, inside the transaction of decision d on a message
// acts record, one alert per reviewer when d blocks or flags. A redaction
// alone alerts nobody.
func (s *Service) enqueueAlerts(ctx context.Context, tx Tx, rec *ThreadRecord, acts []Action, d *lexicon.Decision, now time.Time) error {
	if s.alerts == nil || d == nil || !d.Flagged() {
		return nil
	}
	var msg MessageID
	for _, a := range acts {
		if m, ok := a.(RecordMessage); ok && (m.From == FromEmployee || m.From == FromConsumer) {
			msg = m.Message
			break
		}
	}
	if msg == "" {
		return nil // no message recorded: nothing was decided on
	}
	p := alertJob{Thread: rec.ID, Message: msg, Action: lexicon.Block, Direction: d.Direction, Rules: d.DecidingRules()}
	if !d.Blocked() {
		p.Action, p.Rules = lexicon.Flag, flagRules(d)
	}
	reviewers, err := s.alertees(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range reviewers {
		p.Reviewer = r
		if err := s.enqueue(ctx, tx, reviewLane(r), JobReviewAlert, p, now); err != nil {
			return err
		}
	}
	return nil
}

// errNoAlerter says an alert job ran on a replica without an Alerter: it is
// retried, in case another replica has one, until its limits.
var errNoAlerter = errors.New("bridge: compliance alerts are not attached on this replica")

// runReviewAlert tells the reviewer, naming the thread's people as the tab
// names them now.
func (s *Service) runReviewAlert(ctx context.Context, j Job) error {
	p, err := decode[alertJob](j)
	if err != nil {
		return Permanent(err)
	}
	if s.alerts == nil {
		return errNoAlerter
	}
	a := ComplianceAlert{Reviewer: p.Reviewer, Thread: p.Thread, Message: p.Message, Action: p.Action, Direction: p.Direction, Rules: p.Rules}
	err = s.store.Tx(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		rec, err := tx.LoadThread(ctx, p.Thread)
		if err != nil {
			return err
		}
		var con Consumer
		if rec.Consumer != "" {
			if con, err = tx.Consumer(ctx, rec.Company, rec.Consumer); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		emps, err := tx.EmployeesByID(ctx, rec.Participants)
		if err != nil {
			return err
		}
		head := s.head(c, rec, con, emps)
		a.Consumer, a.Employees = head.ConsumerName, head.Participants
		m, err := tx.Message(ctx, p.Message)
		switch {
		case errors.Is(err, ErrUnknownMessage):
			return nil // purged by retention since: the alert still names the thread
		case err != nil:
			return err
		}
		if m.From == FromEmployee {
			author := string(m.Author)
			if e, err := tx.Employee(ctx, m.Author); err == nil {
				author = e.Name
			}
			a.Employees = []string{author}
		}
		if p.Action == lexicon.Flag {
			a.Preview = clip(m.Text, alertPreviewMax)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bridge: review alert for %s: %w", p.Message, err)
	}
	err = s.alerts.Alert(ctx, a)
	if errors.Is(err, ErrNeedsAdmin) {
		// As with the employees' activity feed notifications: Teams will not
		// take one for this reviewer (the app is not installed for them, or a
		// permission is missing) and retrying cannot change that, so it is
		// logged for an admin and dropped. The flagged queue still has the item.
		s.log.Warn("compliance alert not delivered: an admin must act", "reviewer", p.Reviewer, "thread", p.Thread, "message", p.Message, "err", err)
		return nil
	}
	return err
}

// clip cuts s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
