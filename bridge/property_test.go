package bridge

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestMain runs at least 10,000 random sequences per property unless -rapid.checks
// says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "10000")
	}
	os.Exit(m.Run())
}

// world is the model the properties are checked against: one thread, the
// employees, a clock, and what WeChat has been asked to send.
type world struct {
	p   Policy
	th  Thread
	now time.Time

	inFlight []MessageID // handed to WeChat, outcome pending, in lane order
	status   map[MessageID]MessageStatus
	reason   map[MessageID]string
	employee map[MessageID]bool // employee messages (not notices)
	notified map[MessageID]bool // the author was told about a not-queued/failed message

	lastConsumer  time.Time
	windowSends   int // sends decided since the last consumer message
	windowEmpSend int // employee sends decided since the last consumer message
	lastSentSeq   int64
	seqOf         map[MessageID]int64
}

var staff = []EmployeeID{"alice", "bob", "carol", "dave", "erin", "frank"}

func (w *world) apply(t *rapid.T, ev Event) {
	th, acts, err := Apply(w.p, w.th, ev, w.now)
	if err != nil {
		if !reflect.DeepEqual(th, w.th) {
			t.Fatalf("%T rejected (%v) but the state changed", ev, err)
		}
		return
	}
	if _, ok := ev.(ConsumerMessage); ok {
		// Sends still in flight land after this message, where WeChat counts them.
		w.lastConsumer, w.windowSends, w.windowEmpSend = w.now, len(w.inFlight), 0
	}
	var recordedNow []RecordMessage
	for _, a := range acts {
		switch a := a.(type) {
		case RecordMessage:
			if _, dup := w.status[a.Message]; dup {
				t.Fatalf("message id %s recorded twice", a.Message)
			}
			w.status[a.Message], w.reason[a.Message] = a.Status, a.Reason
			w.seqOf[a.Message] = a.Seq
			if a.From == FromEmployee {
				w.employee[a.Message] = true
			}
			recordedNow = append(recordedNow, a)
		case SetStatus:
			if _, ok := w.status[a.Message]; !ok {
				t.Fatalf("status of unknown message %s", a.Message)
			}
			w.status[a.Message], w.reason[a.Message] = a.Status, a.Reason
		case SendToConsumer:
			w.windowSends++
			if w.employee[a.Message] {
				w.windowEmpSend++
			}
			if w.windowSends > w.p.SendsPerWindow {
				t.Fatalf("%d sends after one consumer message", w.windowSends)
			}
			if w.windowEmpSend > w.p.SendsPerWindow-w.p.Reserve {
				t.Fatalf("employee messages used the reserve: %d", w.windowEmpSend)
			}
			if w.lastConsumer.IsZero() || !w.now.Before(w.lastConsumer.Add(w.p.Window)) {
				t.Fatalf("send at %v, consumer last wrote %v", w.now, w.lastConsumer)
			}
			if !a.NotAfter.Equal(w.lastConsumer.Add(w.p.Window)) {
				t.Fatalf("NotAfter %v", a.NotAfter)
			}
			w.inFlight = append(w.inFlight, a.Message)
		case NotifyEmployees:
			if a.Notice == NoticeNotQueued || a.Notice == NoticeDeliveryFailed || a.Notice == NoticeNotSentContactLeft {
				for _, r := range recordedNow {
					w.notified[r.Message] = true
				}
				for _, id := range w.inFlight {
					w.notified[id] = true
				}
				for id := range w.status {
					if w.status[id] == StatusFailed {
						w.notified[id] = true
					}
				}
			}
		}
	}
	w.th = th
}

// complete resolves the oldest in-flight send the way WeChat would: success, or a
// refusal that, for window/count/session reasons, also refuses every later one.
func (w *world) complete(t *rapid.T) {
	if len(w.inFlight) == 0 {
		return
	}
	outcome := rapid.SampledFrom([]string{"ok", "ok", "ok", string(FailWindowClosed), string(FailCountUsed), string(FailSessionEnded), string(FailTransient), string(FailRejected)}).Draw(t, "outcome")
	id := w.inFlight[0]
	w.inFlight = w.inFlight[1:]
	if outcome == "ok" {
		if w.employee[id] {
			if s := w.seqOf[id]; s < w.lastSentSeq {
				t.Fatalf("order: message %d sent after %d", s, w.lastSentSeq)
			} else {
				w.lastSentSeq = s
			}
		}
		w.apply(t, SendSucceeded{Message: id})
		// A duplicate confirmation (a retried job) changes nothing.
		again, _, _ := Apply(w.p, w.th, SendSucceeded{Message: id}, w.now)
		if !reflect.DeepEqual(again, w.th) {
			t.Fatal("a repeated SendSucceeded changed the thread")
		}
		return
	}
	reason := FailReason(outcome)
	w.apply(t, SendFailed{Message: id, Reason: reason})
	if reason == FailWindowClosed || reason == FailCountUsed || reason == FailSessionEnded {
		rest := w.inFlight
		w.inFlight = nil
		for _, id := range rest {
			w.apply(t, SendFailed{Message: id, Reason: reason})
		}
	}
}

func (w *world) step(t *rapid.T) {
	w.now = w.now.Add(rapid.SampledFrom([]time.Duration{0, time.Second, time.Minute, time.Hour, 12 * time.Hour, 24 * time.Hour, 36*time.Hour + time.Minute}).Draw(t, "wait"))
	someone := rapid.SampledFrom(staff).Draw(t, "employee")
	switch rapid.IntRange(0, 11).Draw(t, "event") {
	case 0, 1:
		body := text("hi")
		if rapid.IntRange(0, 9).Draw(t, "leave?") == 0 {
			body = text(" #leave ")
		}
		assign := EmployeeID("")
		if rapid.Bool().Draw(t, "available") {
			assign = someone
		}
		w.apply(t, ConsumerMessage{Consumer: "c1", Body: body, Assign: assign})
	case 2, 3, 4:
		by := someone
		if len(w.th.Participants) > 0 && rapid.IntRange(0, 4).Draw(t, "stranger?") > 0 {
			by = rapid.SampledFrom(w.th.Participants).Draw(t, "author")
		}
		w.apply(t, EmployeeSend{Employee: by, Body: text(fmt.Sprintf("m%d", w.th.Seq))})
	case 5:
		w.apply(t, EmployeeLeave{Employee: someone})
	case 6:
		by := EmployeeID("")
		if len(w.th.Participants) > 0 {
			by = rapid.SampledFrom(w.th.Participants).Draw(t, "by")
		}
		w.apply(t, ParticipantAdded{Employee: someone, By: by})
	case 7:
		w.apply(t, OptInRequested{Employee: someone})
		w.apply(t, ConsumerArrivedViaOptIn{Consumer: "c1"})
	case 8:
		kind := rapid.SampledFrom([]TimerKind{Timer24h, Timer48h}).Draw(t, "timer")
		w.apply(t, TimerFired{Timer: kind, For: w.th.LastConsumerAt})
	case 9, 10, 11:
		w.complete(t)
	}
}

// check asserts that no message is lost: each employee message is sent, sending,
// queued (and in the queue, in order), or not queued / failed with a reason and a notice.
func (w *world) check(t *rapid.T) {
	queued := map[MessageID]bool{}
	for i, m := range w.th.Queue {
		queued[m.ID] = true
		if i > 0 && w.th.Queue[i-1].Seq >= m.Seq {
			t.Fatalf("queue out of order: %v", ids(w.th.Queue))
		}
	}
	for id := range w.employee {
		switch s := w.status[id]; s {
		case StatusQueued:
			if !queued[id] {
				t.Fatalf("%s says queued but is not in the queue", id)
			}
		case StatusSending:
			if !slices.ContainsFunc(w.th.InFlight, func(p Pending) bool { return p.ID == id }) {
				t.Fatalf("%s says sending but is not in flight", id)
			}
		case StatusSent:
		case StatusNotQueued, StatusFailed:
			if w.reason[id] == "" {
				t.Fatalf("%s is %s without a reason", id, s)
			}
			if !w.notified[id] && w.reason[id] != ReasonNobodyLeft && w.reason[id] != ReasonContactLeft {
				t.Fatalf("%s is %s (%s) and nobody was told", id, s, w.reason[id])
			}
		default:
			t.Fatalf("%s has status %q", id, s)
		}
	}
	if len(w.th.Participants) > w.p.MaxParticipants {
		t.Fatalf("%d participants", len(w.th.Participants))
	}
	if w.th.Sends > w.p.SendsPerWindow {
		t.Fatalf("sends %d", w.th.Sends)
	}
}

func TestPolicyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		p.QueueLimit = rapid.IntRange(0, 6).Draw(t, "queue_limit")
		p.EmployeeLimit = rapid.IntRange(1, 5).Draw(t, "employee_limit")
		p.Reserve = rapid.IntRange(0, 2).Draw(t, "reserve")
		w := &world{
			p: p, th: Thread{ID: "T"}, now: t0,
			status: map[MessageID]MessageStatus{}, reason: map[MessageID]string{},
			employee: map[MessageID]bool{}, notified: map[MessageID]bool{}, seqOf: map[MessageID]int64{},
		}
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			w.step(t)
			w.check(t)
		}
	})
}
