package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/lexicon"
)

// This file is the capture of the compliance record: what happened to a thread,
// as archive events appended in the very transaction that made it happen (see
// Tx.Archive). Regulated firms may use WeChat only if every message, notice,
// media item, participant change and delivery status is kept, so capture is not
// optional: a change whose record cannot be written does not happen either.

// capture records what applying ev did to a thread: before is the thread's
// state before, acts the actions the policy asked for (already carried out),
// and noteSeq the thread's Seq after Apply, so that the notes keepNote added
// for employees are the messages numbered after it.
func (s *Service) capture(ctx context.Context, tx Tx, c Company, rec *ThreadRecord, before Thread, ev Event, acts []Action, lex *lexicon.Decision, noteSeq int64, now time.Time) error {
	if s.captureOff {
		return nil
	}
	r := recorder{s: s, tx: tx, c: c, rec: rec, now: now, noteSeq: noteSeq, lex: lex}
	if e, ok := ev.(ConsumerMessage); ok && e.Name != "" && e.Consumer == rec.Consumer {
		// The name the service just stored for the consumer: no need to read it.
		r.consumer = &archive.Party{Role: archive.RoleConsumer, ID: string(e.Consumer), Name: e.Name}
	}
	if _, ok := ev.(ConsumerMessage); ok && before.Status == StatusAwaitingOptIn && rec.Status == StatusActive && len(before.Participants) > 0 {
		r.optInFrom = before.Participants[0] // who sent the opt-in request
	}
	for _, a := range acts {
		if err := r.action(ctx, a); err != nil {
			return err
		}
	}
	if err := r.participants(ctx, before, ev); err != nil {
		return err
	}
	if len(r.drafts) == 0 {
		return nil
	}
	if err := tx.Archive(ctx, r.drafts...); err != nil {
		return fmt.Errorf("bridge: capture %T in thread %s: %w", ev, rec.ID, err)
	}
	return nil
}

// recorder collects the drafts of one change, with the parties it read.
type recorder struct {
	s       *Service
	tx      Tx
	c       Company
	rec     *ThreadRecord
	now     time.Time
	noteSeq int64 // the last seq before this change's notes
	drafts  []archive.Draft
	// optInFrom is the employee whose opt-in request the consumer's message
	// completes, if it does.
	optInFrom EmployeeID
	// lex is the lexicon's decision on the change's message, if a rule matched;
	// it is recorded after the message it decided on, once.
	lex *lexicon.Decision

	consumer  *archive.Party
	employees map[EmployeeID]archive.Party
}

func (r *recorder) add(k archive.Kind, body any) {
	company := string(r.rec.Company)
	if company == "" {
		company = string(r.s.company)
	}
	r.drafts = append(r.drafts, archive.Draft{Company: company, Thread: string(r.rec.ID), Time: r.now, Kind: k, Body: body})
}

// action records one carried-out action.
func (r *recorder) action(ctx context.Context, a Action) error {
	switch a := a.(type) {
	case RecordMessage:
		return r.message(ctx, a)
	case SetStatus:
		r.add(archive.KindStatus, archive.StatusBody{MessageID: string(a.Message), Status: string(a.Status), Detail: statusDetail(a.Status, a.Reason, a.Position)})
	case NotifyEmployees:
		return r.notes(ctx, a)
	}
	return nil
}

func (r *recorder) message(ctx context.Context, a RecordMessage) error {
	switch a.From {
	case FromConsumer:
		author, err := r.consumerParty(ctx)
		if err != nil {
			return err
		}
		r.add(archive.KindMessageIn, messageBody(a, author))
		r.lexicon(a)
		if err := r.media(ctx, a); err != nil {
			return err
		}
		return r.consumerActs(ctx, a, author)
	case FromEmployee:
		author, err := r.employeeParty(ctx, a.Author)
		if err != nil {
			return err
		}
		r.add(archive.KindMessageOut, messageBody(a, author))
		r.lexicon(a)
		if err := r.media(ctx, a); err != nil {
			return err
		}
		if a.Status == StatusNotQueued || a.Status == StatusBlocked {
			// Nothing else will change its status: the record says why it stops here.
			r.add(archive.KindStatus, archive.StatusBody{MessageID: string(a.Message), Status: string(a.Status), Detail: statusDetail(a.Status, a.Reason, 0)})
		}
		return nil
	case FromSystem:
		// carryOut rendered and stored the notice; the record takes it as stored,
		// which is what the consumer was sent.
		m, err := r.tx.Message(ctx, a.Message)
		if err != nil {
			return err
		}
		lang, err := r.s.consumerLanguage(ctx, r.tx, r.c, r.rec)
		if err != nil {
			return err
		}
		r.add(archive.KindNoticeConsumer, archive.NoticeBody{MessageID: string(a.Message), Template: string(a.Notice), Language: string(lang), Text: m.Text})
	}
	return nil
}

// consumerActs records what a consumer's message did beyond being a message:
// #LEAVE that closed the thread, and the first message through an opt-in link.
func (r *recorder) consumerActs(ctx context.Context, a RecordMessage, consumer archive.Party) error {
	switch {
	case IsLeaveCommand(a.Body.Text) && r.rec.Status == StatusClosed:
		r.add(archive.KindLeave, archive.LeaveBody{Consumer: consumer})
	case r.optInFrom != "":
		emp, err := r.employeeParty(ctx, r.optInFrom)
		if err != nil {
			return err
		}
		r.add(archive.KindOptIn, archive.OptInBody{Consumer: consumer, Employee: &emp, Scene: r.rec.OptInScene})
	}
	return nil
}

// media records the media item a message carries, with the hash of its bytes.
func (r *recorder) media(ctx context.Context, a RecordMessage) error {
	if a.Body.MediaRef == "" {
		return nil
	}
	mb := archive.MediaBody{MessageID: string(a.Message), MediaKind: a.Body.MediaKind, FileName: a.Body.FileName, Ref: a.Body.MediaRef}
	info, err := r.tx.MediaInfo(ctx, a.Body.MediaRef)
	switch {
	case err == nil:
		mb.ContentType, mb.Size, mb.SHA256 = info.ContentType, info.Size, info.SHA256
		if mb.FileName == "" {
			mb.FileName = info.FileName
		}
	case errors.Is(err, ErrNotFound):
		// A reference to bytes nobody stored: recorded as such (zero hash, size 0).
	default:
		return err
	}
	r.add(archive.KindMedia, mb)
	return nil
}

// notes records a notice to employees as each of them read it: keepNote stored
// one note per known recipient, in their language, numbered after noteSeq.
func (r *recorder) notes(ctx context.Context, a NotifyEmployees) error {
	for _, e := range a.To {
		if r.noteSeq >= r.rec.Seq {
			return nil
		}
		m, err := r.tx.Message(ctx, MessageIDFor(r.rec.ID, r.noteSeq+1))
		if err != nil {
			return err
		}
		if m.From != ToEmployee || m.Author != e {
			continue // an employee the store does not know got no note
		}
		r.noteSeq++
		to, err := r.employeeParty(ctx, e)
		if err != nil {
			return err
		}
		lang := English
		if emp, err := r.tx.Employee(ctx, e); err == nil {
			lang = ParseLanguage(emp.Locale)
		}
		r.add(archive.KindNoticeEmployees, archive.NoticeBody{MessageID: string(m.ID), Template: string(a.Notice),
			Language: string(lang), Text: m.Text, To: []archive.Party{to}})
	}
	return nil
}

// participants records who joined or left the thread in this change.
func (r *recorder) participants(ctx context.Context, before Thread, ev Event) error {
	add := func(k archive.Kind, who EmployeeID, by EmployeeID) error {
		p, err := r.employeeParty(ctx, who)
		if err != nil {
			return err
		}
		body := archive.ParticipantBody{Employee: p}
		if by != "" && by != who {
			b, err := r.employeeParty(ctx, by)
			if err != nil {
				return err
			}
			body.By = &b
		}
		r.add(k, body)
		return nil
	}
	switch e := ev.(type) {
	case ParticipantAdded:
		return add(archive.KindParticipantAdded, e.Employee, e.By)
	case ParticipantRemoved:
		return add(archive.KindParticipantRemoved, e.Employee, e.By)
	case EmployeeLeave:
		return add(archive.KindParticipantLeft, e.Employee, "")
	case OptInRequested:
		return add(archive.KindParticipantAdded, e.Employee, "")
	case ConsumerMessage:
		// Routed: the thread had nobody and now has the employee it was given.
		if len(before.Participants) == 0 {
			for _, p := range r.rec.Participants {
				if err := add(archive.KindParticipantAdded, p, ""); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// consumerParty is the thread's consumer as the record names them now.
func (r *recorder) consumerParty(ctx context.Context) (archive.Party, error) {
	if r.consumer != nil {
		return *r.consumer, nil
	}
	p := archive.Party{Role: archive.RoleConsumer, ID: string(r.rec.Consumer)}
	if r.rec.Consumer != "" {
		con, err := r.tx.Consumer(ctx, r.rec.Company, r.rec.Consumer)
		switch {
		case err == nil:
			p.Name = con.Name
		case !errors.Is(err, ErrNotFound):
			return p, err
		}
	}
	r.consumer = &p
	return p, nil
}

// employeeParty is an employee as the record names them now.
func (r *recorder) employeeParty(ctx context.Context, id EmployeeID) (archive.Party, error) {
	if p, ok := r.employees[id]; ok {
		return p, nil
	}
	p, err := employeeParty(ctx, r.tx, id)
	if err != nil {
		return p, err
	}
	if r.employees == nil {
		r.employees = map[EmployeeID]archive.Party{}
	}
	r.employees[id] = p
	return p, nil
}

// employeeParty names an employee for the record: by Entra object id when
// known (archives match people by it), else by the bridge's id, with their
// user principal name as their address once the service has learnt it.
func employeeParty(ctx context.Context, tx Tx, id EmployeeID) (archive.Party, error) {
	p := archive.Party{Role: archive.RoleEmployee, ID: string(id)}
	e, err := tx.Employee(ctx, id)
	if errors.Is(err, ErrUnknownEmployee) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if e.AADObjectID != "" {
		p.ID = e.AADObjectID
	}
	p.Name, p.Address = e.Name, e.UPN
	return p, nil
}

// messageBody records what the author wrote (the original, when a lexicon
// rule changed what the other side sees) and, then, what was shown.
func messageBody(a RecordMessage, author archive.Party) archive.MessageBody {
	b := archive.MessageBody{MessageID: string(a.Message), Author: author, Text: a.Body.Text,
		MediaKind: a.Body.MediaKind, FileName: a.Body.FileName}
	if a.Body.Original != "" {
		shown := a.Body.Text
		b.Text, b.Shown = a.Body.Original, &shown
	}
	return b
}

// lexicon records the lexicon's decision on the message a records, once.
func (r *recorder) lexicon(a RecordMessage) {
	if r.lex == nil {
		return
	}
	r.add(archive.KindLexicon, lexiconBody(a.Message, r.lex))
	r.lex = nil
}

// statusDetail says in words what a status means for a person reading the record.
func statusDetail(s MessageStatus, reason string, position int) string {
	switch {
	case s == StatusQueued && position > 0:
		return fmt.Sprintf("position %d in the queue", position)
	case reason != "":
		return reason
	}
	return ""
}

// captureNote records a note kept for one employee outside the policy (Teams
// did not take a card), as they read it.
func (s *Service) captureNote(ctx context.Context, tx Tx, rec ThreadRecord, m MessageRecord, lang Language, now time.Time) error {
	if s.captureOff {
		return nil
	}
	to, err := employeeParty(ctx, tx, m.Author)
	if err != nil {
		return err
	}
	d := archive.Draft{Company: string(rec.Company), Thread: string(rec.ID), Time: now, Kind: archive.KindNoticeEmployees,
		Body: archive.NoticeBody{MessageID: string(m.ID), Template: string(m.Notice), Language: string(lang), Text: m.Text, To: []archive.Party{to}}}
	if d.Company == "" {
		d.Company = string(s.company)
	}
	return tx.Archive(ctx, d)
}

// adminKey is the context key of the admin a change is made by.
type adminKey struct{}

// WithAdmin says who makes the admin changes done with ctx (the tab's signed-in
// admin, or the operator at the command line), so the record names them.
func WithAdmin(ctx context.Context, p archive.Party) context.Context {
	if p.Role == "" {
		p.Role = archive.RoleAdmin
	}
	return context.WithValue(ctx, adminKey{}, p)
}

// adminOf is the admin WithAdmin named, or an unidentified one: the change is
// recorded either way.
func adminOf(ctx context.Context) archive.Party {
	if p, ok := ctx.Value(adminKey{}).(archive.Party); ok {
		return p
	}
	return archive.Party{Role: archive.RoleAdmin, ID: "unidentified"}
}

// captureAdmin records an admin's change on the company chain. Call it last in
// the transaction's database work before jobs: the company chain's lock is held
// until the end of the transaction.
func (s *Service) captureAdmin(ctx context.Context, tx Tx, object, change, key string, old, new any) error {
	if s.captureOff {
		return nil
	}
	body := archive.AdminBody{Admin: adminOf(ctx), Object: object, Change: change, Key: key}
	var err error
	if body.Old, err = json.Marshal(old); err != nil {
		return fmt.Errorf("bridge: capture admin change: %w", err)
	}
	if body.New, err = json.Marshal(new); err != nil {
		return fmt.Errorf("bridge: capture admin change: %w", err)
	}
	return tx.Archive(ctx, archive.Draft{Company: string(s.company), Thread: archive.CompanyThread, Time: s.now(), Kind: archive.KindAdminChange, Body: body})
}

// capturePolicy records a change of the company's policy or notice texts.
func (s *Service) capturePolicy(ctx context.Context, tx Tx, old, new Company) error {
	type settings struct {
		Policy    Policy    `json:"policy"`
		Overrides Overrides `json:"overrides"`
	}
	return s.captureAdmin(ctx, tx, "policy", "set", "policy", settings{old.Policy, old.Overrides}, settings{new.Policy, new.Overrides})
}
