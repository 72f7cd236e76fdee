package bridge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

func (f *fixture) messages(e bridge.EmployeeID, t bridge.ThreadID) []bridge.MessageView {
	f.t.Helper()
	th, err := f.svc.Thread(context.Background(), e, t)
	if err != nil {
		f.t.Fatal(err)
	}
	return th.Messages
}

// Disabling an employee means it: they leave their threads with the policy's
// notices, a thread with nobody left goes back to routing, and re-enabling them
// restores access but not the threads.
func TestServiceDisableEmployee(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice, th := f.threadWith("alice", "hello")
	bob := f.employee("bob")
	if err := f.svc.AddParticipant(ctx, alice, th.ID, bob); err != nil {
		t.Fatal(err)
	}
	f.drain()
	before := len(f.wechat.inbox("c1"))

	if err := f.svc.SetEmployeeEnabled(ctx, alice, false); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if got := f.wechat.inbox("c1"); len(got) != before+1 || !strings.Contains(got[len(got)-1], "left") {
		t.Errorf("the consumer must be told alice left: %q", got)
	}
	if !slices.Contains(f.teams.notices(bob), bridge.NoticeParticipantLeft) {
		t.Errorf("bob was not told: %v", f.teams.notices(bob))
	}
	if list, err := f.svc.Threads(ctx, alice); err != nil || len(list) != 0 {
		t.Errorf("alice still sees %v (%v)", list, err)
	}
	if _, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "still here?"}); !errors.Is(err, bridge.ErrEmployeeDisabled) {
		t.Errorf("send by a disabled employee: %v", err)
	}
	if _, err := f.svc.RequestOptIn(ctx, alice); !errors.Is(err, bridge.ErrEmployeeDisabled) {
		t.Errorf("opt-in by a disabled employee: %v", err)
	}

	// Bob leaves too: nobody is left, and the next consumer goes to someone enabled.
	if err := f.svc.SetEmployeeEnabled(ctx, bob, false); err != nil {
		t.Fatal(err)
	}
	carol := f.employee("carol")
	f.consumerWrites("c1", "m2", "anyone there?")
	f.drain()
	if got := f.onlyThread(carol); got.ID != th.ID {
		t.Errorf("carol got %s, want the unrouted thread %s", got.ID, th.ID)
	}

	if err := f.svc.SetEmployeeEnabled(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	if list, err := f.svc.Threads(ctx, alice); err != nil || len(list) != 0 {
		t.Errorf("re-enabled alice must not get her old threads back: %v (%v)", list, err)
	}
	if _, err := f.svc.RequestOptIn(ctx, alice); err != nil {
		t.Errorf("re-enabled alice cannot work: %v", err)
	}
}

// A caption sent with media reaches the consumer as its own text message, after
// the media, and counts as a send.
func TestServiceCaptionIsItsOwnSend(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice, th := f.threadWith("alice", "send me the form")
	v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{MediaKind: "file", MediaRef: "r1", FileName: "form.pdf", Text: "Please sign page 2"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Media == nil || v.Text != "" {
		t.Errorf("the returned view is the file: %+v", v)
	}
	f.drain()
	got := f.wechat.inbox("c1")
	if want := []string{"[file form.pdf]", "Please sign page 2"}; len(got) < 2 || !slices.Equal(got[len(got)-2:], want) {
		t.Errorf("consumer got %q, want the file then its caption", got)
	}
	// welcome + file + caption: 3 of 4 employee sends used, a streak of 2 of 3.
	if th := f.onlyThread(alice); th.SendsLeft != 1 {
		t.Errorf("sends left %d, want 1: the caption counts as a send", th.SendsLeft)
	}
}

// Media the account cannot send is refused before anything is queued.
func TestServiceRefusesWhatTheAccountCannotSend(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.wechat.noFiles = true
	alice, th := f.threadWith("alice", "hi")
	before := len(f.messages(alice, th.ID))
	_, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{MediaKind: "file", MediaRef: "r1", FileName: "a.pdf", Text: "caption"})
	if !errors.Is(err, bridge.ErrUnsupportedContent) || !strings.Contains(err.Error(), "cannot send files") {
		t.Fatalf("err %v", err)
	}
	if after := len(f.messages(alice, th.ID)); after != before {
		t.Errorf("a refused send stored %d messages", after-before)
	}
	if _, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{MediaKind: "image", MediaRef: "r2", FileName: "a.png"}); err != nil {
		t.Errorf("an image is sendable: %v", err)
	}
}

// Two first messages from one new consumer accepted at the same moment (an
// Official Account's callbacks) make one thread.
func TestServiceConcurrentFirstMessagesMakeOneThread(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice := f.employee("alice")
	var wg sync.WaitGroup
	for i, text := range []string{"hello", "are you there?"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: "oa:" + text, Account: "wxoa", Consumer: "oNew",
				At: f.now(), Body: bridge.Content{Text: text}}
			if i == 1 {
				in.Media = &bridge.PendingMedia{Kind: "image", MediaID: "mid1"}
			}
			if err := f.svc.Accept(ctx, in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.drain()
	th := f.onlyThread(alice)
	var media int
	for _, m := range f.messages(alice, th.ID) {
		if m.From == bridge.FromConsumer && m.Media != nil {
			media++
		}
	}
	if media != 1 {
		t.Errorf("the image was not fetched and applied: %d media messages", media)
	}
}

// Consumers read their own language: the company's fixed choice, else (auto) what
// WeChat reports, else the company's default language.
func TestServiceConsumerLanguage(t *testing.T) {
	cases := []struct {
		name, policy, reported string
		company                bridge.Language
		wantChinese            bool
	}{
		{"fixed zh-CN", "zh-CN", "en", bridge.English, true},
		{"fixed en", "en", "zh_CN", bridge.SimplifiedChinese, false},
		{"auto follows WeChat", "auto", "zh_CN", bridge.English, true},
		{"auto falls back to the company", "auto", "", bridge.SimplifiedChinese, true},
		{"auto, English company", "", "", bridge.English, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			co, err := f.svc.CompanySettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			co.Policy.ConsumerLanguage = c.policy
			if err := f.svc.SetPolicy(ctx, co.Policy, co.Overrides); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.SetLanguage(ctx, c.company); err != nil {
				t.Fatal(err)
			}
			f.wechat.profiles = map[bridge.ConsumerID]bridge.Profile{"oC": {Name: "Zhang", Language: c.reported}}
			alice := f.employee("alice")
			if err := f.svc.Accept(ctx, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: "oa:1", Account: "wxoa", Consumer: "oC",
				At: f.now(), Body: bridge.Content{Text: "你好"}}); err != nil {
				t.Fatal(err)
			}
			f.drain()
			got := f.wechat.inbox("oC")
			if len(got) != 1 {
				t.Fatalf("consumer got %q", got)
			}
			want := bridge.Render(nil, bridge.NoticeConsumerWelcome, bridge.English, bridge.NoticeParams{}, bridge.Names{})
			if c.wantChinese {
				want = bridge.Render(nil, bridge.NoticeConsumerWelcome, bridge.SimplifiedChinese, bridge.NoticeParams{}, bridge.Names{})
			}
			if got[0] != want {
				t.Errorf("welcome %q, want %q", got[0], want)
			}
			// The employee's preview shows what the consumer got.
			th := f.onlyThread(alice)
			if th.ConsumerName != "Zhang" {
				t.Errorf("consumer name %q, want WeChat's nickname", th.ConsumerName)
			}
			var preview string
			for _, m := range f.messages(alice, th.ID) {
				if m.From == bridge.FromSystem {
					preview = m.Text
				}
			}
			if preview != want {
				t.Errorf("employee preview %q, want %q", preview, want)
			}
		})
	}
}

// A send that WeChat refuses for good ends dead at once: the message is failed
// with a reason, its author is told, and the thread's next send is not held up.
func TestServicePermanentSendFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice, th := f.threadWith("alice", "hi")
	f.wechat.failNext = bridge.Permanent(errors.New("wechat: errcode 40003: invalid openid"))
	v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	f.drain()
	var got bridge.MessageView
	for _, m := range f.messages(alice, th.ID) {
		if m.ID == v.ID {
			got = m
		}
	}
	if got.Status != bridge.StatusFailed || got.Reason == "" {
		t.Errorf("message %+v, want failed with a reason", got)
	}
	if !slices.Contains(f.teams.notices(alice), bridge.NoticeDeliveryFailed) {
		t.Errorf("alice was not told: %v", f.teams.notices(alice))
	}
	dead, err := f.db.Jobs(ctx, storage.JobFilter{Dead: true})
	if err != nil || len(dead) != 1 || dead[0].Kind != bridge.JobSend || !strings.Contains(dead[0].LastError, "40003") {
		t.Fatalf("dead jobs %+v (%v)", dead, err)
	}
	if _, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "next"}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if inbox := f.wechat.inbox("c1"); inbox[len(inbox)-1] != "next" {
		t.Errorf("the next send did not go out: %q", inbox)
	}
}

// A card Teams refuses for good ends dead at once; the employee's next card
// follows, and the tab shows the employee (only them) what was not shown.
func TestServicePermanentTeamsRefusal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice, th := f.threadWith("alice", "hi")
	bob := f.employee("bob")
	if err := f.svc.AddParticipant(ctx, alice, th.ID, bob); err != nil {
		t.Fatal(err)
	}
	f.drain()
	f.teams.refuse = func(d bridge.Delivery) error {
		if d.Employee.ID == alice && strings.Contains(d.Message.Text, "poison") {
			return bridge.Permanent(errors.New("teams: 400 BadArgument"))
		}
		return nil
	}
	f.consumerWrites("c1", "m2", "poison")
	f.consumerWrites("c1", "m3", "after")
	f.drain()
	var shown []string
	f.teams.mu.Lock()
	for _, d := range f.teams.got {
		if d.Employee.ID == alice && d.Kind == bridge.DeliverConsumerMessage {
			shown = append(shown, d.Message.Text)
		}
	}
	f.teams.mu.Unlock()
	if !slices.Contains(shown, "after") {
		t.Errorf("the next card did not follow: %q", shown)
	}
	note := func(e bridge.EmployeeID) bool {
		for _, m := range f.messages(e, th.ID) {
			if m.From == bridge.ToEmployee && m.Notice == bridge.NoticeTeamsUndelivered && m.Status == bridge.StatusFailed {
				return true
			}
		}
		return false
	}
	if !note(alice) {
		t.Error("the tab does not show alice what Teams refused")
	}
	if note(bob) {
		t.Error("bob sees a note meant for alice")
	}
}

// threadWith routes a first message of consumer c1 to a new employee and returns
// both, with the jobs it caused run.
func (f *fixture) threadWith(name, text string) (bridge.EmployeeID, bridge.ThreadSummary) {
	f.t.Helper()
	e := f.employee(name)
	f.consumerWrites("c1", "m1", text)
	f.drain()
	return e, f.onlyThread(e)
}
