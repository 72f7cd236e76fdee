package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// runInbox tests the inbox's reads (bridge.InboxTx): read marks and unread
// counts, the last written message per thread, search, and participants.
func runInbox(t *testing.T, f Factory) {
	s := f(t)()
	// t1: e1 and e2 serve Li Lei; t2: e1 alone serves Wang (updated later); t3:
	// e2 alone.
	t1 := threadOf("c1", "t1", "wm-1", t0, "e1", "e2")
	t2 := threadOf("c1", "t2", "wm-2", t0.Add(time.Hour), "e1")
	t3 := threadOf("c1", "t3", "wm-3", t0.Add(2*time.Hour), "e2")
	seq := map[bridge.ThreadID]int64{}
	msg := func(th bridge.ThreadID, from bridge.Party, author bridge.EmployeeID, text string) bridge.MessageRecord {
		seq[th]++
		n := seq[th]
		return bridge.MessageRecord{ID: bridge.MessageIDFor(th, n), Thread: th, Seq: n, From: from, Author: author,
			Body: bridge.Content{Text: text}, Text: text, Status: bridge.StatusReceived,
			At: t0.Add(time.Duration(n) * time.Minute), UpdatedAt: t0.Add(time.Duration(n) * time.Minute)}
	}
	file := msg("t2", bridge.FromConsumer, "", "")
	file.Body = bridge.Content{MediaKind: "file", MediaRef: "ref-1", FileName: "Invoice_2026.PDF"}
	msgs := []bridge.MessageRecord{
		msg("t1", bridge.FromConsumer, "", "Hello, 50% off?"),      // t1-1: for both
		msg("t1", bridge.FromSystem, "", "Thank you! You can now"), // t1-2: to the consumer
		msg("t1", bridge.ToEmployee, "e1", "Please note, WeChat"),  // t1-3: e1's note
		msg("t1", bridge.ToEmployee, "e2", "Please note, WeChat"),  // t1-4: e2's note
		msg("t1", bridge.FromEmployee, "e1", "Let me check"),       // t1-5: e1's own
		msg("t1", bridge.FromEmployee, "e2", "I can help"),         // t1-6: e2's own
		msg("t1", bridge.ToEmployee, "e1", "You have reached"),     // t1-7: e1's note
		file, // t2-1
		msg("t2", bridge.FromSystem, "", "Your contact is unable"), // t2-2
		msg("t3", bridge.FromConsumer, "", "hi"),                   // t3-1
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		if err := tx.SaveCompany(ctx, company("c1")); err != nil {
			return err
		}
		for _, c := range []bridge.Consumer{{Company: "c1", ID: "wm-1", Name: "Li Lei"}, {Company: "c1", ID: "wm-2", Name: "WANG Fang"}} {
			if err := tx.SaveConsumer(ctx, c); err != nil {
				return err
			}
		}
		for _, tr := range []bridge.ThreadRecord{t1, t2, t3} {
			if err := tx.SaveThread(ctx, tr); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})

	unread := func(want map[bridge.EmployeeID]map[bridge.ThreadID]int) {
		t.Helper()
		tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
			for e, w := range want {
				got, err := tx.UnreadCounts(ctx, e)
				if err != nil {
					return err
				}
				if len(got) == 0 && len(w) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("UnreadCounts(%s) = %v, want %v", e, got, w)
				}
			}
			return nil
		})
	}
	// e1: t1-1, t1-3, t1-6, t1-7 and t2-1; e2: t1-1, t1-4, t1-5 and t3-1.
	unread(map[bridge.EmployeeID]map[bridge.ThreadID]int{
		"e1": {"t1": 4, "t2": 1}, "e2": {"t1": 3, "t3": 1}, "e9": nil,
	})
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		if err := tx.SaveReadMark(ctx, "e1", "t1", 5); err != nil {
			return err
		}
		if err := tx.SaveReadMark(ctx, "e1", "t1", 2); err != nil { // never backwards
			return err
		}
		return tx.SaveReadMark(ctx, "e2", "t3", 1)
	})
	unread(map[bridge.EmployeeID]map[bridge.ThreadID]int{
		"e1": {"t1": 2, "t2": 1}, "e2": {"t1": 3},
	})
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error { return tx.SaveReadMark(ctx, "e1", "t1", 7) })
	unread(map[bridge.EmployeeID]map[bridge.ThreadID]int{"e1": {"t2": 1}})

	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		last, err := tx.LastWrittenMessages(ctx, "e1")
		if err != nil {
			return err
		}
		if len(last) != 2 || !reflect.DeepEqual(last["t1"], msgs[5]) || !reflect.DeepEqual(last["t2"], file) {
			t.Errorf("LastWrittenMessages(e1) = %+v\nwant t1 → %+v, t2 → %+v", last, msgs[5], file)
		}
		// The list's last message: notes are skipped, notices to the consumer are not.
		listed, err := tx.LastListedMessages(ctx, "e1")
		if err != nil {
			return err
		}
		if len(listed) != 2 || !reflect.DeepEqual(listed["t1"], msgs[5]) || !reflect.DeepEqual(listed["t2"], msgs[8]) {
			t.Errorf("LastListedMessages(e1) = %+v\nwant t1 → %+v, t2 → %+v", listed, msgs[5], msgs[8])
		}
		if none, err := tx.LastWrittenMessages(ctx, "e9"); err != nil || len(none) != 0 {
			t.Errorf("LastWrittenMessages(e9) = %v, %v", none, err)
		}

		for _, c := range []struct {
			e    bridge.EmployeeID
			q    string
			want []bridge.ThreadID
		}{
			{"e1", "li lei", []bridge.ThreadID{"t1"}},       // the consumer's name
			{"e1", "wang", []bridge.ThreadID{"t2"}},         // … matched lowercased
			{"e1", "invoice_2026", []bridge.ThreadID{"t2"}}, // a file name
			{"e1", "50%", []bridge.ThreadID{"t1"}},          // % taken literally
			{"e1", "5_%", nil},                              // _ too
			{"e1", "i can", []bridge.ThreadID{"t1"}},        // a colleague's message
			{"e1", "please note", nil},                      // notes are not searched
			{"e1", "your contact", nil},                     // nor notices
			{"e1", "hi", nil},                               // t3 is not e1's
			{"e2", "hi", []bridge.ThreadID{"t3"}},
			{"e1", "", []bridge.ThreadID{"t2", "t1"}}, // all, most recent first
		} {
			got, err := tx.SearchThreadsOf(ctx, c.e, c.q)
			if err != nil {
				return err
			}
			if ids := threadIDs(got); !reflect.DeepEqual(ids, c.want) {
				t.Errorf("SearchThreadsOf(%s, %q) = %v, want %v", c.e, c.q, ids, c.want)
			}
		}

		ps, err := tx.ThreadParticipants(ctx, "t1")
		if err != nil || !reflect.DeepEqual(ps, []bridge.EmployeeID{"e1", "e2"}) {
			t.Errorf("ThreadParticipants(t1) = %v, %v", ps, err)
		}
		if ps, err := tx.ThreadParticipants(ctx, "nope"); err != nil || len(ps) != 0 {
			t.Errorf("ThreadParticipants(nope) = %v, %v", ps, err)
		}
		// The order of joining, after a change.
		t1.Participants = []bridge.EmployeeID{"e3", "e2"}
		return tx.SaveThread(ctx, t1)
	})
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		ps, err := tx.ThreadParticipants(ctx, "t1")
		if err != nil || !reflect.DeepEqual(ps, []bridge.EmployeeID{"e3", "e2"}) {
			t.Errorf("ThreadParticipants(t1) after a change = %v, %v", ps, err)
		}
		return err
	})
}
