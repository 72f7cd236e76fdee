package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/multiline/multiline/bridge"
)

// memBridge is an in-memory Bridge for the bot's tests only: employees, threads
// with their messages, and card records. Send appends an employee message with
// status sent (or queued when the thread is inactive).
type memBridge struct {
	mu          sync.Mutex
	employees   map[bridge.EmployeeID]*bridge.Employee
	threads     map[bridge.ThreadID]*bridge.ThreadSummary
	members     map[bridge.ThreadID][]bridge.EmployeeID
	cards       []Card
	sent        []bridge.Content
	unreachable []string
	seq         int
	enabled     bool // EmployeeInstalled enables unknown users
	// refuse, if set, is asked by Send (and CanSend) before it accepts a body,
	// as the WeChat side's CanSend is by the bridge.
	refuse func(bridge.Content) error
}

func newMemBridge() *memBridge {
	return &memBridge{employees: map[bridge.EmployeeID]*bridge.Employee{}, threads: map[bridge.ThreadID]*bridge.ThreadSummary{},
		members: map[bridge.ThreadID][]bridge.EmployeeID{}, enabled: true}
}

func (m *memBridge) addEmployee(e bridge.Employee) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.employees[e.ID] = &e
}

func (m *memBridge) addThread(t bridge.ThreadSummary, members ...bridge.EmployeeID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.threads[t.ID] = &t
	m.members[t.ID] = members
}

func (m *memBridge) employee(id bridge.EmployeeID) bridge.Employee {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.employees[id]
}

func (m *memBridge) byUser(tenant, user string) *bridge.Employee {
	for _, e := range m.employees {
		if e.TenantID == tenant && e.TeamsUserID == user {
			return e
		}
	}
	return nil
}

func (m *memBridge) EmployeeInstalled(_ context.Context, in bridge.Installation) (bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byUser(in.TenantID, in.TeamsUserID)
	if e == nil {
		if !m.enabled {
			return bridge.Employee{}, bridge.ErrUnknownEmployee
		}
		e = &bridge.Employee{ID: bridge.EmployeeID("e-" + in.TeamsUserID), TenantID: in.TenantID, TeamsUserID: in.TeamsUserID, Enabled: true}
		m.employees[e.ID] = e
	}
	e.Name, e.Locale, e.Conversation, e.AADObjectID = in.Name, in.Locale, in.Conversation, in.AADObjectID
	return *e, nil
}

func (m *memBridge) EmployeeUninstalled(_ context.Context, tenant, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byUser(tenant, user)
	if e == nil {
		return bridge.ErrUnknownEmployee
	}
	e.Conversation = bridge.ConversationRef{}
	return nil
}

func (m *memBridge) EmployeeByTeamsUser(_ context.Context, tenant, user string) (bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.byUser(tenant, user); e != nil {
		return *e, nil
	}
	return bridge.Employee{}, bridge.ErrUnknownEmployee
}

func (m *memBridge) with(id bridge.EmployeeID, f func(*bridge.Employee)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.employees[id]
	if e == nil {
		return bridge.ErrUnknownEmployee
	}
	f(e)
	return nil
}

func (m *memBridge) EmployeeInteracted(_ context.Context, id bridge.EmployeeID) error {
	return m.with(id, func(e *bridge.Employee) { e.Blocked = false })
}

func (m *memBridge) MarkUnreachable(_ context.Context, id bridge.EmployeeID, reason string) error {
	m.mu.Lock()
	m.unreachable = append(m.unreachable, reason)
	m.mu.Unlock()
	return m.with(id, func(e *bridge.Employee) { e.Blocked = true })
}

func (m *memBridge) UpdateConversation(_ context.Context, id bridge.EmployeeID, ref bridge.ConversationRef) error {
	return m.with(id, func(e *bridge.Employee) { e.Conversation = ref })
}

func (m *memBridge) Threads(_ context.Context, id bridge.EmployeeID) ([]bridge.ThreadSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bridge.ThreadSummary
	for tid, t := range m.threads {
		if slices.Contains(m.members[tid], id) {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b bridge.ThreadSummary) int { return b.LastAt.Compare(a.LastAt) })
	return out, nil
}

func (m *memBridge) Thread(_ context.Context, id bridge.EmployeeID, tid bridge.ThreadID) (bridge.ThreadSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.threads[tid]
	if t == nil || !slices.Contains(m.members[tid], id) {
		return bridge.ThreadSummary{}, bridge.ErrUnknownThread
	}
	return *t, nil
}

func (m *memBridge) Send(_ context.Context, id bridge.EmployeeID, tid bridge.ThreadID, body bridge.Content) (bridge.MessageView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.threads[tid]
	if t == nil {
		return bridge.MessageView{}, bridge.ErrUnknownThread
	}
	if !slices.Contains(m.members[tid], id) {
		return bridge.MessageView{}, bridge.ErrNotParticipant
	}
	if err := m.acceptable(body); err != nil {
		return bridge.MessageView{}, err
	}
	m.seq++
	mv := bridge.MessageView{ID: bridge.MessageID(fmt.Sprintf("%s-e%d", tid, m.seq)), Thread: tid, From: bridge.FromEmployee,
		Text: body.Text, Status: bridge.StatusSent, At: time.Now()}
	if body.MediaKind != "" {
		mv.Media = &bridge.MediaView{Kind: body.MediaKind, FileName: body.FileName, URL: "/tab/media/" + body.MediaRef}
	}
	if t.Status == bridge.StatusInactive {
		t.Queued++
		mv.Status, mv.Position = bridge.StatusQueued, t.Queued
	}
	t.Messages = append(t.Messages, mv)
	m.sent = append(m.sent, body)
	return mv, nil
}

// acceptable is Send's validation of a body (m.mu held).
func (m *memBridge) acceptable(body bridge.Content) error {
	if body.Text == "" && body.MediaKind == "" {
		return bridge.ErrEmptyMessage
	}
	if len(body.Text) > bridge.MaxTextBytes {
		return bridge.ErrMessageTooLong
	}
	if m.refuse != nil {
		return m.refuse(body)
	}
	return nil
}

// checkingBridge is a memBridge that also offers ContentChecker, as
// bridge.Service does.
type checkingBridge struct{ *memBridge }

func (c checkingBridge) CanSend(body bridge.Content) error {
	m := c.memBridge
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse != nil {
		return m.refuse(body)
	}
	return nil
}

// The real service offers what the bot asks before it stores a file.
var _ ContentChecker = (*bridge.Service)(nil)

// memMedia is an in-memory MediaStore.
type memMedia struct {
	mu    sync.Mutex
	items map[string]storedMedia
}

type storedMedia struct {
	company, contentType, fileName string
	data                           []byte
}

func (s *memMedia) PutMedia(_ context.Context, company, contentType, fileName string, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = map[string]storedMedia{}
	}
	ref := fmt.Sprintf("m%d", len(s.items)+1)
	s.items[ref] = storedMedia{company, contentType, fileName, slices.Clone(data)}
	return ref, nil
}

func (s *memMedia) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

func (m *memBridge) Leave(_ context.Context, id bridge.EmployeeID, tid bridge.ThreadID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.members[tid], id) {
		return bridge.ErrNotParticipant
	}
	m.members[tid] = slices.DeleteFunc(m.members[tid], func(x bridge.EmployeeID) bool { return x == id })
	return nil
}

func (m *memBridge) SetFocus(_ context.Context, id bridge.EmployeeID, tid bridge.ThreadID) error {
	return m.with(id, func(e *bridge.Employee) { e.Focus = tid })
}

func (m *memBridge) SaveCard(_ context.Context, c Card) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Messages = slices.Clone(c.Messages)
	m.cards = slices.DeleteFunc(m.cards, func(x Card) bool { return x.Employee == c.Employee && x.ActivityID == c.ActivityID })
	m.cards = append(m.cards, c)
	return nil
}

func (m *memBridge) LastCard(_ context.Context, id bridge.EmployeeID, tid bridge.ThreadID) (Card, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.cards) - 1; i >= 0; i-- {
		if c := m.cards[i]; c.Employee == id && c.Thread == tid {
			return c, true, nil
		}
	}
	return Card{}, false, nil
}

func (m *memBridge) CardForMessage(_ context.Context, id bridge.EmployeeID, mid bridge.MessageID) (Card, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.cards) - 1; i >= 0; i-- {
		if c := m.cards[i]; c.Employee == id && slices.Contains(c.Messages, mid) {
			return c, true, nil
		}
	}
	return Card{}, false, nil
}
