package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxSendAttempts is how many times a send is tried (with the same msgid, so WeChat
// delivers it at most once) before it ends dead and is reported as failed.
const maxSendAttempts = 8

// unreachablePause is how long deliveries to an employee whom Teams refuses wait
// before they are tried again (an interaction wakes them sooner).
const unreachablePause = time.Hour

// DrainTimeout bounds the bookkeeping that follows an outside call once a stop
// has begun. A handler that already sent to WeChat or posted to Teams records
// the result with a context the stop does not cancel (context.WithoutCancel),
// or the job would run again after the restart and do it twice; this bounds how
// long that may hold the stop up. It must stay below the process's shutdown
// grace (cmd/multiline shutdownGrace).
const DrainTimeout = 10 * time.Second

// afterOutsideCall is the context for recording what an outside call did: not
// cancelled by a stop, bounded by DrainTimeout.
func afterOutsideCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), DrainTimeout)
}

// Handlers returns the job handlers by kind, for the store's job runner.
func (s *Service) Handlers() map[string]JobHandler {
	return map[string]JobHandler{
		JobSend:        s.runSend,
		JobDeliver:     s.runDeliver,
		JobTimer:       s.runTimer,
		JobPull:        s.runPull,
		JobOptInLink:   s.runOptInLink,
		JobEndSession:  s.runEndSession,
		JobInstall:     s.runInstall,
		JobReceive:     s.runReceive,
		JobApplyPulled: s.runApplyPulled,
		JobAnchor:      s.runAnchor,
		JobJournalDay:  s.runJournalDay,
		JobJournal:     s.runJournal,
		JobRetention:   s.runRetention,
		JobReviewAlert: s.runReviewAlert,
	}
}

func decode[T any](j Job) (T, error) {
	var v T
	if err := json.Unmarshal(j.Payload, &v); err != nil {
		return v, fmt.Errorf("bridge: job %d (%s): bad payload: %w", j.ID, j.Kind, err)
	}
	return v, nil
}

// settle applies an outcome event to a thread and completes the job in one transaction.
func (s *Service) settle(ctx context.Context, j Job, t ThreadID, ev Event) error {
	return s.tx(ctx, func(tx Tx) error {
		if err := s.settleIn(ctx, tx, t, ev); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

func (s *Service) runSend(ctx context.Context, j Job) error {
	p, err := decode[sendJob](j)
	if err != nil {
		return err
	}
	var out OutboundMessage
	settled := false
	err = s.store.Tx(ctx, func(tx Tx) error {
		m, err := tx.Message(ctx, p.Message)
		if err != nil {
			return err
		}
		if m.Status != StatusSending {
			settled = true // its outcome is recorded already (a job that died, then ran again)
			return nil
		}
		rec, err := tx.LoadThread(ctx, p.Thread)
		if err != nil {
			return err
		}
		out = OutboundMessage{ID: m.ID, Company: rec.Company, Consumer: rec.Consumer, Account: rec.Account, Body: m.Body}
		out.Body.Original = "" // what a lexicon rule redacted never leaves the bridge
		return nil
	})
	if err != nil || settled {
		return err
	}
	if !s.now().Before(p.NotAfter) {
		// Late (the runner was down or retrying): WeChat would refuse, and must not be asked.
		return s.settle(ctx, j, p.Thread, SendFailed{Message: p.Message, Reason: FailWindowClosed})
	}
	err = s.wechat.Send(ctx, out)
	sctx, cancel := afterOutsideCall(ctx) // WeChat has answered: record it even while stopping
	defer cancel()
	var se *SendError
	switch {
	case err == nil:
		return s.settle(sctx, j, p.Thread, SendSucceeded{Message: p.Message})
	case errors.As(err, &se):
		return s.settle(sctx, j, p.Thread, SendFailed{Message: p.Message, Reason: se.Reason})
	default:
		// Retried with the same msgid (after the wait a RetryAfterError asks for, or
		// with backoff); when its limits are reached the job dies and JobDied
		// settles the message as failed.
		return err
	}
}

func (s *Service) runTimer(ctx context.Context, j Job) error {
	p, err := decode[timerJob](j)
	if err != nil {
		return err
	}
	return s.settle(ctx, j, p.Thread, TimerFired{Timer: p.Timer, For: p.For})
}

func (s *Service) runDeliver(ctx context.Context, j Job) error {
	p, err := decode[deliverJob](j)
	if err != nil {
		return err
	}
	var d Delivery
	skip := false
	err = s.read(ctx, func(tx Tx) error { // reads only: no thread lock while a page or a send writes it
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		emp, err := tx.Employee(ctx, p.Employee)
		if err != nil {
			return err
		}
		if !emp.Enabled || emp.Conversation.ConversationID == "" && emp.Conversation.ServiceURL == "" {
			skip = true // disabled, or not installed: the tab shows it; nothing to post
			return nil
		}
		rec, err := tx.LoadThread(ctx, p.Thread)
		if err != nil {
			return err
		}
		d = Delivery{Employee: emp, Kind: p.Kind, Notice: p.Notice, Lang: ParseLanguage(emp.Locale)}
		if d.Thread, err = s.summary(ctx, tx, c, rec, emp.ID, false); err != nil {
			return err
		}
		if p.Message != "" {
			m, err := tx.Message(ctx, p.Message)
			if err != nil {
				return err
			}
			if d.Message, err = s.view(ctx, tx, m); err != nil {
				return err
			}
		}
		if p.Notice != "" {
			names, err := s.names(ctx, tx, p.Params)
			if err != nil {
				return err
			}
			d.Text = Render(c.Overrides, p.Notice, d.Lang, p.Params, names)
		}
		return nil
	})
	if err != nil || skip {
		return err
	}
	if d.Employee.Blocked {
		return &RetryAfterError{Wait: unreachablePause, Err: ErrEmployeeUnreachable}
	}
	err = s.teams.Deliver(ctx, d)
	if errors.Is(err, ErrEmployeeUnreachable) {
		return &RetryAfterError{Wait: unreachablePause, Err: err}
	}
	return err
}

func (s *Service) runPull(ctx context.Context, j Job) error {
	p, err := decode[pullJob](j)
	if err != nil {
		return err
	}
	for {
		var cursor string
		if err := s.read(ctx, func(tx Tx) (err error) {
			cursor, err = tx.Cursor(ctx, s.company, p.Account)
			if errors.Is(err, ErrNotFound) {
				err = nil
			}
			return err
		}); err != nil {
			return err
		}
		batch, err := s.wechat.Pull(ctx, p.Account, p.Token, cursor)
		if err != nil {
			return err
		}
		if err := s.withProfiles(ctx, p.Account, batch.Messages); err != nil {
			return err
		}
		// The page is queued for applying (see enqueuePulled), committed with
		// the cursor after it: the pull lane is free for the next callback's
		// pull at once, so a message sent during a backlog is pulled while the
		// backlog is still being applied. A crash repeats the page at worst,
		// and deduplication by msgid when it is applied absorbs that.
		if err := s.tx(ctx, func(tx Tx) error {
			if err := s.enqueuePulled(ctx, tx, p.Account, batch.Messages); err != nil {
				return err
			}
			if batch.Cursor != "" {
				return tx.SaveCursor(ctx, s.company, p.Account, batch.Cursor)
			}
			return nil
		}); err != nil {
			return err
		}
		if !batch.More {
			return nil
		}
	}
}

func (s *Service) runOptInLink(ctx context.Context, j Job) error {
	p, err := decode[optInJob](j)
	if err != nil {
		return err
	}
	var rec ThreadRecord
	if err := s.store.Tx(ctx, func(tx Tx) (err error) {
		rec, err = tx.LoadThread(ctx, p.Thread)
		return err
	}); err != nil {
		return err
	}
	if rec.OptInLink != "" {
		return nil
	}
	emp, err := s.Employee(ctx, p.Employee)
	if err != nil {
		return err
	}
	scene := emp.ContactScene
	if scene == "" {
		scene = "e" + string(emp.ID)
	}
	link, err := s.wechat.ContactLink(ctx, rec.Account, scene, rec.OptInScene)
	if err != nil {
		return err
	}
	ctx, cancel := afterOutsideCall(ctx) // WeChat made the link: keep it even while stopping
	defer cancel()
	return s.tx(ctx, func(tx Tx) error {
		r, err := tx.LoadThread(ctx, p.Thread)
		if err != nil {
			return err
		}
		r.OptInLink = link
		if err := tx.SaveThread(ctx, r); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

func (s *Service) runEndSession(ctx context.Context, j Job) error {
	p, err := decode[endSessionJob](j)
	if err != nil {
		return err
	}
	return s.wechat.EndSession(ctx, p.Account, p.Consumer)
}

type installJob struct {
	Employee EmployeeID `json:"employee"`
}

// runInstall installs the app for an enabled employee. A refusal only an admin
// can fix is recorded on the employee (the admin page shows it) and not retried.
func (s *Service) runInstall(ctx context.Context, j Job) error {
	p, err := decode[installJob](j)
	if err != nil {
		return err
	}
	e, err := s.Employee(ctx, p.Employee)
	if err != nil || s.install == nil || !e.Enabled || e.Conversation.ConversationID != "" {
		return err
	}
	err = s.install.InstallApp(ctx, e)
	if errors.Is(err, ErrNeedsAdmin) {
		s.log.Warn("app install needs an admin", "employee", e.ID, "err", err)
		return s.MarkUnreachable(ctx, e.ID, err.Error())
	}
	return err
}
