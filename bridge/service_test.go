package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// wechatDouble records what the service sends to consumers. It behaves like WeChat
// for the parts the service relies on: a message ID is delivered once.
type wechatDouble struct {
	mu        sync.Mutex
	delivered map[bridge.ConsumerID][]string
	seen      map[bridge.MessageID]bool
	failNext  error
	pages     []bridge.PullBatch
	links     int
	noFiles   bool                                 // an Official Account: no file messages
	profiles  map[bridge.ConsumerID]bridge.Profile // what WeChat reports about consumers
	media     []bridge.OutboundMessage             // media sends, in order
	// profileCalls are the consumers of each Profiles call, in order.
	profileCalls [][]bridge.ConsumerID
}

func (w *wechatDouble) Send(_ context.Context, m bridge.OutboundMessage) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.failNext; err != nil {
		w.failNext = nil
		return err
	}
	if !w.seen[m.ID] {
		w.seen[m.ID] = true
		text := m.Body.Text
		if m.Body.MediaRef != "" {
			text = "[" + m.Body.MediaKind + " " + m.Body.FileName + "]"
			w.media = append(w.media, m)
		}
		w.delivered[m.Consumer] = append(w.delivered[m.Consumer], text)
	}
	return nil
}

func (w *wechatDouble) FetchMedia(_ context.Context, _ string, m bridge.PendingMedia) (bridge.Content, error) {
	return bridge.Content{MediaKind: m.Kind, MediaRef: "ref-" + m.MediaID, FileName: m.FileName}, nil
}

func (w *wechatDouble) CanSend(body bridge.Content) error {
	if w.noFiles && body.MediaKind == "file" {
		return fmt.Errorf("%w: an Official Account cannot send files", bridge.ErrUnsupportedContent)
	}
	return nil
}

func (w *wechatDouble) Profiles(_ context.Context, _ string, cs []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Profile, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.profileCalls = append(w.profileCalls, slices.Clone(cs))
	out := map[bridge.ConsumerID]bridge.Profile{}
	for _, c := range cs {
		if p, ok := w.profiles[c]; ok {
			out[c] = p
		}
	}
	return out, nil
}

func (w *wechatDouble) Pull(context.Context, string, string, string) (bridge.PullBatch, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pages) == 0 {
		return bridge.PullBatch{}, nil
	}
	p := w.pages[0]
	w.pages = w.pages[1:]
	return p, nil
}

func (w *wechatDouble) ContactLink(_ context.Context, account, scene, param string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.links++
	return "https://work.weixin.qq.com/kfid/" + account + "?enc_scene=" + scene + "&scene_param=" + param, nil
}

func (w *wechatDouble) EndSession(context.Context, string, bridge.ConsumerID) error { return nil }

func (w *wechatDouble) inbox(c bridge.ConsumerID) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.delivered[c])
}

// teamsDouble records deliveries to employees.
type teamsDouble struct {
	mu  sync.Mutex
	got []bridge.Delivery
	// refuse, if set, is Teams' answer to a delivery (nil: accepted).
	refuse func(bridge.Delivery) error
}

func (t *teamsDouble) Deliver(_ context.Context, d bridge.Delivery) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refuse != nil {
		if err := t.refuse(d); err != nil {
			return err
		}
	}
	t.got = append(t.got, d)
	return nil
}

func (t *teamsDouble) notices(e bridge.EmployeeID) []bridge.NoticeKind {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []bridge.NoticeKind
	for _, d := range t.got {
		if d.Employee.ID == e && d.Kind == bridge.DeliverNotice {
			out = append(out, d.Notice)
		}
	}
	return out
}

type fixture struct {
	t      *testing.T
	db     *storage.DB
	svc    *bridge.Service
	wechat *wechatDouble
	teams  *teamsDouble
	clock  time.Time
	mu     sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db)
}

// newFixtureOn is newFixture on a database of the caller's (opened, not migrated).
func newFixtureOn(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clock: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		wechat: &wechatDouble{delivered: map[bridge.ConsumerID][]string{}, seen: map[bridge.MessageID]bool{}},
		teams:  &teamsDouble{}}
	f.svc = bridge.NewService(db, bridge.Options{Now: f.now, AutoEnable: true, Account: "kf1"})
	f.svc.Attach(f.wechat, f.teams)
	if err := f.svc.EnsureCompany(ctx, "Test", "tenant", bridge.English); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

// drain runs due jobs until none is left.
func (f *fixture) drain() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.db.RunJobs(ctx, f.svc.Handlers(), storage.RunOptions{Now: f.now, PollInterval: 5 * time.Millisecond, Workers: 2, OnDead: f.svc.JobDied})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		jobs, err := f.db.PendingJobs(context.Background(), "")
		if err != nil {
			f.t.Fatal(err)
		}
		due := 0
		for _, j := range jobs {
			if !j.RunAt.After(f.now()) {
				due++
			}
		}
		if due == 0 {
			break
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("jobs still due: %+v", jobs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) employee(name string) bridge.EmployeeID {
	e, err := f.svc.EmployeeInstalled(context.Background(), bridge.Installation{TenantID: "tenant", TeamsUserID: "29:" + name, AADObjectID: name, Name: name,
		Conversation: bridge.ConversationRef{ServiceURL: "http://connector", ConversationID: "a:" + name}})
	if err != nil {
		f.t.Fatal(err)
	}
	return e.ID
}

func (f *fixture) consumerWrites(id, msgid, text string) {
	f.t.Helper()
	err := f.svc.Receive(context.Background(), []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: msgid, Account: "kf1",
		Consumer: bridge.ConsumerID(id), At: f.now(), Body: bridge.Content{Text: text}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) onlyThread(e bridge.EmployeeID) bridge.ThreadSummary {
	f.t.Helper()
	list, err := f.svc.Threads(context.Background(), e)
	if err != nil || len(list) != 1 {
		f.t.Fatalf("threads of %s: %v %v", e, list, err)
	}
	return list[0]
}

func TestServiceConversation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.employee("Alice")

	f.consumerWrites("c1", "m1", "Hello, is anyone there?")
	f.consumerWrites("c1", "m1", "Hello, is anyone there?") // WeChat's retry
	f.drain()
	th := f.onlyThread(alice)
	if th.Status != bridge.StatusActive || th.Participants[0] != "Alice" {
		t.Fatalf("thread %+v", th)
	}
	full, err := f.svc.Thread(ctx, alice, th.ID)
	if err != nil || len(full.Messages) != 3 || full.Messages[0].Text != "Hello, is anyone there?" {
		t.Fatalf("history (the retry must not add a message): %+v %v", full.Messages, err)
	}
	// The employee's own automatic message is kept inline, where it happened.
	if n := full.Messages[2]; n.From != bridge.ToEmployee || n.Notice != bridge.NoticeEmployeeWelcome || !strings.HasPrefix(n.Text, "Please note, WeChat allows you") {
		t.Errorf("employee welcome not kept in the thread: %+v", n)
	}
	if got := f.wechat.inbox("c1"); len(got) != 1 || !strings.HasPrefix(got[0], "Thank you! You can now start messaging") {
		t.Fatalf("consumer received %q", got)
	}
	if got := f.teams.notices(alice); !slices.Equal(got, []bridge.NoticeKind{bridge.NoticeEmployeeWelcome}) {
		t.Fatalf("employee notices %v", got)
	}

	var views []bridge.MessageView
	for i := range 5 {
		v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "reply " + string(rune('1'+i))})
		if err != nil {
			t.Fatal(err)
		}
		views = append(views, v)
	}
	f.drain()
	if got := f.wechat.inbox("c1"); len(got) != 5 || got[4] != "Your contact is unable to send you any more messages, till you respond. Per WeChat Policy, this conversation is on-hold. Please reply to resume" {
		t.Fatalf("consumer received %q", got)
	}
	if views[3].Status != bridge.StatusQueued || views[3].Position != 1 || views[4].Position != 2 {
		t.Errorf("queued views %+v", views[3:])
	}
	full, err = f.svc.Thread(ctx, alice, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]bridge.MessageStatus{}
	for _, m := range full.Messages {
		statuses[m.Text] = m.Status
	}
	if statuses["reply 1"] != bridge.StatusSent || statuses["reply 4"] != bridge.StatusQueued {
		t.Errorf("statuses %v", statuses)
	}

	f.advance(time.Hour)
	f.consumerWrites("c1", "m2", "Sorry, I was away")
	f.drain()
	got := f.wechat.inbox("c1")
	if !slices.Equal(got[5:], []string{"reply 4", "reply 5"}) {
		t.Fatalf("the queue was not delivered in order: %q", got)
	}

	// 24 h and 48 h timers fire on the store's clock.
	f.advance(24 * time.Hour)
	f.drain()
	f.advance(24 * time.Hour)
	f.drain()
	n := f.teams.notices(alice)
	if !slices.Contains(n, bridge.NoticeNoResponse24h) || !slices.Contains(n, bridge.NoticeInactive) {
		t.Fatalf("timer notices %v", n)
	}
	v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "after 48h"})
	if err != nil || v.Status != bridge.StatusQueued {
		t.Fatalf("after 48h: %+v %v", v, err)
	}
}

func TestServiceRejectsStrangersAndLeaves(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice, bob := f.employee("Alice"), f.employee("Bob")
	f.consumerWrites("c1", "m1", "hi")
	if list, _ := f.svc.Threads(ctx, alice); len(list) == 0 {
		alice, bob = bob, alice // the pool had no order yet: name the one who got it Alice
	}
	th := f.onlyThread(alice)
	if _, err := f.svc.Send(ctx, bob, th.ID, bridge.Content{Text: "x"}); !errors.Is(err, bridge.ErrNotParticipant) {
		t.Fatalf("a stranger sends: %v", err)
	}
	if _, err := f.svc.Thread(ctx, bob, th.ID); !errors.Is(err, bridge.ErrUnknownThread) {
		t.Fatalf("a stranger reads: %v", err)
	}
	if err := f.svc.AddParticipant(ctx, alice, th.ID, bob); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(ctx, alice, th.ID); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if got := f.wechat.inbox("c1"); len(got) != 2 || !strings.HasSuffix(got[1], " left the conversation.") {
		t.Fatalf("consumer received %q", got)
	}
	if n := f.teams.notices(bob); !slices.Contains(n, bridge.NoticeParticipantLeft) {
		t.Fatalf("bob's notices %v", n)
	}
	// The next consumer's thread goes round robin to Bob.
	f.consumerWrites("c2", "m2", "hello")
	if list, _ := f.svc.Threads(ctx, bob); len(list) != 2 {
		t.Fatalf("bob's threads %v", list)
	}
}

func TestServiceTransientSendRetriesWithSameID(t *testing.T) {
	f := newFixture(t)
	alice := f.employee("Alice")
	f.wechat.failNext = errors.New("connection reset")
	f.consumerWrites("c1", "m1", "hi")
	f.drain()
	if got := f.wechat.inbox("c1"); len(got) != 0 {
		t.Fatalf("delivered before the retry: %q", got)
	}
	f.advance(time.Minute) // past the backoff
	f.drain()
	if got := f.wechat.inbox("c1"); len(got) != 1 {
		t.Fatalf("after retry: %q", got)
	}
	_ = alice
}

func TestServiceWindowClosedByWeChat(t *testing.T) {
	f := newFixture(t)
	alice := f.employee("Alice")
	f.consumerWrites("c1", "m1", "hi")
	f.drain()
	th := f.onlyThread(alice)
	f.wechat.failNext = &bridge.SendError{Reason: bridge.FailWindowClosed, Err: errors.New("95002")}
	v, err := f.svc.Send(context.Background(), alice, th.ID, bridge.Content{Text: "one"})
	if err != nil || v.Status != bridge.StatusSending {
		t.Fatalf("%+v %v", v, err)
	}
	f.drain()
	full, _ := f.svc.Thread(context.Background(), alice, th.ID)
	var last bridge.MessageView
	for _, m := range full.Messages {
		if m.From == bridge.FromEmployee {
			last = m
		}
	}
	if last.Text != "one" || last.Status != bridge.StatusQueued {
		t.Fatalf("refused message must be queued again: %+v", last)
	}
	f.consumerWrites("c1", "m2", "back")
	f.drain()
	if got := f.wechat.inbox("c1"); got[len(got)-1] != "one" {
		t.Fatalf("consumer received %q", got)
	}
}

func TestServicePullBatch(t *testing.T) {
	f := newFixture(t)
	alice := f.employee("Alice")
	mk := func(id, text string) bridge.Inbound {
		return bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: id, Account: "kf1", Consumer: "c1", Body: bridge.Content{Text: text}}
	}
	f.wechat.pages = []bridge.PullBatch{
		{Messages: []bridge.Inbound{mk("a", "one"), mk("b", "two")}, Cursor: "c1", More: true},
		{Messages: []bridge.Inbound{mk("b", "two"), mk("c", "three")}, Cursor: "c2"},
	}
	if err := f.svc.PullRequested(context.Background(), "kf1", "tok"); err != nil {
		t.Fatal(err)
	}
	f.drain()
	th, err := f.svc.Thread(context.Background(), alice, f.onlyThread(alice).ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range th.Messages {
		if m.From == bridge.FromConsumer {
			texts = append(texts, m.Text)
		}
	}
	if !slices.Equal(texts, []string{"one", "two", "three"}) {
		t.Fatalf("consumer messages %q", texts)
	}
}

func TestServiceOptIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.employee("Alice")
	id, err := f.svc.RequestOptIn(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"first", "second"} {
		if v, err := f.svc.Send(ctx, alice, id, bridge.Content{Text: s}); err != nil || v.Status != bridge.StatusQueued {
			t.Fatalf("%+v %v", v, err)
		}
	}
	f.drain()
	th, _ := f.svc.Thread(ctx, alice, id)
	if !strings.Contains(th.OptInLink, "scene_param=t"+string(id)) {
		t.Fatalf("opt-in link %q", th.OptInLink)
	}
	if err := f.svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundArrived, WeChatMsgID: "e1", Account: "kf1", Consumer: "c9", SceneParam: "t" + string(id)}}); err != nil {
		t.Fatal(err)
	}
	f.consumerWrites("c9", "m1", "hi, I got your link")
	f.drain()
	got := f.wechat.inbox("c9")
	if len(got) != 3 || got[1] != "first" || got[2] != "second" {
		t.Fatalf("consumer received %q", got)
	}
	if n := f.teams.notices(alice); !slices.Contains(n, bridge.NoticeOptedIn) || !slices.Contains(n, bridge.NoticeOptInSent) {
		t.Fatalf("notices %v", n)
	}
}

func TestServicePullCallbacksCollapse(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		if err := f.svc.PullRequested(context.Background(), "kf1", "tok"); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := f.db.PendingJobs(context.Background(), "pull:")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d pull jobs waiting for five callbacks, want one", len(jobs))
	}
}

type installerDouble struct {
	mu   sync.Mutex
	got  []bridge.EmployeeID
	fail error
}

func (i *installerDouble) InstallApp(_ context.Context, e bridge.Employee) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.fail != nil {
		return i.fail
	}
	i.got = append(i.got, e.ID)
	return nil
}

func TestServiceInstallsTheAppForAddedEmployees(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inst := &installerDouble{}
	f.svc.AttachInstaller(inst)
	e, err := f.svc.AddEmployee(ctx, "tenant", "oid-eve", "Eve")
	if err != nil || !e.Enabled {
		t.Fatal(err)
	}
	f.drain()
	if len(inst.got) != 1 || inst.got[0] != e.ID {
		t.Fatalf("installs %v", inst.got)
	}
	// When Teams reports the install, the same employee gets the conversation.
	got, err := f.svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: "tenant", TeamsUserID: "29:eve", AADObjectID: "oid-eve",
		Conversation: bridge.ConversationRef{ConversationID: "a:eve"}})
	if err != nil || got.ID != e.ID || !got.Enabled {
		t.Fatalf("install matched %+v, %v", got, err)
	}

	// A missing permission is recorded for the admin and not retried.
	frank, _ := f.svc.AddEmployee(ctx, "tenant", "oid-frank", "Frank")
	inst.fail = fmt.Errorf("%w: needs TeamsAppInstallation.ReadWriteSelfForUser.All", bridge.ErrNeedsAdmin)
	f.drain()
	after, _ := f.svc.Employee(ctx, frank.ID)
	if !after.Blocked || !strings.Contains(after.BlockedReason, "TeamsAppInstallation") {
		t.Fatalf("the admin is not told: %+v", after)
	}
}

// A page larger than one apply job's chunk is applied whole, in order, once;
// pulled again (WeChat repeating a page, or a crash after some chunks were
// applied), it adds nothing.
func TestServicePullLargePageAppliedOnce(t *testing.T) {
	f := newFixture(t)
	alice := f.employee("Alice")
	var page []bridge.Inbound
	for i := range 250 {
		c := bridge.ConsumerID(fmt.Sprintf("c%02d", i%25))
		page = append(page, bridge.Inbound{Kind: bridge.InboundMessage, WeChatMsgID: fmt.Sprintf("m%03d", i),
			Account: "kf1", Consumer: c, Body: bridge.Content{Text: fmt.Sprintf("%s says %d", c, i)}})
	}
	for range 2 {
		f.wechat.pages = []bridge.PullBatch{{Messages: page, Cursor: "after"}}
		if err := f.svc.PullRequested(context.Background(), "kf1", "tok"); err != nil {
			t.Fatal(err)
		}
		f.drain()
	}
	threads, err := f.svc.Threads(context.Background(), alice)
	if err != nil || len(threads) != 25 {
		t.Fatalf("threads %d, %v; want one per consumer", len(threads), err)
	}
	for _, sum := range threads {
		th, err := f.svc.Thread(context.Background(), alice, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, m := range th.Messages {
			if m.From == bridge.FromConsumer {
				got = append(got, m.Text)
			}
		}
		if len(got) == 0 {
			t.Fatalf("thread %s has no consumer message", th.ID)
		}
		c := bridge.ConsumerID(strings.Fields(got[0])[0])
		for _, in := range page {
			if in.Consumer == c {
				want = append(want, in.Body.Text)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("thread of %s has %q, want %q", c, got, want)
		}
		if w := f.wechat.inbox(c); len(w) != 1 {
			t.Fatalf("%s received %q, want one welcome", c, w)
		}
	}
}
