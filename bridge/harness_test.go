package bridge

import (
	"testing"
	"time"
)

// run drives a thread through events, the way the service does, and keeps what
// each side was sent. It completes every send at once unless told otherwise.
type run struct {
	t      *testing.T
	p      Policy
	th     Thread
	now    time.Time
	last   []Action
	autoOK bool // confirm sends as they are dispatched
}

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func newRun(t *testing.T) *run {
	return &run{t: t, p: DefaultPolicy(), th: Thread{ID: "th1"}, now: t0, autoOK: true}
}

func (r *run) at(d time.Duration) *run { r.now = t0.Add(d); return r }

// do applies ev and fails the test on error.
func (r *run) do(ev Event) []Action {
	r.t.Helper()
	acts, err := r.try(ev)
	if err != nil {
		r.t.Fatalf("%T: %v", ev, err)
	}
	return acts
}

func (r *run) try(ev Event) ([]Action, error) {
	th, acts, err := Apply(r.p, r.th, ev, r.now)
	if err != nil {
		return nil, err
	}
	r.th, r.last = th, acts
	if r.autoOK {
		all := acts
		for _, a := range acts {
			if s, ok := a.(SendToConsumer); ok {
				th, more, err := Apply(r.p, r.th, SendSucceeded{Message: s.Message}, r.now)
				if err != nil {
					r.t.Fatalf("SendSucceeded: %v", err)
				}
				r.th = th
				all = append(all, more...)
			}
		}
		r.last = all
	}
	return r.last, nil
}

// consumerNotices lists the notices sent to the consumer in acts.
func consumerNotices(acts []Action) []NoticeKind {
	var out []NoticeKind
	for _, a := range acts {
		if m, ok := a.(RecordMessage); ok && m.From == FromSystem {
			out = append(out, m.Notice)
		}
	}
	return out
}

// employeeNotices lists (notice → recipients) in acts.
func employeeNotices(acts []Action) map[NoticeKind][]EmployeeID {
	out := map[NoticeKind][]EmployeeID{}
	for _, a := range acts {
		if n, ok := a.(NotifyEmployees); ok {
			out[n.Notice] = append(out[n.Notice], n.To...)
		}
	}
	return out
}

// sentEmployeeMessages lists employee message IDs dispatched in acts, in order.
func sentEmployeeMessages(acts []Action) []MessageID {
	var out []MessageID
	for _, a := range acts {
		if s, ok := a.(SetStatus); ok && s.Status == StatusSending {
			out = append(out, s.Message)
		}
	}
	return out
}

func recordOf(acts []Action, from Party) (RecordMessage, bool) {
	for _, a := range acts {
		if m, ok := a.(RecordMessage); ok && m.From == from {
			return m, true
		}
	}
	return RecordMessage{}, false
}

func text(s string) Content { return Content{Text: s} }

// start routes a first consumer message to alice.
func (r *run) start() *run {
	r.do(ConsumerMessage{Consumer: "c1", Body: text("hello"), Assign: "alice"})
	return r
}

func (r *run) send(e EmployeeID, s string) []Action {
	r.t.Helper()
	return r.do(EmployeeSend{Employee: e, Body: text(s)})
}
