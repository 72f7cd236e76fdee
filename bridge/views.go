package bridge

import (
	"context"
	"errors"
)

// historyLimit is how many messages a thread view carries.
const historyLimit = 50

func (s *Service) view(ctx context.Context, tx Tx, m MessageRecord) (MessageView, error) {
	v := viewOf(m)
	if m.Author != "" {
		e, err := tx.Employee(ctx, m.Author)
		if err != nil && !errors.Is(err, ErrUnknownEmployee) {
			return v, err
		}
		v.AuthorName = e.Name
	}
	return v, nil
}

// viewOf is a message as employees see it, but for its author's name.
func viewOf(m MessageRecord) MessageView {
	v := MessageView{ID: m.ID, Thread: m.Thread, From: m.From, Author: m.Author, Text: m.Text, Notice: m.Notice,
		Status: m.Status, Reason: m.Reason, Position: m.Position, At: m.At}
	if m.From == FromEmployee {
		v.Original = m.Body.Original
	}
	if m.Body.MediaRef != "" {
		v.Media = &MediaView{Kind: m.Body.MediaKind, FileName: m.Body.FileName, URL: "/api/v1/media/" + m.Body.MediaRef}
	}
	return v
}

// summary is a thread as viewer sees it: notes kept for another employee are left out.
func (s *Service) summary(ctx context.Context, tx Tx, c Company, rec ThreadRecord, viewer EmployeeID, history bool) (ThreadSummary, error) {
	var con Consumer
	if rec.Consumer != "" {
		var err error
		con, err = tx.Consumer(ctx, rec.Company, rec.Consumer)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return ThreadSummary{}, err
		}
	}
	emps, err := tx.EmployeesByID(ctx, rec.Participants)
	if err != nil {
		return ThreadSummary{}, err
	}
	sum := s.head(c, rec, con, emps)
	// A list shows the last message that is not a note kept for an employee;
	// notes come in bursts of a few per event.
	limit := 8
	if history {
		limit = historyLimit
	}
	msgs, err := tx.Messages(ctx, rec.ID, limit)
	if err != nil {
		return sum, err
	}
	for _, m := range msgs {
		if m.From == ToEmployee && (m.Author != viewer || !history) {
			continue
		}
		sum.LastMessage, sum.LastAt = m.Text, m.At
		if history {
			v, err := s.view(ctx, tx, m)
			if err != nil {
				return sum, err
			}
			sum.Messages = append(sum.Messages, v)
		}
	}
	return sum, nil
}

// head is what a thread's summary says besides its messages: con is its
// consumer (zero if unknown), emps its participants.
func (s *Service) head(c Company, rec ThreadRecord, con Consumer, emps []Employee) ThreadSummary {
	sum := ThreadSummary{ID: rec.ID, Status: rec.Status, Queued: len(rec.Queue), QueueLimit: c.Policy.QueueLimit,
		OptInLink: rec.OptInLink, LastAt: rec.UpdatedAt}
	if rec.Consumer != "" {
		sum.ConsumerName, sum.ConsumerAvatarURL = con.Name, con.AvatarURL
		if sum.ConsumerName == "" {
			sum.ConsumerName = "WeChat user " + shortName(string(rec.Consumer))
		}
	} else {
		sum.ConsumerName = "Awaiting opt-in"
	}
	if rec.Status == StatusActive && rec.windowOpen(c.Policy, s.now()) {
		sum.WindowEnd = rec.WindowEnd(c.Policy)
		sum.SendsLeft = max(0, min(c.Policy.employeeSends()-rec.Sends, c.Policy.EmployeeLimit-rec.Streak))
	}
	for _, e := range emps {
		sum.Participants = append(sum.Participants, e.Name)
	}
	return sum
}

func shortName(s string) string {
	if len(s) > 6 {
		return s[len(s)-6:]
	}
	return s
}

// Threads lists the threads the employee takes part in, most recent first.
func (s *Service) Threads(ctx context.Context, e EmployeeID) ([]ThreadSummary, error) {
	return s.listSummaries(ctx, e, func(tx Tx) ([]ThreadRecord, error) { return tx.ThreadsOf(ctx, e) })
}

// listSummaries is the employee's view of the threads list finds, in one
// transaction.
func (s *Service) listSummaries(ctx context.Context, e EmployeeID, list func(Tx) ([]ThreadRecord, error)) ([]ThreadSummary, error) {
	var out []ThreadSummary
	err := s.read(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		recs, err := list(tx)
		if err != nil {
			return err
		}
		out, err = s.summaries(ctx, tx, c, recs, e)
		return err
	})
	return out, err
}

// Thread returns one thread with its recent messages, if the employee takes part in it.
func (s *Service) Thread(ctx context.Context, e EmployeeID, t ThreadID) (ThreadSummary, error) {
	var out ThreadSummary
	err := s.read(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		rec, err := tx.LoadThread(ctx, t)
		if err != nil {
			return err
		}
		if !rec.IsParticipant(e) {
			return ErrUnknownThread
		}
		out, err = s.summary(ctx, tx, c, rec, e, true)
		return err
	})
	return out, err
}

// SaveCard records a Teams activity the bot posted for a thread.
func (s *Service) SaveCard(ctx context.Context, c CardRecord) error {
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = s.now()
	}
	return s.store.Tx(ctx, func(tx Tx) error { return tx.SaveCard(ctx, c) })
}

// LastCard returns the last card posted to the employee for the thread.
func (s *Service) LastCard(ctx context.Context, e EmployeeID, t ThreadID) (c CardRecord, ok bool, err error) {
	err = s.read(ctx, func(tx Tx) error {
		c, ok, err = tx.LastCard(ctx, e, t)
		return err
	})
	return
}

// CardForMessage returns the card that shows message m to the employee.
func (s *Service) CardForMessage(ctx context.Context, e EmployeeID, m MessageID) (c CardRecord, ok bool, err error) {
	err = s.read(ctx, func(tx Tx) error {
		c, ok, err = tx.CardForMessage(ctx, e, m)
		return err
	})
	return
}
