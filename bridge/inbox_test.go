package bridge_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// unreadSeen is what the employee sees in the thread after message upTo (all
// of it when upTo is empty) that someone else wrote or that was kept for them:
// the count the inbox must report, worked out from the thread view instead.
func (f *fixture) unreadSeen(e bridge.EmployeeID, t bridge.ThreadID, upTo bridge.MessageID) int {
	f.t.Helper()
	msgs := f.messages(e, t)
	if upTo != "" {
		i := slices.IndexFunc(msgs, func(m bridge.MessageView) bool { return m.ID == upTo })
		if i < 0 {
			f.t.Fatalf("message %s not in the view", upTo)
		}
		msgs = msgs[i+1:]
	}
	n := 0
	for _, m := range msgs {
		if m.From != bridge.FromSystem && !(m.From == bridge.FromEmployee && m.Author == e) {
			n++
		}
	}
	return n
}

func (f *fixture) unread(e bridge.EmployeeID, t bridge.ThreadID) int {
	f.t.Helper()
	u, err := f.svc.Unread(context.Background(), e)
	if err != nil {
		f.t.Fatal(err)
	}
	return u[t]
}

func lastID(msgs []bridge.MessageView) bridge.MessageID { return msgs[len(msgs)-1].ID }

// The inbox as an employee lives it: what the consumer and colleagues write
// and the notes kept for them are unread until they open the thread; their
// own messages and the notices to the consumer never are; reading is never
// undone by an older mark.
func TestServiceUnreadAndReadMarks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.employee("Alice")
	f.consumerWrites("c1", "m1", "Hello there")
	f.drain()
	th := f.onlyThread(alice).ID

	// The consumer's message and Alice's welcome note; not the consumer's welcome.
	if got := f.unread(alice, th); got != 2 || got != f.unreadSeen(alice, th, "") {
		t.Fatalf("unread = %d, want 2 (%d by the view)", got, f.unreadSeen(alice, th, ""))
	}
	read := lastID(f.messages(alice, th))
	if err := f.svc.MarkRead(ctx, alice, th, read); err != nil {
		t.Fatal(err)
	}
	if got := f.unread(alice, th); got != 0 {
		t.Fatalf("unread after reading = %d", got)
	}
	if _, err := f.svc.Send(ctx, alice, th, bridge.Content{Text: "Let me check"}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if got := f.unread(alice, th); got != 0 {
		t.Fatalf("unread after her own message = %d", got)
	}

	bob := f.employee("Bob")
	if err := f.svc.AddParticipant(ctx, alice, th, bob); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if got, want := f.unread(bob, th), f.unreadSeen(bob, th, ""); got != want || got < 3 {
		t.Fatalf("bob's unread = %d, want %d (the consumer's, Alice's, his note)", got, want)
	}
	if got, want := f.unread(alice, th), f.unreadSeen(alice, th, read); got != want || got == 0 {
		t.Fatalf("alice's unread after adding bob = %d, want %d (her note about it)", got, want)
	}

	// A mark never moves back.
	first := f.messages(alice, th)[0].ID
	latest := lastID(f.messages(alice, th))
	if err := f.svc.MarkRead(ctx, alice, th, latest); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.MarkRead(ctx, alice, th, first); err != nil {
		t.Fatal(err)
	}
	if got := f.unread(alice, th); got != 0 {
		t.Fatalf("unread after an older mark = %d, want 0", got)
	}
	// Bob's mark is his own.
	if got := f.unread(bob, th); got == 0 {
		t.Fatal("alice's reading cleared bob's unread")
	}

	// Refusals: a stranger, a message of another thread, no such message.
	carol := f.employee("Carol")
	if err := f.svc.MarkRead(ctx, carol, th, latest); !errors.Is(err, bridge.ErrUnknownThread) {
		t.Fatalf("a stranger's mark: %v", err)
	}
	f.consumerWrites("c2", "m2", "Another one")
	f.drain()
	var other bridge.ThreadSummary
	for _, e := range []bridge.EmployeeID{alice, bob, carol} {
		list, _ := f.svc.Threads(ctx, e)
		for _, s := range list {
			if s.ID != th {
				other = s
			}
		}
	}
	if other.ID == "" {
		t.Fatal("c2 got no thread")
	}
	if err := f.svc.MarkRead(ctx, alice, th, bridge.MessageIDFor(other.ID, 1)); !errors.Is(err, bridge.ErrUnknownMessage) {
		t.Fatalf("a message of another thread: %v", err)
	}
	if err := f.svc.MarkRead(ctx, alice, th, "nope-1"); !errors.Is(err, bridge.ErrUnknownMessage) {
		t.Fatalf("no such message: %v", err)
	}

	// Participants, with their ids, in order of joining.
	ps, err := f.svc.Participants(ctx, bob, th)
	if err != nil || len(ps) != 2 || ps[0].ID != alice || ps[1].ID != bob || ps[1].Name != "Bob" {
		t.Fatalf("participants = %+v, %v", ps, err)
	}
	if _, err := f.svc.Participants(ctx, carol, th); !errors.Is(err, bridge.ErrUnknownThread) {
		t.Fatalf("a stranger's participants: %v", err)
	}
}

// The list's preview is the last message a person wrote, with its author's
// id; search finds threads by the contact's name and by what people wrote
// (text and file names), never by automatic messages.
func TestServicePreviewAndSearch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.employee("Alice")
	f.wechat.profiles = map[bridge.ConsumerID]bridge.Profile{"c2": {Name: "Zhang Wei"}}
	f.consumerWrites("c1", "m1", "Hello there")
	if err := f.svc.Accept(ctx, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: "m2", Account: "kf1", Consumer: "c2",
		At: f.now(), Body: bridge.Content{Text: "Any news about 50% off?"}}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	list, err := f.svc.Threads(ctx, alice)
	if err != nil || len(list) != 2 {
		t.Fatalf("threads %+v %v", list, err)
	}
	var th1, th2 bridge.ThreadID
	for _, s := range list {
		if s.ConsumerName == "Zhang Wei" {
			th2 = s.ID
		} else {
			th1 = s.ID
		}
	}
	if _, err := f.svc.Send(ctx, alice, th1, bridge.Content{Text: "Let me check"}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	f.advance(time.Minute) // th2 is the most recent
	if err := f.svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "m3", Account: "kf1", Consumer: "c2",
		At: f.now(), Body: bridge.Content{MediaKind: "file", MediaRef: "ref1", FileName: "Invoice-2026.pdf"}}}); err != nil {
		t.Fatal(err)
	}
	f.drain()

	last, err := f.svc.LastWritten(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if p := last[th1]; p.Text != "Let me check" || p.Author != alice || p.AuthorName != "Alice" || p.From != bridge.FromEmployee {
		t.Errorf("preview of th1 = %+v, want Alice's reply (not the notices after it)", p)
	}
	if p := last[th2]; p.From != bridge.FromConsumer || p.Media == nil || p.Media.FileName != "Invoice-2026.pdf" {
		t.Errorf("preview of th2 = %+v, want the consumer's file", p)
	}

	// The list's own last message (notes left out) and the participants' names
	// come from the same few queries.
	list, err = f.svc.Threads(ctx, alice)
	if err != nil || len(list) != 2 || list[0].ID != th2 {
		t.Fatalf("threads %+v %v", list, err)
	}
	if list[1].LastMessage != "Let me check" || !slices.Equal(list[1].Participants, []string{"Alice"}) || list[1].ConsumerName != "WeChat user c1" {
		t.Errorf("th1 in the list = %+v", list[1])
	}
	if !list[0].LastAt.Equal(last[th2].At) || list[0].ConsumerName != "Zhang Wei" {
		t.Errorf("th2 in the list = %+v, want the file's time %v", list[0], last[th2].At)
	}

	search := func(q string) []bridge.ThreadID {
		t.Helper()
		got, err := f.svc.SearchThreads(ctx, alice, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []bridge.ThreadID
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		return ids
	}
	for _, c := range []struct {
		q    string
		want []bridge.ThreadID
	}{
		{"zhang", []bridge.ThreadID{th2}},    // the contact, any case
		{"HELLO", []bridge.ThreadID{th1}},    // the consumer's text
		{"let me", []bridge.ThreadID{th1}},   // the employee's text
		{"invoice", []bridge.ThreadID{th2}},  // a file name
		{"50%", []bridge.ThreadID{th2}},      // LIKE's wildcard taken literally
		{"5_%", nil},                         // … both of them
		{"WeChat allows", nil},               // automatic messages are not searched
		{"nobody wrote this", nil},           //
		{"", []bridge.ThreadID{th2, th1}},    // everything, most recent first
		{"  zhang ", []bridge.ThreadID{th2}}, // trimmed
	} {
		if got := search(c.q); !slices.Equal(got, c.want) {
			t.Errorf("search %q = %v, want %v", c.q, got, c.want)
		}
	}
	bob := f.employee("Bob")
	if got, _ := f.svc.SearchThreads(ctx, bob, "zhang"); len(got) != 0 {
		t.Errorf("bob finds alice's threads: %+v", got)
	}
}

// A page of sync_msg asks WeChat about its new consumers in one call, the
// known ones not at all, and a profile older than a day again when its
// consumer next writes; the thread shows WeChat's nickname and avatar.
func TestServicePullFetchesProfiles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.employee("Alice")
	f.wechat.profiles = map[bridge.ConsumerID]bridge.Profile{
		"c1": {Name: "Ann", AvatarURL: "http://wx.qlogo.cn/c1/0"},
		"c2": {Name: "Bo"},
	}
	mk := func(id string, c bridge.ConsumerID) bridge.Inbound {
		return bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: id, Account: "kf1", Consumer: c, At: f.now(), Body: bridge.Content{Text: id}}
	}
	pull := func(pages ...bridge.PullBatch) {
		t.Helper()
		f.wechat.mu.Lock()
		f.wechat.pages, f.wechat.profileCalls = pages, nil
		f.wechat.mu.Unlock()
		if err := f.svc.PullRequested(ctx, "kf1", "tok"); err != nil {
			t.Fatal(err)
		}
		f.drain()
	}
	calls := func() [][]bridge.ConsumerID {
		f.wechat.mu.Lock()
		defer f.wechat.mu.Unlock()
		return slices.Clone(f.wechat.profileCalls)
	}
	pull(
		bridge.PullBatch{Messages: []bridge.Inbound{mk("a", "c1"), mk("b", "c2"), mk("c", "c1"),
			{Kind: bridge.InboundSendFailed, WeChatMsgID: "f", Consumer: "c3", FailedMessage: "x-1"}}, Cursor: "1", More: true},
		bridge.PullBatch{Messages: []bridge.Inbound{mk("d", "c1")}, Cursor: "2"},
	)
	if got := calls(); !slices.EqualFunc(got, [][]bridge.ConsumerID{{"c1", "c2"}}, slices.Equal) {
		t.Fatalf("profile calls = %v, want one for the first page's two new consumers", got)
	}
	names := func() map[string]string {
		list, err := f.svc.Threads(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, s := range list {
			out[s.ConsumerName] = s.ConsumerAvatarURL
		}
		return out
	}
	if got := names(); len(got) != 2 || got["Ann"] != "http://wx.qlogo.cn/c1/0" || got["Bo"] != "" {
		t.Fatalf("threads show %v", got)
	}

	// Within a day nobody is asked again; after it, whoever writes is.
	f.advance(23 * time.Hour)
	pull(bridge.PullBatch{Messages: []bridge.Inbound{mk("e", "c1")}, Cursor: "3"})
	if got := calls(); len(got) != 0 {
		t.Fatalf("profile calls within a day = %v", got)
	}
	f.wechat.mu.Lock()
	f.wechat.profiles["c1"] = bridge.Profile{Name: "Ann Lee", AvatarURL: "http://wx.qlogo.cn/c1/1"}
	f.wechat.mu.Unlock()
	f.advance(2 * time.Hour)
	pull(bridge.PullBatch{Messages: []bridge.Inbound{mk("g", "c1")}, Cursor: "4"})
	if got := calls(); !slices.EqualFunc(got, [][]bridge.ConsumerID{{"c1"}}, slices.Equal) {
		t.Fatalf("profile calls after a day = %v, want c1's refresh", got)
	}
	if got := names(); got["Ann Lee"] != "http://wx.qlogo.cn/c1/1" || got["Bo"] != "" {
		t.Fatalf("threads after the refresh show %v", got)
	}
}
