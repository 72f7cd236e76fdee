package bridge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"reflect"
	"strings"
	"time"
)

// Service applies events to threads and stores the outcome durably. It is safe for
// concurrent use; all state lives in the Store, so several processes may run one.
type Service struct {
	store   Store
	company CompanyID
	now     func() time.Time
	log     *slog.Logger
	wechat  WeChatSide
	teams   TeamsSender
	install Installer // optional
	// AutoEnable makes every employee who installs the app an enabled employee
	// (local mode); otherwise an admin enables them.
	autoEnable bool
	// account is the WeChat account (open_kfid) new employee-initiated threads use.
	account string
	// captureOff turns the archive capture off, for the benchmark's baseline
	// only: no option sets it, so production always captures (export_test.go).
	captureOff bool
	// journal sends anchored days to the archive's mailbox; nil: journaling off.
	journal Journaler
	// lexCache keeps the compiled lexicon rules last read (lexicon_rules.go).
	lexCache lexiconCache
	// retention purges and keeps legal holds; nil: not attached (AttachRetention).
	retention Retention
	// journaledOnly makes Purge keep what was not journaled even without a journal.
	journaledOnly bool
	// reviews serves compliance reviewers; nil: not attached (AttachReviews).
	reviews Reviews
	// alerts tells reviewers of lexicon blocks and flags; nil: no alerts
	// (AttachAlerts). reviewers are the configured ones' object ids.
	alerts    Alerter
	reviewers []string
}

// Options configure a Service.
type Options struct {
	Company    CompanyID // the one company this deployment serves
	Now        func() time.Time
	Log        *slog.Logger
	AutoEnable bool
	Account    string // default WeChat account for opt-in links
}

// NewService returns a service over store. Attach the two sides before running jobs.
func NewService(store Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Company == "" {
		o.Company = "default"
	}
	return &Service{store: store, company: o.Company, now: o.Now, log: o.Log, autoEnable: o.AutoEnable, account: o.Account}
}

// Attach connects the service to WeChat and Teams.
func (s *Service) Attach(w WeChatSide, t TeamsSender) { s.wechat, s.teams = w, t }

// AttachInstaller lets the service install the Teams app for employees an admin
// enables (optional; without it they must install the app themselves).
func (s *Service) AttachInstaller(i Installer) { s.install = i }

// Company returns the ID of the company the service serves.
func (s *Service) Company() CompanyID { return s.company }

// EnsureCompany creates the company with the default policy if it does not exist.
func (s *Service) EnsureCompany(ctx context.Context, name, tenantID string, lang Language) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		_, err := tx.Company(ctx, s.company)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrUnknownCompany) {
			return err
		}
		return tx.SaveCompany(ctx, Company{ID: s.company, Name: name, TenantID: tenantID, Policy: DefaultPolicy(), Language: lang})
	})
}

// SetPolicy validates and stores the company's policy and notice overrides.
func (s *Service) SetPolicy(ctx context.Context, p Policy, o Overrides) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		old := c
		c.Policy, c.Overrides = p, o
		if err := tx.SaveCompany(ctx, c); err != nil {
			return err
		}
		return s.capturePolicy(ctx, tx, old, c)
	})
}

// SetLanguage sets the company's default language: consumers' notices use it when
// WeChat does not report theirs (Policy.ConsumerLanguage auto).
func (s *Service) SetLanguage(ctx context.Context, lang Language) error {
	if lang != English && lang != SimplifiedChinese {
		return fmt.Errorf("%w: language must be en or zh-CN, got %q", ErrInvalidPolicy, lang)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		old := c.Language
		c.Language = lang
		if err := tx.SaveCompany(ctx, c); err != nil {
			return err
		}
		return s.captureAdmin(ctx, tx, "policy", "set", "language", old, lang)
	})
}

// tx runs fn in a store transaction and wakes the job runner after a commit.
func (s *Service) tx(ctx context.Context, fn func(Tx) error) error {
	if err := s.store.Tx(ctx, fn); err != nil {
		return err
	}
	s.store.Wake()
	return nil
}

// read runs fn in a read-only transaction when the store has them (ReadStore),
// so that a view locks no thread and waits for no writer; fn must not write.
func (s *Service) read(ctx context.Context, fn func(Tx) error) error {
	if rs, ok := s.store.(ReadStore); ok {
		return rs.ReadTx(ctx, fn)
	}
	return s.store.Tx(ctx, fn)
}

// applyTo applies ev to a loaded thread, stores the new state and carries out the
// actions, all inside tx. A rejected event changes nothing and returns its error.
func (s *Service) applyTo(ctx context.Context, tx Tx, c Company, rec *ThreadRecord, ev Event, now time.Time) error {
	_, err := s.applyActs(ctx, tx, c, rec, ev, now)
	return err
}

// applyActs is applyTo that also returns the actions.
func (s *Service) applyActs(ctx context.Context, tx Tx, c Company, rec *ThreadRecord, ev Event, now time.Time) ([]Action, error) {
	before := rec.Thread
	ev, lex, err := s.screen(ctx, tx, c, ev) // lexicon.go
	if err != nil {
		return nil, err
	}
	th, acts, err := s.decide(c, rec.Thread, ev, lex, now)
	if err != nil {
		return nil, err
	}
	rec.Thread = th
	rec.UpdatedAt = now
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	if err := tx.SaveThread(ctx, *rec); err != nil {
		return nil, err
	}
	seq := rec.Seq
	for _, a := range acts {
		if err := s.carryOut(ctx, tx, c, rec, a, now); err != nil {
			return nil, fmt.Errorf("bridge: %T: %w", a, err)
		}
	}
	if rec.Seq != seq {
		// Notes kept for employees took sequence numbers of the thread.
		if err := tx.SaveThread(ctx, *rec); err != nil {
			return nil, err
		}
	}
	if err := s.capture(ctx, tx, c, rec, before, ev, acts, lex, seq, now); err != nil {
		return nil, err
	}
	if err := s.enqueueAlerts(ctx, tx, rec, acts, lex, now); err != nil { // alerts.go
		return nil, err
	}
	return acts, s.audit(ctx, tx, rec.ID, ev, acts, now)
}

func (s *Service) audit(ctx context.Context, tx Tx, id ThreadID, ev Event, acts []Action, now time.Time) error {
	type named struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	list := make([]named, len(acts))
	for i, a := range acts {
		list[i] = named{reflect.TypeOf(a).Name(), a}
	}
	detail, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	actions, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return tx.Audit(ctx, AuditRecord{Thread: id, At: now, Event: reflect.TypeOf(ev).Name(), Detail: detail, Actions: actions})
}

// Job kinds and lanes. A lane runs one job at a time, in order: sends of a
// thread keep their order, deliveries to an employee keep theirs.
const (
	JobSend       = "wechat.send"
	JobPull       = "wechat.pull"
	JobOptInLink  = "wechat.opt_in_link"
	JobEndSession = "wechat.end_session"
	JobDeliver    = "teams.deliver"
	JobTimer      = "thread.timer"
	JobInstall    = "teams.install"
	JobReceive    = "wechat.receive"
	// JobApplyPulled applies the messages of a sync_msg page that hash to one of
	// the account's pulled lanes (see enqueuePulled).
	JobApplyPulled = "wechat.apply_pulled"
)

func sendLane(t ThreadID) string    { return "send:" + string(t) }
func teamsLane(e EmployeeID) string { return "teams:" + string(e) }
func timerLane(t ThreadID) string   { return "timer:" + string(t) + ":" }

// timerLanes are the lanes a thread's timers may wait in: its one lane, and the
// lane per timer kind that the first release used, which a database it migrated
// may still hold.
func timerLanes(t ThreadID) []string {
	l := timerLane(t)
	return []string{l, l + string(Timer24h), l + string(Timer48h)}
}
func pullLane(account string) string   { return "pull:" + account }
func consumerLane(c ConsumerID) string { return "in:" + string(c) }

type sendJob struct {
	Thread   ThreadID  `json:"thread"`
	Message  MessageID `json:"message"`
	NotAfter time.Time `json:"not_after"`
}

type deliverJob struct {
	Employee EmployeeID   `json:"employee"`
	Kind     DeliveryKind `json:"kind"`
	Thread   ThreadID     `json:"thread"`
	Message  MessageID    `json:"message,omitempty"`
	Notice   NoticeKind   `json:"notice,omitempty"`
	Params   NoticeParams `json:"params"`
}

type timerJob struct {
	Thread ThreadID  `json:"thread"`
	Timer  TimerKind `json:"timer"`
	For    time.Time `json:"for"`
}

type pullJob struct {
	Account string `json:"account"`
	Token   string `json:"token"`
}

type optInJob struct {
	Thread   ThreadID   `json:"thread"`
	Employee EmployeeID `json:"employee"`
}

type endSessionJob struct {
	Account  string     `json:"account"`
	Consumer ConsumerID `json:"consumer"`
}

func job(lane, kind string, payload any, at time.Time) (Job, error) {
	b, err := json.Marshal(payload)
	return Job{Lane: lane, Kind: kind, Payload: b, RunAt: at}, err
}

func (s *Service) enqueue(ctx context.Context, tx Tx, lane, kind string, payload any, at time.Time) error {
	j, err := job(lane, kind, payload, at)
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, j)
}

func (s *Service) carryOut(ctx context.Context, tx Tx, c Company, rec *ThreadRecord, a Action, now time.Time) error {
	switch a := a.(type) {
	case RecordMessage:
		m := MessageRecord{ID: a.Message, Thread: rec.ID, Seq: a.Seq, From: a.From, Author: a.Author, Body: a.Body,
			Notice: a.Notice, Text: a.Body.Text, Status: a.Status, Reason: a.Reason, At: now, UpdatedAt: now}
		if a.From == FromSystem {
			lang, err := s.consumerLanguage(ctx, tx, c, rec)
			if err != nil {
				return err
			}
			names, err := s.names(ctx, tx, a.Params)
			if err != nil {
				return err
			}
			m.Text = Render(c.Overrides, a.Notice, lang, a.Params, names)
			m.Body = Content{Text: m.Text}
		}
		return tx.InsertMessage(ctx, m)
	case SetStatus:
		if err := tx.UpdateMessage(ctx, a.Message, a.Status, a.Reason, a.Position, now); err != nil {
			return err
		}
		if a.Author == "" {
			return nil // a notice: nobody's card shows it
		}
		return s.enqueue(ctx, tx, teamsLane(a.Author), JobDeliver,
			deliverJob{Employee: a.Author, Kind: DeliverStatus, Thread: rec.ID, Message: a.Message}, now)
	case SendToConsumer:
		return s.enqueue(ctx, tx, sendLane(rec.ID), JobSend, sendJob{Thread: rec.ID, Message: a.Message, NotAfter: a.NotAfter}, now)
	case ShowToEmployees:
		for _, e := range a.To {
			if err := s.enqueue(ctx, tx, teamsLane(e), JobDeliver,
				deliverJob{Employee: e, Kind: DeliverConsumerMessage, Thread: rec.ID, Message: a.Message}, now); err != nil {
				return err
			}
		}
		return nil
	case NotifyEmployees:
		for _, e := range a.To {
			if err := s.keepNote(ctx, tx, c, rec, e, a, now); err != nil {
				return err
			}
			if err := s.enqueue(ctx, tx, teamsLane(e), JobDeliver,
				deliverJob{Employee: e, Kind: DeliverNotice, Thread: rec.ID, Notice: a.Notice, Params: a.Params}, now); err != nil {
				return err
			}
		}
		return nil
	case ScheduleTimer:
		// A thread's timers share one lane, so overdue ones fire in order (the
		// 24 h notice before the 48 h one); CancelTimers precedes them.
		return s.enqueue(ctx, tx, timerLane(rec.ID), JobTimer, timerJob{Thread: rec.ID, Timer: a.Timer, For: a.For}, a.At)
	case CancelTimers:
		return tx.CancelLanes(ctx, timerLanes(rec.ID)...)
	case CreateOptInLink:
		// On the employee's lane, so the link exists before the opt-in notice is shown.
		return s.enqueue(ctx, tx, teamsLane(a.Employee), JobOptInLink, optInJob{Thread: rec.ID, Employee: a.Employee}, now)
	case EndSession:
		if rec.Consumer == "" {
			return nil
		}
		return s.enqueue(ctx, tx, sendLane(rec.ID), JobEndSession, endSessionJob{Account: rec.Account, Consumer: rec.Consumer}, now)
	}
	return fmt.Errorf("unknown action %T", a)
}

// consumerLanguage is the language of the notices a thread's consumer gets: the
// company's fixed choice, else (auto) what WeChat reported for the consumer, else
// the company's default language.
func (s *Service) consumerLanguage(ctx context.Context, tx Tx, c Company, rec *ThreadRecord) (Language, error) {
	switch l := Language(c.Policy.ConsumerLanguage); l {
	case English, SimplifiedChinese:
		return l, nil
	}
	if rec.Consumer != "" {
		con, err := tx.Consumer(ctx, rec.Company, rec.Consumer)
		if err == nil && con.Language != "" {
			return con.Language, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	if c.Language != "" {
		return c.Language, nil
	}
	return English, nil
}

func (s *Service) names(ctx context.Context, tx Tx, p NoticeParams) (Names, error) {
	if p.Employee == "" {
		return Names{}, nil
	}
	e, err := tx.Employee(ctx, p.Employee)
	if errors.Is(err, ErrUnknownEmployee) {
		return Names{Employee: string(p.Employee)}, nil
	}
	return Names{Employee: e.Name}, err
}

// newID returns a random identifier of n characters of [0-9a-zA-Z], short enough
// for WeChat's scene (30) and msgid (32) limits.
func newID(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// NewThreadID returns a fresh thread ID.
func NewThreadID() ThreadID { return ThreadID(newID(12)) }

// NewEmployeeID returns a fresh employee ID.
func NewEmployeeID() EmployeeID { return EmployeeID(newID(10)) }

// threadOf recovers the thread of a message from its ID (see MessageIDFor).
func threadOf(m MessageID) (ThreadID, bool) {
	i := strings.LastIndexByte(string(m), '-')
	if i <= 0 {
		return "", false
	}
	return ThreadID(m[:i]), true
}

// keepNote records a notice to an employee in the thread, as they read it (in
// their Teams language), so the tab shows it inline where it happened, as the
// guide's conversation view does. Only that employee sees it.
func (s *Service) keepNote(ctx context.Context, tx Tx, c Company, rec *ThreadRecord, e EmployeeID, a NotifyEmployees, now time.Time) error {
	emp, err := tx.Employee(ctx, e)
	if errors.Is(err, ErrUnknownEmployee) {
		return nil
	}
	if err != nil {
		return err
	}
	names, err := s.names(ctx, tx, a.Params)
	if err != nil {
		return err
	}
	text := Render(c.Overrides, a.Notice, ParseLanguage(emp.Locale), a.Params, names)
	rec.Seq++
	return tx.InsertMessage(ctx, MessageRecord{ID: MessageIDFor(rec.ID, rec.Seq), Thread: rec.ID, Seq: rec.Seq,
		From: ToEmployee, Author: e, Notice: a.Notice, Text: text, Body: Content{Text: text},
		Status: StatusReceived, At: now, UpdatedAt: now})
}
