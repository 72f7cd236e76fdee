package bridge

import (
	"slices"
	"testing"
	"time"
)

// WeChat's clock, not ours: the window and the timers run from the consumer's
// send_time, however late the message was pulled.
func TestWindowRunsFromWeChatSendTime(t *testing.T) {
	cases := []struct {
		name        string
		age         time.Duration // how old the message is when pulled
		wantStatus  Status
		wantWelcome bool
	}{
		{"pulled at once", 0, StatusActive, true},
		{"pulled 30 h late", 30 * time.Hour, StatusActive, true},
		{"pulled 49 h late", 49 * time.Hour, StatusInactive, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRun(t).at(c.age)
			sent := t0
			acts := r.do(ConsumerMessage{Consumer: "c1", Body: text("hi"), Assign: "alice", SentAt: sent})
			if r.th.Status != c.wantStatus || !r.th.LastConsumerAt.Equal(sent) {
				t.Fatalf("status %s, last consumer at %v; want %s, %v", r.th.Status, r.th.LastConsumerAt, c.wantStatus, sent)
			}
			if got := slices.Contains(consumerNotices(acts), NoticeConsumerWelcome); got != c.wantWelcome {
				t.Errorf("welcome sent %v, want %v", got, c.wantWelcome)
			}
			var timers []ScheduleTimer
			cancelled := false
			for _, a := range acts {
				switch a := a.(type) {
				case CancelTimers:
					cancelled = len(timers) == 0
				case ScheduleTimer:
					timers = append(timers, a)
				case SendToConsumer:
					if !a.NotAfter.Equal(sent.Add(48 * time.Hour)) {
						t.Errorf("send not after %v, want 48 h after send_time", a.NotAfter)
					}
				}
			}
			if !cancelled || len(timers) != 2 || timers[0].Timer != Timer24h || !timers[0].At.Equal(sent.Add(24*time.Hour)) ||
				!timers[1].At.Equal(sent.Add(48*time.Hour)) {
				t.Errorf("timers %+v (cancelled first: %v), want 24 h then 48 h after send_time", timers, cancelled)
			}
			if c.age >= 48*time.Hour {
				if got := r.send("alice", "late reply"); len(sentEmployeeMessages(got)) != 0 {
					t.Error("a reply after the window must queue, not send")
				}
			}
		})
	}
}

// An overdue 24 h timer fires at once and warns the employee; the consumer gets
// nothing after 48 h.
func TestOverdueTimersAfterALatePull(t *testing.T) {
	r := newRun(t).at(30 * time.Hour)
	r.do(ConsumerMessage{Consumer: "c1", Body: text("hi"), Assign: "alice", SentAt: t0})
	acts := r.do(TimerFired{Timer: Timer24h, For: t0})
	if got := employeeNotices(acts)[NoticeNoResponse24h]; !slices.Equal(got, []EmployeeID{"alice"}) {
		t.Fatalf("24 h notice to %v", got)
	}
	acts = r.at(48 * time.Hour).do(TimerFired{Timer: Timer48h, For: t0})
	if r.th.Status != StatusInactive || len(consumerNotices(acts)) != 0 {
		t.Fatalf("after 48 h: %s, consumer notices %v", r.th.Status, consumerNotices(acts))
	}
}

// A message pulled after a newer one does not move the window back, and a
// send_time ahead of our clock counts as now.
func TestSendTimeNeverMovesTheWindowBack(t *testing.T) {
	r := newRun(t).at(time.Hour)
	r.do(ConsumerMessage{Consumer: "c1", Body: text("newer"), Assign: "alice", SentAt: t0.Add(50 * time.Minute)})
	r.do(ConsumerMessage{Consumer: "c1", Body: text("older"), SentAt: t0.Add(10 * time.Minute)})
	if !r.th.LastConsumerAt.Equal(t0.Add(50 * time.Minute)) {
		t.Errorf("window start %v", r.th.LastConsumerAt)
	}
	r.at(2 * time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("skewed"), SentAt: t0.Add(5 * time.Hour)})
	if !r.th.LastConsumerAt.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("future send_time: window start %v, want now", r.th.LastConsumerAt)
	}
}

// A msg_send_fail that WeChat reports late for a send of an earlier window marks
// that message failed and tells its author, but leaves the current window open.
func TestLateSendFailure(t *testing.T) {
	cases := []struct {
		name       string
		sentAt     time.Duration
		wantStatus Status
		closes     bool // the window's sends are used up
	}{
		{"earlier window", 10 * time.Minute, StatusActive, false},
		{"current window", 3 * time.Hour, StatusInactive, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRun(t).start()
			sent := sentEmployeeMessages(r.at(5*time.Minute).send("alice", "hello"))[0]
			r.at(10 * time.Minute).do(SendSucceeded{Message: sent})
			r.at(2 * time.Hour).do(ConsumerMessage{Consumer: "c1", Body: text("again")})
			sends := r.th.Sends
			acts := r.at(4 * time.Hour).do(SendFailed{Message: sent, Reason: FailWindowClosed, SentAt: t0.Add(c.sentAt), Author: "alice"})
			want := sends
			if c.closes {
				want = DefaultPolicy().SendsPerWindow
			}
			if r.th.Status != c.wantStatus || r.th.Sends != want {
				t.Errorf("status %s sends %d, want %s %d", r.th.Status, r.th.Sends, c.wantStatus, want)
			}
			failed := false
			for _, a := range acts {
				if s, ok := a.(SetStatus); ok && s.Message == sent && s.Status == StatusFailed && s.Author == "alice" {
					failed = true
				}
			}
			if !failed || !slices.Equal(employeeNotices(acts)[NoticeDeliveryFailed], []EmployeeID{"alice"}) {
				t.Errorf("the message must end failed and its author be told: %v", acts)
			}
		})
	}
}
