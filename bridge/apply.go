package bridge

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Apply is the thread policy: it returns the thread after ev happened at now, and
// the actions that must follow. It is pure: the same inputs give the same outputs,
// and t is not modified. When it returns an error the event is rejected and
// nothing changes.
func Apply(p Policy, t Thread, ev Event, now time.Time) (Thread, []Action, error) {
	a := applier{p: p, t: t.clone(), now: now}
	var err error
	switch e := ev.(type) {
	case ConsumerMessage:
		err = a.consumerMessage(e)
	case ConsumerArrivedViaOptIn:
		a.consumerArrived(e)
	case EmployeeSend:
		err = a.employeeSend(e)
	case EmployeeLeave:
		err = a.removeParticipant(e.Employee, e.Employee)
	case ParticipantRemoved:
		err = a.removeParticipant(e.Employee, e.By)
	case ParticipantAdded:
		err = a.participantAdded(e)
	case OptInRequested:
		err = a.optInRequested(e)
	case TimerFired:
		a.timerFired(e)
	case SendSucceeded:
		a.sendSucceeded(e)
	case SendFailed:
		a.sendFailed(e)
	default:
		err = fmt.Errorf("bridge: unknown event %T", ev)
	}
	if err != nil {
		return t, nil, err
	}
	return a.t, a.out, nil
}

// IsLeaveCommand reports whether a consumer's text is the #LEAVE command.
func IsLeaveCommand(text string) bool {
	return strings.EqualFold(strings.TrimSpace(text), "#LEAVE")
}

type applier struct {
	p   Policy
	t   Thread
	now time.Time
	out []Action
}

func (a *applier) emit(x ...Action) { a.out = append(a.out, x...) }

func (a *applier) nextID() (MessageID, int64) {
	a.t.Seq++
	return MessageIDFor(a.t.ID, a.t.Seq), a.t.Seq
}

func (a *applier) notify(to []EmployeeID, n NoticeKind, params NoticeParams) {
	if len(to) == 0 {
		return
	}
	a.emit(NotifyEmployees{To: slices.Clone(to), Notice: n, Params: params})
}

func (a *applier) notifyAll(n NoticeKind, params NoticeParams) { a.notify(a.t.Participants, n, params) }

func (a *applier) windowOpen() bool { return a.t.windowOpen(a.p, a.now) }

// canSendEmployee: an employee message may go out now. It keeps Policy.Reserve
// sends free for the notices the consumer must get.
func (a *applier) canSendEmployee() bool {
	return a.t.Status == StatusActive && a.windowOpen() &&
		a.t.Streak < a.p.EmployeeLimit && a.t.Sends < a.p.employeeSends()
}

// canSendNotice: a notice to the consumer may go out now; notices may use the reserve.
func (a *applier) canSendNotice() bool {
	return a.windowOpen() && a.t.Sends < a.p.SendsPerWindow
}

// noticeToConsumer records and sends a notice if a send is left; otherwise the
// consumer cannot be told (WeChat would refuse), and nothing is recorded.
func (a *applier) noticeToConsumer(n NoticeKind, params NoticeParams) bool {
	if !a.canSendNotice() {
		return false
	}
	id, seq := a.nextID()
	a.t.Sends++
	a.t.InFlightNotices = append(a.t.InFlightNotices, id)
	a.emit(RecordMessage{Message: id, Seq: seq, From: FromSystem, Notice: n, Params: params, Status: StatusSending},
		SendToConsumer{Message: id, NotAfter: a.t.WindowEnd(a.p)})
	return true
}

// dispatch hands an employee message to WeChat.
func (a *applier) dispatch(m Pending) {
	a.t.Sends++
	a.t.Streak++
	a.t.InFlight = append(a.t.InFlight, m)
	a.emit(SetStatus{Message: m.ID, Author: m.Author, Status: StatusSending},
		SendToConsumer{Message: m.ID, NotAfter: a.t.WindowEnd(a.p)})
	if a.t.Streak == a.p.EmployeeLimit {
		a.notifyAll(NoticeLimitReached, NoticeParams{})
	}
}

// enqueue puts m in the queue in sequence order, so a message that comes back
// from WeChat keeps its place ahead of later ones.
func (a *applier) enqueue(m Pending) {
	i, _ := slices.BinarySearchFunc(a.t.Queue, m.Seq, func(q Pending, seq int64) int { return int(q.Seq - seq) })
	a.t.Queue = slices.Insert(a.t.Queue, i, m)
	a.emitQueuePositions(i)
}

func (a *applier) emitQueuePositions(from int) {
	for i := from; i < len(a.t.Queue); i++ {
		a.emit(SetStatus{Message: a.t.Queue[i].ID, Author: a.t.Queue[i].Author, Status: StatusQueued, Position: i + 1})
	}
}

// flush delivers queued messages in order, as many as the rules allow. If some
// remain, the consumer is told that the employee is waiting for them.
func (a *applier) flush() {
	for len(a.t.Queue) > 0 && a.canSendEmployee() {
		m := a.t.Queue[0]
		a.t.Queue = a.t.Queue[1:]
		a.dispatch(m)
	}
	if len(a.t.Queue) > 0 {
		a.emitQueuePositions(0)
		a.onHold()
	}
}

// onHold tells the consumer, once per window, that the employee cannot send more.
func (a *applier) onHold() {
	if a.t.Status == StatusActive && !a.t.OnHoldNoticeSent && a.noticeToConsumer(NoticeConsumerOnHold, NoticeParams{}) {
		a.t.OnHoldNoticeSent = true
	}
}

func (a *applier) goInactive() {
	if a.t.Status == StatusActive {
		a.t.Status = StatusInactive
		a.notifyAll(NoticeInactive, NoticeParams{})
	}
}

// dropQueue marks every queued message as not queued, for reason.
func (a *applier) dropQueue(reason string) {
	for _, m := range a.t.Queue {
		a.emit(SetStatus{Message: m.ID, Author: m.Author, Status: StatusNotQueued, Reason: reason})
	}
	a.t.Queue = nil
}

func (a *applier) consumerMessage(e ConsumerMessage) error {
	if a.t.Consumer == "" {
		a.t.Consumer = e.Consumer
	}
	id, seq := a.nextID()
	a.emit(RecordMessage{Message: id, Seq: seq, From: FromConsumer, Body: e.Body, Status: StatusReceived})

	prev := a.t.Status
	// Any consumer message reopens WeChat's window, #LEAVE included, from the time
	// WeChat says it was sent (a late pull must not lengthen the window). A message
	// pulled after a newer one does not move the window back. Sends still in flight
	// may reach WeChat after this message, where they count: keep them counted.
	at := e.SentAt
	if at.IsZero() || at.After(a.now) {
		at = a.now
	}
	if at.Before(a.t.LastConsumerAt) {
		at = a.t.LastConsumerAt
	}
	a.t.LastConsumerAt = at
	a.t.Sends, a.t.Streak = len(a.t.InFlight)+len(a.t.InFlightNotices), 0
	a.t.OnHoldNoticeSent, a.t.ParticipantsChanged = false, false

	if len(a.t.Participants) == 0 && e.Assign != "" && !IsLeaveCommand(e.Body.Text) {
		a.t.Participants = []EmployeeID{e.Assign}
		prev = StatusNew // routed afresh: both sides get the initial messages
	}
	if len(a.t.Participants) == 0 {
		// Nobody to route to: the message is kept and shown once someone joins.
		a.t.Status = StatusUnrouted
		a.emit(CancelTimers{})
		return nil
	}
	a.emit(ShowToEmployees{Message: id, To: slices.Clone(a.t.Participants)})

	if IsLeaveCommand(e.Body.Text) {
		if prev == StatusClosed {
			return nil
		}
		a.t.Status = StatusClosed
		a.emit(CancelTimers{})
		a.dropQueue(ReasonContactLeft)
		a.notifyAll(NoticeContactLeft, NoticeParams{})
		a.noticeToConsumer(NoticeConsumerLeft, NoticeParams{})
		return nil
	}

	a.t.Status = StatusActive
	// Timers that are overdue already (a late pull) fire at once, in this order.
	a.emit(CancelTimers{},
		ScheduleTimer{Timer: Timer24h, At: at.Add(a.p.ReminderAfter), For: at},
		ScheduleTimer{Timer: Timer48h, At: at.Add(a.p.Window), For: at})
	switch prev {
	case StatusNew, StatusUnrouted:
		a.noticeToConsumer(NoticeConsumerWelcome, NoticeParams{})
		a.notifyAll(NoticeEmployeeWelcome, NoticeParams{})
	case StatusAwaitingOptIn:
		a.noticeToConsumer(NoticeConsumerWelcome, NoticeParams{})
		a.notifyAll(NoticeOptedIn, NoticeParams{})
	case StatusClosed:
		a.noticeToConsumer(NoticeConsumerWelcome, NoticeParams{})
		a.notifyAll(NoticeContactReturned, NoticeParams{})
	}
	if !a.windowOpen() {
		// Pulled after its window closed: WeChat takes nothing more from us, and
		// the consumer notices above were not sent.
		a.goInactive()
	}
	a.flush()
	return nil
}

func (a *applier) consumerArrived(e ConsumerArrivedViaOptIn) {
	if a.t.Status == StatusAwaitingOptIn && a.t.Consumer == "" {
		a.t.Consumer = e.Consumer
	}
}

func (a *applier) employeeSend(e EmployeeSend) error {
	if a.t.Status == StatusNew {
		return ErrNoThread
	}
	if !a.t.IsParticipant(e.Employee) {
		return ErrNotParticipant
	}
	if e.Body.Text == "" && e.Body.MediaRef == "" {
		return ErrEmptyMessage
	}
	if len(e.Body.Text) > MaxTextBytes {
		return ErrMessageTooLong
	}
	id, seq := a.nextID()
	m := Pending{ID: id, Seq: seq, Author: e.Employee, Body: e.Body}
	rec := RecordMessage{Message: id, Seq: seq, From: FromEmployee, Author: e.Employee, Body: e.Body, Status: StatusQueued}

	if a.t.Status == StatusClosed {
		rec.Status, rec.Reason = StatusNotQueued, ReasonContactLeft
		a.emit(rec)
		a.notify([]EmployeeID{e.Employee}, NoticeNotSentContactLeft, NoticeParams{})
		return nil
	}
	if a.t.Status == StatusActive && !a.windowOpen() {
		// The 48 h timer has not fired yet, but the window is gone.
		a.goInactive()
	}
	if len(a.t.Queue) == 0 && a.canSendEmployee() {
		a.emit(rec)
		a.dispatch(m)
		return nil
	}
	if len(a.t.Queue) >= a.p.QueueLimit {
		rec.Status, rec.Reason = StatusNotQueued, ReasonQueueFull
		a.emit(rec)
		a.notify([]EmployeeID{e.Employee}, NoticeNotQueued, NoticeParams{})
		return nil
	}
	a.emit(rec)
	a.enqueue(m)
	a.onHold()
	return nil
}

func (a *applier) participantAdded(e ParticipantAdded) error {
	if a.t.Status == StatusNew {
		return ErrNoThread
	}
	if e.By != "" && !a.t.IsParticipant(e.By) {
		return ErrNotParticipant
	}
	if a.t.IsParticipant(e.Employee) {
		return ErrAlreadyParticipant
	}
	if len(a.t.Participants) >= a.p.MaxParticipants {
		return ErrTooManyParticipants
	}
	a.t.Participants = append(a.t.Participants, e.Employee)
	a.t.ParticipantsChanged = true
	if a.t.Status == StatusUnrouted {
		a.t.Status = StatusInactive
		if a.windowOpen() {
			a.t.Status = StatusActive
		}
	}
	a.notifyAll(NoticeParticipantAdded, NoticeParams{Employee: e.Employee})
	return nil
}

// removeParticipant handles leaving (by == who) and removal by a colleague.
func (a *applier) removeParticipant(who, by EmployeeID) error {
	if !a.t.IsParticipant(who) || !a.t.IsParticipant(by) {
		return ErrNotParticipant
	}
	a.t.Participants = slices.DeleteFunc(a.t.Participants, func(e EmployeeID) bool { return e == who })
	a.t.ParticipantsChanged = true
	if who == by {
		a.notify([]EmployeeID{who}, NoticeYouLeft, NoticeParams{})
		a.notifyAll(NoticeParticipantLeft, NoticeParams{Employee: who})
	} else {
		a.notify([]EmployeeID{who}, NoticeYouWereRemoved, NoticeParams{Employee: by})
		a.notifyAll(NoticeParticipantRemoved, NoticeParams{Employee: who})
	}
	if a.t.Status == StatusActive {
		a.noticeToConsumer(NoticeConsumerEmployeeLeft, NoticeParams{Employee: who})
	}
	if len(a.t.Participants) == 0 {
		a.dropQueue(ReasonNobodyLeft)
		a.t.Status = StatusUnrouted
		a.emit(CancelTimers{}, EndSession{})
	}
	return nil
}

func (a *applier) optInRequested(e OptInRequested) error {
	if a.t.Status != StatusNew {
		return ErrThreadExists
	}
	a.t.Status = StatusAwaitingOptIn
	a.t.Participants = []EmployeeID{e.Employee}
	a.emit(CreateOptInLink{Employee: e.Employee})
	a.notifyAll(NoticeOptInSent, NoticeParams{})
	return nil
}

func (a *applier) timerFired(e TimerFired) {
	if !e.For.Equal(a.t.LastConsumerAt) || a.t.Status != StatusActive {
		return // scheduled for an earlier window, or nothing left to warn about
	}
	switch e.Timer {
	case Timer24h:
		a.notifyAll(NoticeNoResponse24h, NoticeParams{})
		if a.t.ParticipantsChanged {
			a.noticeToConsumer(NoticeConsumerReminder, NoticeParams{})
		}
	case Timer48h:
		a.goInactive()
	}
}

func (a *applier) takeInFlight(id MessageID) (Pending, bool) {
	i := slices.IndexFunc(a.t.InFlight, func(m Pending) bool { return m.ID == id })
	if i < 0 {
		return Pending{}, false
	}
	m := a.t.InFlight[i]
	a.t.InFlight = slices.Delete(a.t.InFlight, i, i+1)
	return m, true
}

// settleNotice forgets a notice whose send has an outcome.
func (a *applier) settleNotice(id MessageID) {
	a.t.InFlightNotices = slices.DeleteFunc(a.t.InFlightNotices, func(n MessageID) bool { return n == id })
}

func (a *applier) sendSucceeded(e SendSucceeded) {
	m, _ := a.takeInFlight(e.Message)
	a.settleNotice(e.Message)
	a.emit(SetStatus{Message: e.Message, Author: m.Author, Status: StatusSent})
}

func (a *applier) sendFailed(e SendFailed) {
	m, employeeMsg := a.takeInFlight(e.Message)
	a.settleNotice(e.Message)
	if !employeeMsg && !e.SentAt.IsZero() {
		a.lateFailure(e)
		return
	}
	switch e.Reason {
	case FailWindowClosed, FailSessionEnded:
		// WeChat knows better than our clock: no send is possible until the consumer writes.
		a.t.Sends = a.p.SendsPerWindow
		a.goInactive()
	case FailCountUsed:
		a.t.Sends = a.p.SendsPerWindow
	}
	if !employeeMsg {
		a.emit(SetStatus{Message: e.Message, Status: StatusFailed, Reason: string(e.Reason)})
		return
	}
	switch e.Reason {
	case FailWindowClosed, FailSessionEnded, FailCountUsed:
		// Back to the queue in its place: it goes out when the consumer writes.
		// The queue limit does not apply: the message was accepted already.
		a.enqueue(m)
	default:
		a.emit(SetStatus{Message: m.ID, Author: m.Author, Status: StatusFailed, Reason: string(e.Reason)})
		a.notify([]EmployeeID{m.Author}, NoticeDeliveryFailed, NoticeParams{Reason: string(e.Reason)})
	}
}

// lateFailure handles a send WeChat accepted and later reported as failed
// (msg_send_fail). The message ends failed and its author is told; the window is
// closed only if the failure concerns the current one.
func (a *applier) lateFailure(e SendFailed) {
	if !e.SentAt.Before(a.t.LastConsumerAt) {
		switch e.Reason {
		case FailWindowClosed, FailSessionEnded:
			a.t.Sends = a.p.SendsPerWindow
			a.goInactive()
		case FailCountUsed:
			a.t.Sends = a.p.SendsPerWindow
		}
	}
	a.emit(SetStatus{Message: e.Message, Author: e.Author, Status: StatusFailed, Reason: string(e.Reason)})
	if e.Author != "" {
		a.notify([]EmployeeID{e.Author}, NoticeDeliveryFailed, NoticeParams{Reason: string(e.Reason)})
	}
}
