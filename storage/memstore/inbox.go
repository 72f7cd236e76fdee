package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// The inbox's reads (bridge.InboxTx), with the semantics of package storage.

// readKey is an (employee, thread) pair: a read mark.
type readKey struct {
	employee bridge.EmployeeID
	thread   bridge.ThreadID
}

func (t *tx) SaveReadMark(_ context.Context, e bridge.EmployeeID, th bridge.ThreadID, seq int64) error {
	k := readKey{e, th}
	if old, ok := t.s.reads[k]; ok && old >= seq {
		return nil
	}
	put(t, t.s.reads, k, seq)
	return nil
}

// threadMessages are a thread's messages in seq order.
func (t *tx) threadMessages(th bridge.ThreadID) []bridge.MessageRecord {
	out := make([]bridge.MessageRecord, 0, len(t.s.byThread[th]))
	for _, id := range t.s.byThread[th] {
		out = append(out, t.s.messages[id])
	}
	slices.SortFunc(out, func(a, b bridge.MessageRecord) int { return int(a.Seq - b.Seq) })
	return out
}

func written(m bridge.MessageRecord) bool {
	return m.From == bridge.FromConsumer || m.From == bridge.FromEmployee
}

func (t *tx) UnreadCounts(_ context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]int, error) {
	out := map[bridge.ThreadID]int{}
	for _, tr := range t.s.threads {
		if !tr.IsParticipant(e) {
			continue
		}
		mark := t.s.reads[readKey{e, tr.ID}]
		for _, m := range t.threadMessages(tr.ID) {
			if m.Seq <= mark {
				continue
			}
			if m.From == bridge.FromConsumer || m.From == bridge.FromEmployee && m.Author != e || m.From == bridge.ToEmployee && m.Author == e {
				out[tr.ID]++
			}
		}
	}
	return out, nil
}

func (t *tx) LastWrittenMessages(_ context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageRecord, error) {
	return t.lastMessages(e, written), nil
}

func (t *tx) LastListedMessages(_ context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageRecord, error) {
	return t.lastMessages(e, func(m bridge.MessageRecord) bool { return m.From != bridge.ToEmployee }), nil
}

// lastMessages returns, per thread of e, the last message that matches.
func (t *tx) lastMessages(e bridge.EmployeeID, match func(bridge.MessageRecord) bool) map[bridge.ThreadID]bridge.MessageRecord {
	out := map[bridge.ThreadID]bridge.MessageRecord{}
	for _, tr := range t.s.threads {
		if !tr.IsParticipant(e) {
			continue
		}
		msgs := t.threadMessages(tr.ID)
		for i := len(msgs) - 1; i >= 0; i-- {
			if match(msgs[i]) {
				out[tr.ID] = msgs[i]
				break
			}
		}
	}
	return out
}

// SearchThreadsOf matches as storage does on PostgreSQL (full Unicode case folding).
func (t *tx) SearchThreadsOf(ctx context.Context, e bridge.EmployeeID, q string) ([]bridge.ThreadRecord, error) {
	all, err := t.ThreadsOf(ctx, e)
	if err != nil {
		return nil, err
	}
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	var out []bridge.ThreadRecord
	for _, tr := range all {
		if c, ok := t.s.consumers[consumerKey{tr.Company, string(tr.Consumer)}]; ok && tr.Consumer != "" && has(c.Name) {
			out = append(out, tr)
			continue
		}
		if slices.ContainsFunc(t.threadMessages(tr.ID), func(m bridge.MessageRecord) bool {
			return written(m) && (has(m.Text) || has(m.Body.FileName))
		}) {
			out = append(out, tr)
		}
	}
	return out, nil
}

func (t *tx) ThreadParticipants(_ context.Context, th bridge.ThreadID) ([]bridge.EmployeeID, error) {
	tr, ok := t.s.threads[th]
	if !ok {
		return nil, nil
	}
	return slices.Clone(tr.Participants), nil
}

func (t *tx) ConsumersByID(_ context.Context, company bridge.CompanyID, ids []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Consumer, error) {
	out := make(map[bridge.ConsumerID]bridge.Consumer, len(ids))
	for _, id := range ids {
		if c, ok := t.s.consumers[consumerKey{company, string(id)}]; ok {
			out[id] = c
		}
	}
	return out, nil
}
