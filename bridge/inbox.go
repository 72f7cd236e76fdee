package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The inbox: what the tab's thread list needs beyond Threads and Thread (see
// teamsapp.Inbox). Read marks are kept per employee and thread; the counts,
// previews and search are one query each over all of an employee's threads,
// however many they have.

// InboxTx is what the inbox needs of a transaction. Each method is one query.
type InboxTx interface {
	// SaveReadMark moves e's read mark of thread t to the message of sequence
	// number seq; a mark already further on stays where it is.
	SaveReadMark(ctx context.Context, e EmployeeID, t ThreadID, seq int64) error
	// UnreadCounts counts, per thread e takes part in, the messages after e's
	// read mark (all of them without one) that are for e: the consumer's,
	// colleagues' (From FromEmployee, another Author), and the notes kept for e
	// (From ToEmployee, Author e). Never e's own, nor notices to the consumer,
	// nor notes for others. Threads with none are left out.
	UnreadCounts(ctx context.Context, e EmployeeID) (map[ThreadID]int, error)
	// LastWrittenMessages returns, per thread e takes part in, the last message
	// a person wrote (From FromConsumer or FromEmployee). Threads without one
	// are left out.
	LastWrittenMessages(ctx context.Context, e EmployeeID) (map[ThreadID]MessageRecord, error)
	// SearchThreadsOf lists the threads e takes part in whose consumer's name,
	// or the text or file name of a message a person wrote, contains query
	// (already lowercased; matched against lowercased text), ordered as ThreadsOf.
	SearchThreadsOf(ctx context.Context, e EmployeeID, query string) ([]ThreadRecord, error)
	// LastListedMessages returns, per thread e takes part in, the last message
	// that is not a note kept for an employee (what a thread list shows).
	// Threads without one are left out.
	LastListedMessages(ctx context.Context, e EmployeeID) (map[ThreadID]MessageRecord, error)
	// ThreadParticipants lists a thread's employees in order of joining, without
	// locking the thread (LoadThread does); none for an unknown thread.
	ThreadParticipants(ctx context.Context, t ThreadID) ([]EmployeeID, error)
}

// Unread counts, per thread of the employee, the messages after their read mark
// that are not theirs: the consumer's, colleagues', and the notes kept for them.
// A thread with none is left out.
func (s *Service) Unread(ctx context.Context, e EmployeeID) (map[ThreadID]int, error) {
	var out map[ThreadID]int
	err := s.read(ctx, func(tx Tx) (err error) {
		out, err = tx.UnreadCounts(ctx, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: unread of %s: %w", e, err)
	}
	return out, nil
}

// MarkRead moves the employee's read mark of a thread they are in to message
// upTo, never backwards. A thread they are not in is ErrUnknownThread; a message
// of another thread, ErrUnknownMessage.
func (s *Service) MarkRead(ctx context.Context, e EmployeeID, t ThreadID, upTo MessageID) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		if _, err := s.participantsFor(ctx, tx, e, t); err != nil {
			return err
		}
		m, err := tx.Message(ctx, upTo)
		if err != nil {
			return err
		}
		if m.Thread != t {
			return fmt.Errorf("%w: %s is not a message of thread %s", ErrUnknownMessage, upTo, t)
		}
		return tx.SaveReadMark(ctx, e, t, m.Seq)
	})
}

// LastWritten returns, per thread of the employee, the last message a person
// wrote (never a notice or a note), for the thread list's preview.
func (s *Service) LastWritten(ctx context.Context, e EmployeeID) (map[ThreadID]MessageView, error) {
	out := map[ThreadID]MessageView{}
	err := s.read(ctx, func(tx Tx) error {
		last, err := tx.LastWrittenMessages(ctx, e)
		if err != nil {
			return err
		}
		recs := make([]MessageRecord, 0, len(last))
		for _, m := range last {
			recs = append(recs, m)
		}
		views, err := s.views(ctx, tx, recs)
		if err != nil {
			return err
		}
		for _, v := range views {
			out[v.Thread] = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: last messages of %s: %w", e, err)
	}
	return out, nil
}

// SearchThreads returns the employee's threads whose contact name, or the text
// or file name of a message a person wrote, contains query (case-insensitive),
// most recent first. An empty query finds every thread, as Threads does.
func (s *Service) SearchThreads(ctx context.Context, e EmployeeID, query string) ([]ThreadSummary, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return s.Threads(ctx, e)
	}
	out, err := s.listSummaries(ctx, e, func(tx Tx) ([]ThreadRecord, error) { return tx.SearchThreadsOf(ctx, e, q) })
	if err != nil {
		return nil, fmt.Errorf("bridge: search threads of %s: %w", e, err)
	}
	return out, nil
}

// Participants returns the employees of a thread the employee is in, in order
// of joining. A thread they are not in is ErrUnknownThread.
func (s *Service) Participants(ctx context.Context, e EmployeeID, t ThreadID) ([]Employee, error) {
	var out []Employee
	err := s.read(ctx, func(tx Tx) error {
		ids, err := s.participantsFor(ctx, tx, e, t)
		if err != nil {
			return err
		}
		out, err = tx.EmployeesByID(ctx, ids)
		return err
	})
	return out, err
}

// participantsFor returns a thread's participants if e is one of them.
func (s *Service) participantsFor(ctx context.Context, tx Tx, e EmployeeID, t ThreadID) ([]EmployeeID, error) {
	ids, err := tx.ThreadParticipants(ctx, t)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ids, e) {
		return nil, fmt.Errorf("%w: %s for %s", ErrUnknownThread, t, e)
	}
	return ids, nil
}

// views turns records into views, reading their authors in one query.
func (s *Service) views(ctx context.Context, tx Tx, recs []MessageRecord) ([]MessageView, error) {
	var ids []EmployeeID
	for _, m := range recs {
		if m.Author != "" && !slices.Contains(ids, m.Author) {
			ids = append(ids, m.Author)
		}
	}
	emps, err := tx.EmployeesByID(ctx, ids)
	if errors.Is(err, ErrUnknownEmployee) {
		// An author who is gone: view each message on its own, which tolerates that.
		out := make([]MessageView, 0, len(recs))
		for _, m := range recs {
			v, err := s.view(ctx, tx, m)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	names := make(map[EmployeeID]string, len(emps))
	for _, e := range emps {
		names[e.ID] = e.Name
	}
	out := make([]MessageView, 0, len(recs))
	for _, m := range recs {
		v := viewOf(m)
		v.AuthorName = names[m.Author]
		out = append(out, v)
	}
	return out, nil
}

// summaries are the list's summaries of viewer's threads recs, as summary
// (without history) makes them one by one, in three queries whatever the
// number of threads: their consumers, their participants, their last messages.
func (s *Service) summaries(ctx context.Context, tx Tx, c Company, recs []ThreadRecord, viewer EmployeeID) ([]ThreadSummary, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	var cids []ConsumerID
	var eids []EmployeeID
	for _, r := range recs {
		if r.Consumer != "" && !slices.Contains(cids, r.Consumer) {
			cids = append(cids, r.Consumer)
		}
		for _, e := range r.Participants {
			if !slices.Contains(eids, e) {
				eids = append(eids, e)
			}
		}
	}
	cons, err := tx.ConsumersByID(ctx, s.company, cids)
	if err != nil {
		return nil, err
	}
	emps, err := tx.EmployeesByID(ctx, eids)
	if err != nil {
		return nil, err
	}
	byID := make(map[EmployeeID]Employee, len(emps))
	for _, e := range emps {
		byID[e.ID] = e
	}
	last, err := tx.LastListedMessages(ctx, viewer)
	if err != nil {
		return nil, err
	}
	out := make([]ThreadSummary, 0, len(recs))
	for _, r := range recs {
		ps := make([]Employee, 0, len(r.Participants))
		for _, e := range r.Participants {
			ps = append(ps, byID[e])
		}
		sum := s.head(c, r, cons[r.Consumer], ps)
		if m, ok := last[r.ID]; ok {
			sum.LastMessage, sum.LastAt = m.Text, m.At
		}
		out = append(out, sum)
	}
	return out, nil
}
