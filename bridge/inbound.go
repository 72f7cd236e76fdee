package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Receive applies what consumers did on WeChat, in order, in one transaction: a
// batch from sync_msg costs one commit, not one per message. A message WeChat
// delivers twice (its retries, or a pull repeated after a crash) is applied once.
func (s *Service) Receive(ctx context.Context, batch []Inbound) error {
	return s.tx(ctx, func(tx Tx) error { return s.receive(ctx, tx, batch) })
}

func (s *Service) receive(ctx context.Context, tx Tx, batch []Inbound) error {
	c, err := tx.Company(ctx, s.company)
	if err != nil {
		return err
	}
	for _, in := range batch {
		if in.WeChatMsgID != "" {
			fresh, err := tx.MarkInbound(ctx, s.company, in.WeChatMsgID)
			if err != nil {
				return err
			}
			if !fresh {
				continue
			}
		}
		if err := s.receiveOne(ctx, tx, c, in); err != nil {
			return fmt.Errorf("bridge: inbound %s %s: %w", in.Kind, in.WeChatMsgID, err)
		}
	}
	return nil
}

func (s *Service) receiveOne(ctx context.Context, tx Tx, c Company, in Inbound) error {
	now := s.now()
	switch in.Kind {
	case InboundSendFailed:
		t, ok := threadOf(in.FailedMessage)
		if !ok {
			return nil // not one of ours
		}
		rec, err := tx.LoadThread(ctx, t)
		if errors.Is(err, ErrUnknownThread) {
			return nil
		}
		if err != nil {
			return err
		}
		ev := SendFailed{Message: in.FailedMessage, Reason: in.FailReason}
		m, err := tx.Message(ctx, in.FailedMessage)
		if errors.Is(err, ErrUnknownMessage) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Status == StatusSent {
			// Accepted earlier; WeChat reports its failure now.
			ev.SentAt, ev.Author = m.UpdatedAt, m.Author
		}
		return s.applyTo(ctx, tx, c, &rec, ev, now)
	case InboundArrived:
		return s.arrived(ctx, tx, c, in, now)
	case InboundMessage:
		return s.consumerMessage(ctx, tx, c, in, now)
	}
	return fmt.Errorf("unknown inbound kind %q", in.Kind)
}

func (s *Service) saveConsumer(ctx context.Context, tx Tx, in Inbound, hint EmployeeID) (Consumer, error) {
	con, err := tx.Consumer(ctx, s.company, in.Consumer)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return con, err
	}
	known, before := err == nil, con
	con.Company, con.ID = s.company, in.Consumer
	if in.ConsumerName != "" {
		con.Name = in.ConsumerName
	}
	if in.Language != "" {
		con.Language = ParseLanguage(in.Language)
	}
	if hint != "" {
		con.RouteHint = hint
	}
	if !in.ProfiledAt.IsZero() {
		con.AvatarURL, con.ProfiledAt = in.AvatarURL, in.ProfiledAt
	}
	if known && con == before {
		return con, nil // most messages come from a consumer we know as is
	}
	return con, tx.SaveConsumer(ctx, con)
}

// arrived handles a consumer coming in through a link: an opt-in request binds the
// consumer to its thread; a personal contact link remembers whom to route them to.
func (s *Service) arrived(ctx context.Context, tx Tx, c Company, in Inbound, now time.Time) error {
	for _, scene := range []string{in.SceneParam, in.Scene} {
		if scene == "" {
			continue
		}
		t, err := tx.ThreadByOptInScene(ctx, s.company, scene)
		if errors.Is(err, ErrUnknownThread) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.saveConsumer(ctx, tx, in, ""); err != nil {
			return err
		}
		rec, err := tx.LoadThread(ctx, t)
		if err != nil {
			return err
		}
		if rec.Account == "" {
			rec.Account = in.Account
		}
		return s.applyTo(ctx, tx, c, &rec, ConsumerArrivedViaOptIn{Consumer: in.Consumer}, now)
	}
	var hint EmployeeID
	if in.Scene != "" {
		e, err := tx.EmployeeByScene(ctx, s.company, in.Scene)
		if err == nil && e.Enabled {
			hint = e.ID
		} else if err != nil && !errors.Is(err, ErrUnknownEmployee) {
			return err
		}
	}
	_, err := s.saveConsumer(ctx, tx, in, hint)
	return err
}

func (s *Service) consumerMessage(ctx context.Context, tx Tx, c Company, in Inbound, now time.Time) error {
	con, err := s.saveConsumer(ctx, tx, in, "")
	if err != nil {
		return err
	}
	var rec ThreadRecord
	id, err := tx.LiveThread(ctx, s.company, in.Consumer)
	switch {
	case err == nil:
		if rec, err = tx.LoadThread(ctx, id); err != nil {
			return err
		}
	case errors.Is(err, ErrUnknownThread):
		rec = ThreadRecord{Thread: Thread{ID: NewThreadID(), Consumer: in.Consumer}, Company: s.company, Account: in.Account, CreatedAt: now}
	default:
		return err
	}
	if in.Account != "" {
		rec.Account = in.Account
	}
	ev := ConsumerMessage{Consumer: in.Consumer, Body: in.Body, SentAt: in.At, Name: con.Name}
	if len(rec.Participants) == 0 && !IsLeaveCommand(in.Body.Text) {
		if ev.Assign, err = s.route(ctx, tx, con, now); err != nil {
			return err
		}
	}
	return s.applyTo(ctx, tx, c, &rec, ev, now)
}

// route picks the employee for a thread with nobody in it: the one whose personal
// link the consumer came through, else the company pool in round robin. Empty if
// no employee is enabled.
func (s *Service) route(ctx context.Context, tx Tx, con Consumer, now time.Time) (EmployeeID, error) {
	if con.RouteHint != "" {
		e, err := tx.Employee(ctx, con.RouteHint)
		if err == nil && e.Enabled {
			return e.ID, nil
		}
		if err != nil && !errors.Is(err, ErrUnknownEmployee) {
			return "", err
		}
	}
	e, err := tx.NextPoolEmployee(ctx, s.company, now)
	if errors.Is(err, ErrUnknownEmployee) {
		return "", nil
	}
	return e.ID, err
}

// PullRequested records that WeChat has messages for an account (a WeCom kf
// callback carries none). It only enqueues a pull, so the callback is answered at
// once. A burst of callbacks collapses into one waiting pull (with the newest
// token) behind the one running: each pull reads everything up to now anyway.
func (s *Service) PullRequested(ctx context.Context, account, token string) error {
	return s.tx(ctx, func(tx Tx) error {
		j, err := job(pullLane(account), JobPull, pullJob{Account: account, Token: token}, s.now())
		if err != nil {
			return err
		}
		return tx.SetTimer(ctx, j)
	})
}

// Accept stores what a consumer did durably and applies it in a job, so that a
// callback is answered within WeChat's 5 s whatever the media download or the
// policy costs. One consumer's inbound jobs share a lane: two first messages that
// arrive at once are applied one after the other and make one thread.
func (s *Service) Accept(ctx context.Context, in Inbound) error {
	if in.Consumer == "" {
		return fmt.Errorf("bridge: accept %s: %w", in.Kind, Permanent(errors.New("no consumer")))
	}
	return s.tx(ctx, func(tx Tx) error {
		return s.enqueue(ctx, tx, consumerLane(in.Consumer), JobReceive, in, s.now())
	})
}

// runReceive applies an accepted inbound: it fetches the consumer's media and
// profile first (outside any transaction), then applies it like a pulled page.
func (s *Service) runReceive(ctx context.Context, j Job) error {
	in, err := decode[Inbound](j)
	if err != nil {
		return Permanent(err)
	}
	if in.Media != nil {
		body, err := s.wechat.FetchMedia(ctx, in.Account, *in.Media)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", in.Media.Kind, err)
		}
		body.Text = in.Body.Text
		in.Body, in.Media = body, nil
	}
	page := []Inbound{in}
	if err := s.withProfiles(ctx, in.Account, page); err != nil {
		return err
	}
	in = page[0]
	return s.tx(ctx, func(tx Tx) error {
		if err := s.receive(ctx, tx, []Inbound{in}); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}
