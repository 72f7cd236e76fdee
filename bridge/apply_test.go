package bridge

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// Each test below is one row of the design's thread policy table or one scenario
// of the user guide.

func TestFirstConsumerMessage(t *testing.T) {
	r := newRun(t)
	acts := r.do(ConsumerMessage{Consumer: "c1", Body: text("hi"), Assign: "alice"})
	if got := consumerNotices(acts); !slices.Equal(got, []NoticeKind{NoticeConsumerWelcome}) {
		t.Errorf("consumer got %v, want the initial auto message", got)
	}
	if got := employeeNotices(acts)[NoticeEmployeeWelcome]; !slices.Equal(got, []EmployeeID{"alice"}) {
		t.Errorf("employee welcome went to %v", got)
	}
	if r.th.Status != StatusActive || r.th.Sends != 1 || !r.th.LastConsumerAt.Equal(t0) {
		t.Errorf("state = %+v", r.th)
	}
	var show ShowToEmployees
	var timers []TimerKind
	for _, a := range acts {
		switch a := a.(type) {
		case ShowToEmployees:
			show = a
		case ScheduleTimer:
			timers = append(timers, a.Timer)
			if !a.For.Equal(t0) {
				t.Errorf("timer for %v", a.For)
			}
		}
	}
	if !slices.Equal(show.To, []EmployeeID{"alice"}) {
		t.Errorf("consumer message shown to %v", show.To)
	}
	if !slices.Equal(timers, []TimerKind{Timer24h, Timer48h}) {
		t.Errorf("timers %v", timers)
	}
}

func TestNobodyToRouteTo(t *testing.T) {
	r := newRun(t)
	acts := r.do(ConsumerMessage{Consumer: "c1", Body: text("hi")})
	if r.th.Status != StatusUnrouted || len(consumerNotices(acts)) != 0 {
		t.Fatalf("status %s, notices %v", r.th.Status, consumerNotices(acts))
	}
	if m, ok := recordOf(acts, FromConsumer); !ok || m.Status != StatusReceived {
		t.Fatal("the consumer's message must be kept")
	}
	// The next message, once someone is available, routes the thread.
	acts = r.at(time.Minute).do(ConsumerMessage{Consumer: "c1", Body: text("anyone?"), Assign: "bob"})
	if !slices.Equal(consumerNotices(acts), []NoticeKind{NoticeConsumerWelcome}) || !r.th.IsParticipant("bob") {
		t.Fatalf("not routed: %+v", r.th)
	}
}

func TestEmployeeSendsWhileActive(t *testing.T) {
	r := newRun(t).start()
	for i, want := range []struct {
		limitNotice bool
	}{{false}, {false}, {true}} {
		acts := r.at(time.Duration(i+1)*time.Minute).send("alice", "msg")
		if n := len(sentEmployeeMessages(acts)); n != 1 {
			t.Fatalf("message %d: sent %d", i+1, n)
		}
		_, got := employeeNotices(acts)[NoticeLimitReached]
		if got != want.limitNotice {
			t.Errorf("message %d: limit notice %v, want %v", i+1, got, want.limitNotice)
		}
		if len(consumerNotices(acts)) != 0 {
			t.Errorf("message %d: the consumer gets nothing, got %v", i+1, consumerNotices(acts))
		}
	}
	if r.th.Sends != 4 || r.th.Streak != 3 {
		t.Errorf("sends %d streak %d", r.th.Sends, r.th.Streak)
	}
}

func TestEmployeeSendsAfterLimit(t *testing.T) {
	r := newRun(t).start()
	for range 3 {
		r.send("alice", "x")
	}
	acts := r.send("alice", "fourth")
	if len(sentEmployeeMessages(acts)) != 0 || len(r.th.Queue) != 1 {
		t.Fatalf("fourth message must queue: %+v", r.th.Queue)
	}
	if got := consumerNotices(acts); !slices.Equal(got, []NoticeKind{NoticeConsumerOnHold}) {
		t.Errorf("first queued message: consumer got %v", got)
	}
	acts = r.send("alice", "fifth")
	if len(consumerNotices(acts)) != 0 {
		t.Errorf("second queued message: consumer told again: %v", consumerNotices(acts))
	}
	if r.th.Sends != 5 {
		t.Errorf("sends %d: the reserve slot carried the on-hold notice", r.th.Sends)
	}
	var pos []int
	for _, a := range acts {
		if s, ok := a.(SetStatus); ok && s.Status == StatusQueued {
			pos = append(pos, s.Position)
		}
	}
	if !slices.Equal(pos, []int{2}) {
		t.Errorf("queue positions %v", pos)
	}
}

func TestQueueFull(t *testing.T) {
	r := newRun(t).start()
	for range 3 + r.p.QueueLimit {
		r.send("alice", "x")
	}
	acts := r.send("alice", "one too many")
	m, ok := recordOf(acts, FromEmployee)
	if !ok || m.Status != StatusNotQueued || m.Reason != ReasonQueueFull {
		t.Fatalf("record %+v: the message is kept and marked not queued", m)
	}
	if got := employeeNotices(acts)[NoticeNotQueued]; !slices.Equal(got, []EmployeeID{"alice"}) {
		t.Errorf("not-queued notice to %v", got)
	}
	if len(r.th.Queue) != r.p.QueueLimit {
		t.Errorf("queue %d", len(r.th.Queue))
	}
}

func TestConsumerReplyFlushesQueueInOrder(t *testing.T) {
	r := newRun(t).start()
	for range 3 {
		r.send("alice", "x")
	}
	var queued []MessageID
	for range 5 {
		r.send("alice", "q")
		queued = append(queued, r.th.Queue[len(r.th.Queue)-1].ID)
	}
	acts := r.at(time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("back")})
	if got := sentEmployeeMessages(acts); !slices.Equal(got, queued[:3]) {
		t.Fatalf("flushed %v, want the first three in order %v", got, queued[:3])
	}
	if !slices.Equal(ids(r.th.Queue), queued[3:]) {
		t.Errorf("still queued %v", ids(r.th.Queue))
	}
	if got := consumerNotices(acts); !slices.Equal(got, []NoticeKind{NoticeConsumerOnHold}) {
		t.Errorf("with messages left, the consumer is told: %v", got)
	}
	if _, ok := employeeNotices(acts)[NoticeLimitReached]; !ok {
		t.Error("flushing to the limit tells the employee")
	}
}

func ids(ps []Pending) []MessageID {
	var out []MessageID
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestReminderAt24h(t *testing.T) {
	t.Run("no participant change", func(t *testing.T) {
		r := newRun(t).start()
		acts := r.at(24 * time.Hour).do(TimerFired{Timer: Timer24h, For: t0})
		if got := employeeNotices(acts)[NoticeNoResponse24h]; !slices.Equal(got, []EmployeeID{"alice"}) {
			t.Errorf("24h notice to %v", got)
		}
		if len(consumerNotices(acts)) != 0 {
			t.Errorf("consumer got %v", consumerNotices(acts))
		}
	})
	t.Run("users added or removed during the pause", func(t *testing.T) {
		r := newRun(t).start()
		r.at(time.Hour).do(ParticipantAdded{Employee: "bob", By: "alice"})
		acts := r.at(24 * time.Hour).do(TimerFired{Timer: Timer24h, For: t0})
		if got := consumerNotices(acts); !slices.Equal(got, []NoticeKind{NoticeConsumerReminder}) {
			t.Errorf("consumer got %v", got)
		}
		if got := employeeNotices(acts)[NoticeNoResponse24h]; !slices.Equal(got, []EmployeeID{"alice", "bob"}) {
			t.Errorf("24h notice to %v", got)
		}
	})
	t.Run("stale timer from an older window", func(t *testing.T) {
		r := newRun(t).start()
		r.at(time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("again")})
		if acts := r.at(24 * time.Hour).do(TimerFired{Timer: Timer24h, For: t0}); len(acts) != 0 {
			t.Errorf("stale timer acted: %v", acts)
		}
	})
}

func TestInactiveAt48h(t *testing.T) {
	r := newRun(t).start()
	acts := r.at(48 * time.Hour).do(TimerFired{Timer: Timer48h, For: t0})
	if r.th.Status != StatusInactive {
		t.Fatalf("status %s", r.th.Status)
	}
	if got := employeeNotices(acts)[NoticeInactive]; !slices.Equal(got, []EmployeeID{"alice"}) {
		t.Errorf("inactive notice to %v", got)
	}
	acts = r.at(49*time.Hour).send("alice", "later")
	if len(sentEmployeeMessages(acts)) != 0 || len(r.th.Queue) != 1 || len(consumerNotices(acts)) != 0 {
		t.Fatalf("after 48h messages queue and nothing is sent: %v", acts)
	}
	acts = r.at(50 * time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("sorry")})
	if len(sentEmployeeMessages(acts)) != 1 || r.th.Status != StatusActive {
		t.Fatalf("consumer reply delivers the queue: %v", acts)
	}
}

func TestWindowPassedBeforeTimer(t *testing.T) {
	r := newRun(t).start()
	acts := r.at(48*time.Hour+time.Second).send("alice", "late")
	if len(sentEmployeeMessages(acts)) != 0 || r.th.Status != StatusInactive {
		t.Fatalf("no send after 48h, even before the timer fires: %v", acts)
	}
	if acts := r.do(TimerFired{Timer: Timer48h, For: t0}); len(acts) != 0 {
		t.Errorf("the late timer repeats nothing: %v", acts)
	}
}

func TestOptIn(t *testing.T) {
	r := newRun(t)
	acts := r.do(OptInRequested{Employee: "alice"})
	if _, ok := employeeNotices(acts)[NoticeOptInSent]; !ok || r.th.Status != StatusAwaitingOptIn {
		t.Fatalf("opt-in: %v", acts)
	}
	if !slices.ContainsFunc(acts, func(a Action) bool { _, ok := a.(CreateOptInLink); return ok }) {
		t.Error("no opt-in link requested")
	}
	var want []MessageID
	for range 5 {
		r.send("alice", "waiting")
		want = append(want, r.th.Queue[len(r.th.Queue)-1].ID)
	}
	acts = r.send("alice", "sixth")
	if _, ok := employeeNotices(acts)[NoticeNotQueued]; !ok {
		t.Error("the sixth message is not queued, and the employee is told")
	}
	r.do(ConsumerArrivedViaOptIn{Consumer: "c9"})
	acts = r.at(time.Hour).do(ConsumerMessage{Consumer: "c9", Body: text("hi")})
	if _, ok := employeeNotices(acts)[NoticeOptedIn]; !ok {
		t.Error("the employee is told the contact opted in")
	}
	if got := consumerNotices(acts); !slices.Equal(got[:1], []NoticeKind{NoticeConsumerWelcome}) {
		t.Errorf("consumer got %v", got)
	}
	if got := sentEmployeeMessages(acts); !slices.Equal(got, want[:3]) {
		t.Errorf("flushed %v, want %v", got, want[:3])
	}
	if r.th.Consumer != "c9" {
		t.Errorf("consumer %q", r.th.Consumer)
	}
	if _, _, err := Apply(r.p, r.th, OptInRequested{Employee: "bob"}, r.now); !errors.Is(err, ErrThreadExists) {
		t.Errorf("second opt-in on a thread: %v", err)
	}
}

func TestEmployeeLeaves(t *testing.T) {
	r := newRun(t).start()
	r.do(ParticipantAdded{Employee: "bob", By: "alice"})
	acts := r.do(EmployeeLeave{Employee: "alice"})
	n := employeeNotices(acts)
	if !slices.Equal(n[NoticeYouLeft], []EmployeeID{"alice"}) || !slices.Equal(n[NoticeParticipantLeft], []EmployeeID{"bob"}) {
		t.Errorf("notices %v", n)
	}
	if got := consumerNotices(acts); !slices.Equal(got, []NoticeKind{NoticeConsumerEmployeeLeft}) {
		t.Errorf("consumer got %v", got)
	}
	if _, _, err := Apply(r.p, r.th, EmployeeSend{Employee: "alice", Body: text("x")}, r.now); !errors.Is(err, ErrNotParticipant) {
		t.Errorf("a leaver sends: %v", err)
	}
	r.send("bob", "q")
	acts = r.do(EmployeeLeave{Employee: "bob"})
	if r.th.Status != StatusUnrouted || len(r.th.Participants) != 0 {
		t.Fatalf("with nobody left the thread goes back to routing: %+v", r.th)
	}
	if !slices.ContainsFunc(acts, func(a Action) bool { _, ok := a.(EndSession); return ok }) {
		t.Error("the WeChat session is ended")
	}
	acts = r.at(time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("hello?"), Assign: "carol"})
	if !slices.Equal(r.th.Participants, []EmployeeID{"carol"}) || !slices.Equal(consumerNotices(acts), []NoticeKind{NoticeConsumerWelcome}) {
		t.Errorf("re-routed: %+v %v", r.th.Participants, consumerNotices(acts))
	}
}

func TestConsumerLeave(t *testing.T) {
	for _, cmd := range []string{"#LEAVE", " #leave\n", "#Leave"} {
		r := newRun(t).start()
		for range 4 {
			r.send("alice", "x")
		}
		acts := r.at(time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text(cmd)})
		if r.th.Status != StatusClosed {
			t.Fatalf("%q: status %s", cmd, r.th.Status)
		}
		if _, ok := employeeNotices(acts)[NoticeContactLeft]; !ok {
			t.Errorf("%q: employees not told", cmd)
		}
		if len(r.th.Queue) != 0 {
			t.Errorf("%q: queue kept %v", cmd, r.th.Queue)
		}
		acts = r.send("alice", "are you there")
		if m, _ := recordOf(acts, FromEmployee); m.Status != StatusNotQueued || m.Reason != ReasonContactLeft {
			t.Errorf("%q: send to a closed thread: %+v", cmd, m)
		}
		acts = r.at(2 * time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("I'm back")})
		if r.th.Status != StatusActive {
			t.Errorf("%q: a later message reopens: %s", cmd, r.th.Status)
		}
		if _, ok := employeeNotices(acts)[NoticeContactReturned]; !ok {
			t.Errorf("%q: employees not told of the return", cmd)
		}
	}
	if IsLeaveCommand("#LEAVE now") || IsLeaveCommand("leave") {
		t.Error("only the exact command leaves")
	}
}

func TestParticipants(t *testing.T) {
	r := newRun(t).start()
	for _, e := range []EmployeeID{"b", "c", "d", "e"} {
		acts := r.do(ParticipantAdded{Employee: e, By: "alice"})
		if got := employeeNotices(acts)[NoticeParticipantAdded]; len(got) != len(r.th.Participants) {
			t.Errorf("added %s: notice to %v", e, got)
		}
	}
	if _, _, err := Apply(r.p, r.th, ParticipantAdded{Employee: "f", By: "alice"}, r.now); !errors.Is(err, ErrTooManyParticipants) {
		t.Errorf("sixth participant: %v", err)
	}
	if _, _, err := Apply(r.p, r.th, ParticipantAdded{Employee: "b", By: "alice"}, r.now); !errors.Is(err, ErrAlreadyParticipant) {
		t.Errorf("twice: %v", err)
	}
	if _, _, err := Apply(r.p, r.th, ParticipantAdded{Employee: "g", By: "stranger"}, r.now); !errors.Is(err, ErrNotParticipant) {
		t.Errorf("by a stranger: %v", err)
	}
	acts := r.do(ParticipantRemoved{Employee: "b", By: "alice"})
	n := employeeNotices(acts)
	if !slices.Equal(n[NoticeYouWereRemoved], []EmployeeID{"b"}) || len(n[NoticeParticipantRemoved]) != 4 {
		t.Errorf("removal notices %v", n)
	}
}

func TestSendFailures(t *testing.T) {
	t.Run("window closed puts the message back in its place", func(t *testing.T) {
		r := newRun(t).start()
		r.autoOK = false
		first := sentEmployeeMessages(r.send("alice", "one"))[0]
		r.send("alice", "two")
		r.do(SendFailed{Message: first, Reason: FailWindowClosed})
		if r.th.Status != StatusInactive || len(r.th.Queue) != 1 || r.th.Queue[0].ID != first {
			t.Fatalf("state %+v", r.th)
		}
		r.send("alice", "three")
		if r.th.Queue[0].ID != first || len(r.th.Queue) != 2 {
			t.Fatalf("queue order %v", ids(r.th.Queue))
		}
	})
	t.Run("transient after retries marks failed and tells the author", func(t *testing.T) {
		r := newRun(t).start()
		r.autoOK = false
		id := sentEmployeeMessages(r.send("alice", "one"))[0]
		acts := r.do(SendFailed{Message: id, Reason: FailTransient})
		if got := employeeNotices(acts)[NoticeDeliveryFailed]; !slices.Equal(got, []EmployeeID{"alice"}) {
			t.Errorf("notice to %v", got)
		}
		if len(r.th.InFlight) != 0 || len(r.th.Queue) != 0 {
			t.Errorf("state %+v", r.th)
		}
	})
	t.Run("count used stops further sends in the window", func(t *testing.T) {
		r := newRun(t).start()
		r.autoOK = false
		id := sentEmployeeMessages(r.send("alice", "one"))[0]
		r.do(SendFailed{Message: id, Reason: FailCountUsed})
		if acts := r.send("alice", "two"); len(sentEmployeeMessages(acts)) != 0 {
			t.Error("sent after WeChat said the count is used")
		}
	})
}

func TestRejectedInputChangesNothing(t *testing.T) {
	r := newRun(t).start()
	before := r.th.clone()
	for _, ev := range []Event{
		EmployeeSend{Employee: "alice", Body: Content{}},
		EmployeeSend{Employee: "alice", Body: text(string(make([]byte, MaxTextBytes+1)))},
		EmployeeSend{Employee: "mallory", Body: text("x")},
		EmployeeLeave{Employee: "mallory"},
	} {
		th, acts, err := Apply(r.p, r.th, ev, r.now)
		if err == nil || acts != nil || th.Seq != before.Seq || th.Sends != before.Sends {
			t.Errorf("%#v: err %v, acts %v", ev, err, acts)
		}
	}
	if _, _, err := Apply(r.p, Thread{ID: "x"}, EmployeeSend{Employee: "a", Body: text("x")}, r.now); !errors.Is(err, ErrNoThread) {
		t.Errorf("send to no thread: %v", err)
	}
}

func TestApplyDoesNotMutateInput(t *testing.T) {
	r := newRun(t).start()
	r.do(ParticipantAdded{Employee: "bob", By: "alice"})
	for range 4 {
		r.send("alice", "x")
	}
	in := r.th.clone()
	snapshot := in.clone()
	Apply(r.p, in, EmployeeLeave{Employee: "bob"}, r.now)
	Apply(r.p, in, ConsumerMessage{Consumer: "c1", Body: text("x")}, r.now)
	if !slices.Equal(in.Participants, snapshot.Participants) || !slices.Equal(ids(in.Queue), ids(snapshot.Queue)) {
		t.Error("Apply changed its input")
	}
}
