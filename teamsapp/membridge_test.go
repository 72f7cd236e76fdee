package teamsapp

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/multiline/multiline/bridge"
)

// memBridge is an in-memory Bridge that follows the policy's visible outcomes closely
// enough for the tab: sent while the streak is under the limit, then queued up to
// the queue limit, then not queued; participants capped; leaving tells the consumer.
type memBridge struct {
	mu        sync.Mutex
	now       func() time.Time
	company   bridge.Company
	employees []bridge.Employee
	threads   map[bridge.ThreadID]*memThread
	seq       int
	linkErr   error // ContactLinkFor fails with it when set
	// cannotSend lists media kinds the WeChat account refuses (an Official
	// Account sends no files): CanSend and Send refuse them.
	cannotSend   map[string]bool
	canSendCalls int
	lexicon      []bridge.LexiconRule // memlexicon_test.go
}

type memThread struct {
	id           bridge.ThreadID
	consumer     string
	status       bridge.Status
	participants []bridge.EmployeeID
	msgs         []bridge.MessageView
	streak       int
	optInLink    string
	updated      time.Time
	// author is who wrote each employee message, and whom each note is for.
	author map[bridge.MessageID]bridge.EmployeeID
	// read is how many of msgs each employee has seen (their read mark).
	read map[bridge.EmployeeID]int
}

func newMemBridge(now func() time.Time) *memBridge {
	return &memBridge{now: now, company: bridge.Company{ID: "default", Name: "Contoso", TenantID: testTenant, Policy: bridge.DefaultPolicy()},
		threads: map[bridge.ThreadID]*memThread{}}
}

func (m *memBridge) addEmployee(id, name, oid string, enabled bool) bridge.Employee {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := bridge.Employee{ID: bridge.EmployeeID(id), Company: "default", TenantID: testTenant, AADObjectID: oid, Name: name, Enabled: enabled}
	m.employees = append(m.employees, e)
	return e
}

// addThread creates an active thread in which the consumer wrote first.
func (m *memBridge) addThread(id, consumer string, participants ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th := &memThread{id: bridge.ThreadID(id), consumer: consumer, status: bridge.StatusActive, updated: m.now()}
	for _, p := range participants {
		th.participants = append(th.participants, bridge.EmployeeID(p))
	}
	m.threads[th.id] = th
	m.record(th, bridge.MessageView{From: bridge.FromConsumer, Text: "Hello, is anyone there?", Status: bridge.StatusReceived})
	m.record(th, bridge.MessageView{From: bridge.FromSystem, Notice: bridge.NoticeConsumerWelcome, Status: bridge.StatusSent,
		Text: bridge.Render(nil, bridge.NoticeConsumerWelcome, bridge.English, bridge.NoticeParams{}, bridge.Names{})})
}

// consumerWrites is a consumer message: the window reopens and the streak resets.
func (m *memBridge) consumerWrites(id, text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th := m.threads[bridge.ThreadID(id)]
	th.streak, th.status = 0, bridge.StatusActive
	m.record(th, bridge.MessageView{From: bridge.FromConsumer, Text: text, Status: bridge.StatusReceived})
}

func (m *memBridge) addMedia(id, ref, kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th := m.threads[bridge.ThreadID(id)]
	m.record(th, bridge.MessageView{From: bridge.FromConsumer, Status: bridge.StatusReceived,
		Media: &bridge.MediaView{Kind: kind, URL: "/api/v1/media/" + ref}})
}

func (m *memBridge) record(th *memThread, v bridge.MessageView) bridge.MessageView {
	return m.recordBy(th, "", v)
}

// recordBy records a message an employee wrote, or a note for them.
func (m *memBridge) recordBy(th *memThread, by bridge.EmployeeID, v bridge.MessageView) bridge.MessageView {
	m.seq++
	v.ID, v.Thread, v.At = bridge.MessageIDFor(th.id, int64(m.seq)), th.id, m.now()
	if by != "" {
		if th.author == nil {
			th.author = map[bridge.MessageID]bridge.EmployeeID{}
		}
		th.author[v.ID], v.Author = by, by
		if e, err := m.employee(by); err == nil {
			v.AuthorName = e.Name
		}
	}
	th.msgs = append(th.msgs, v)
	th.updated = v.At
	return v
}

// note keeps an automatic message for one employee in the thread, as the
// bridge's employee notices should be kept (see Inbox in ports.go).
func (m *memBridge) note(th *memThread, to bridge.EmployeeID, k bridge.NoticeKind) {
	m.recordBy(th, to, bridge.MessageView{From: bridge.ToEmployee, Notice: k,
		Text: bridge.Render(nil, k, bridge.English, bridge.NoticeParams{}, bridge.Names{})})
}

// visible are the thread's messages the viewer sees: notes for others are left out.
func (th *memThread) visible(viewer bridge.EmployeeID) []bridge.MessageView {
	var out []bridge.MessageView
	for _, v := range th.msgs {
		if v.From == bridge.ToEmployee && th.author[v.ID] != viewer {
			continue
		}
		out = append(out, v)
	}
	return out
}

func (m *memBridge) employee(id bridge.EmployeeID) (*bridge.Employee, error) {
	for i := range m.employees {
		if m.employees[i].ID == id {
			return &m.employees[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, id)
}

func (m *memBridge) summary(th *memThread, viewer bridge.EmployeeID, history bool) bridge.ThreadSummary {
	s := bridge.ThreadSummary{ID: th.id, ConsumerName: th.consumer, Status: th.status, QueueLimit: m.company.Policy.QueueLimit,
		OptInLink: th.optInLink, LastAt: th.updated}
	for _, p := range th.participants {
		if e, err := m.employee(p); err == nil {
			s.Participants = append(s.Participants, e.Name)
		}
	}
	for _, v := range th.msgs {
		if v.Status == bridge.StatusQueued {
			s.Queued++
		}
	}
	if th.status == bridge.StatusActive {
		s.SendsLeft = max(0, m.company.Policy.EmployeeLimit-th.streak)
	}
	msgs := th.visible(viewer)
	if n := len(msgs); n > 0 {
		s.LastMessage = msgs[n-1].Text
	}
	if history {
		s.Messages = msgs
		for i, v := range s.Messages {
			if v.Media != nil {
				c := *v.Media
				s.Messages[i].Media = &c
			}
		}
	}
	return s
}

// enabledMember checks what the service checks before any employee event.
func (m *memBridge) enabledMember(e bridge.EmployeeID, t bridge.ThreadID) (*memThread, error) {
	emp, err := m.employee(e)
	if err != nil {
		return nil, err
	}
	if !emp.Enabled {
		return nil, bridge.ErrEmployeeDisabled
	}
	th, ok := m.threads[t]
	if !ok {
		return nil, bridge.ErrNoThread
	}
	if !slices.Contains(th.participants, e) {
		return nil, bridge.ErrNotParticipant
	}
	return th, nil
}

func (m *memBridge) EmployeeByAAD(_ context.Context, tenantID, oid string) (bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.employees {
		if e.TenantID == tenantID && e.AADObjectID == oid {
			return e, nil
		}
	}
	return bridge.Employee{}, bridge.ErrUnknownEmployee
}

func (m *memBridge) Employee(_ context.Context, id bridge.EmployeeID) (bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.employee(id)
	if err != nil {
		return bridge.Employee{}, err
	}
	return *e, nil
}

func (m *memBridge) Employees(context.Context) ([]bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.employees), nil
}

func (m *memBridge) Threads(_ context.Context, e bridge.EmployeeID) ([]bridge.ThreadSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bridge.ThreadSummary
	for _, th := range m.threads {
		if slices.Contains(th.participants, e) {
			out = append(out, m.summary(th, e, false))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].LastAt.After(out[j].LastAt) || (out[i].LastAt.Equal(out[j].LastAt) && out[i].ID < out[j].ID)
	})
	return out, nil
}

func (m *memBridge) Thread(_ context.Context, e bridge.EmployeeID, t bridge.ThreadID) (bridge.ThreadSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, ok := m.threads[t]
	if !ok || !slices.Contains(th.participants, e) {
		return bridge.ThreadSummary{}, bridge.ErrUnknownThread
	}
	return m.summary(th, e, true), nil
}

func (m *memBridge) Send(_ context.Context, e bridge.EmployeeID, t bridge.ThreadID, body bridge.Content) (bridge.MessageView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.enabledMember(e, t)
	if err != nil {
		return bridge.MessageView{}, err
	}
	if m.cannotSend[body.MediaKind] {
		return bridge.MessageView{}, fmt.Errorf("%w: %s", bridge.ErrUnsupportedContent, body.MediaKind)
	}
	switch {
	case strings.TrimSpace(body.Text) == "" && body.MediaRef == "":
		return bridge.MessageView{}, bridge.ErrEmptyMessage
	case len(body.Text) > bridge.MaxTextBytes:
		return bridge.MessageView{}, bridge.ErrMessageTooLong
	}
	v := bridge.MessageView{From: bridge.FromEmployee, Text: body.Text}
	if body.MediaRef != "" {
		v.Media = &bridge.MediaView{Kind: body.MediaKind, FileName: body.FileName, URL: "/api/v1/media/" + body.MediaRef}
	}
	queued := m.summary(th, e, false).Queued
	p := m.company.Policy
	switch {
	case th.status == bridge.StatusActive && th.streak < p.EmployeeLimit:
		th.streak++
		v.Status = bridge.StatusSent
	case queued < p.QueueLimit:
		v.Status, v.Position = bridge.StatusQueued, queued+1
	default:
		v.Status, v.Reason = bridge.StatusNotQueued, bridge.ReasonQueueFull
	}
	v = m.recordBy(th, e, v)
	switch {
	case v.Status == bridge.StatusSent && th.streak == p.EmployeeLimit:
		m.note(th, e, bridge.NoticeLimitReached)
	case v.Status == bridge.StatusNotQueued:
		m.note(th, e, bridge.NoticeNotQueued)
	}
	return v, nil
}

func (m *memBridge) Leave(_ context.Context, e bridge.EmployeeID, t bridge.ThreadID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.enabledMember(e, t)
	if err != nil {
		return err
	}
	emp, _ := m.employee(e)
	th.participants = slices.DeleteFunc(th.participants, func(p bridge.EmployeeID) bool { return p == e })
	m.record(th, bridge.MessageView{From: bridge.FromSystem, Notice: bridge.NoticeConsumerEmployeeLeft, Status: bridge.StatusSent,
		Text: bridge.Render(nil, bridge.NoticeConsumerEmployeeLeft, bridge.English, bridge.NoticeParams{}, bridge.Names{Employee: emp.Name})})
	if len(th.participants) == 0 {
		th.status = bridge.StatusUnrouted
	}
	return nil
}

func (m *memBridge) AddParticipant(_ context.Context, by bridge.EmployeeID, t bridge.ThreadID, colleague bridge.EmployeeID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.enabledMember(by, t)
	if err != nil {
		return err
	}
	switch {
	case slices.Contains(th.participants, colleague):
		return bridge.ErrAlreadyParticipant
	case len(th.participants) >= m.company.Policy.MaxParticipants:
		return bridge.ErrTooManyParticipants
	}
	th.participants = append(th.participants, colleague)
	th.updated = m.now()
	return nil
}

func (m *memBridge) RemoveParticipant(_ context.Context, by bridge.EmployeeID, t bridge.ThreadID, colleague bridge.EmployeeID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, err := m.enabledMember(by, t)
	if err != nil {
		return err
	}
	if !slices.Contains(th.participants, colleague) {
		return bridge.ErrNotParticipant
	}
	th.participants = slices.DeleteFunc(th.participants, func(p bridge.EmployeeID) bool { return p == colleague })
	return nil
}

func (m *memBridge) RequestOptIn(_ context.Context, e bridge.EmployeeID) (bridge.ThreadID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	emp, err := m.employee(e)
	if err != nil {
		return "", err
	}
	if !emp.Enabled {
		return "", bridge.ErrEmployeeDisabled
	}
	m.seq++
	th := &memThread{id: bridge.ThreadID(fmt.Sprintf("optin%d", m.seq)), consumer: "Awaiting opt-in", status: bridge.StatusAwaitingOptIn,
		participants: []bridge.EmployeeID{e}, updated: m.now()}
	m.threads[th.id] = th
	m.note(th, e, bridge.NoticeOptInSent)
	return th.id, nil
}

// linkReady is the opt-in link job finishing.
func (m *memBridge) linkReady(t bridge.ThreadID, link string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.threads[t].optInLink = link
	m.threads[t].updated = m.now()
}

func (m *memBridge) ContactLinkFor(_ context.Context, id bridge.EmployeeID) (string, error) {
	if m.linkErr != nil {
		return "", m.linkErr
	}
	return "https://work.weixin.qq.com/kf/kfc_test?scene=e" + string(id), nil
}

func (m *memBridge) CompanySettings(context.Context) (bridge.Company, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.company, nil
}

func (m *memBridge) SetPolicy(_ context.Context, p bridge.Policy, o bridge.Overrides) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.company.Policy, m.company.Overrides = p, o
	return nil
}

func (m *memBridge) SetLanguage(_ context.Context, lang bridge.Language) error {
	if lang != bridge.English && lang != bridge.SimplifiedChinese {
		return fmt.Errorf("%w: language %q", bridge.ErrInvalidPolicy, lang)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.company.Language = lang
	return nil
}

// CanSend is what *bridge.Service offers the tab: may the account send this kind?
func (m *memBridge) CanSend(body bridge.Content) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.canSendCalls++
	if m.cannotSend[body.MediaKind] {
		return fmt.Errorf("%w: an Official Account cannot send a %s", bridge.ErrUnsupportedContent, body.MediaKind)
	}
	return nil
}

// messageCount counts the messages of every thread.
func (m *memBridge) messageCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, th := range m.threads {
		n += len(th.msgs)
	}
	return n
}

// setStatus changes a thread's state, as consumer events would.
func (m *memBridge) setStatus(id string, s bridge.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.threads[bridge.ThreadID(id)].status = s
}

func (m *memBridge) SetEmployeeEnabled(_ context.Context, id bridge.EmployeeID, enabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.employee(id)
	if err != nil {
		return err
	}
	e.Enabled = enabled
	return nil
}

func (m *memBridge) AddEmployee(_ context.Context, tenantID, oid, name string) (bridge.Employee, error) {
	return m.addEmployee("e-"+oid, name, oid, true), nil
}

// LearnUPN checks the UPN as the bridge does and stores it.
func (m *memBridge) LearnUPN(_ context.Context, id bridge.EmployeeID, upn string) error {
	if err := bridge.CheckUPN(upn); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.employees {
		if m.employees[i].ID == id {
			m.employees[i].UPN = upn
			return nil
		}
	}
	return fmt.Errorf("%w: %s", bridge.ErrUnknownEmployee, id)
}

// Inbox: read marks, previews, search and participants, as the bridge should
// offer them (see Inbox in ports.go).

var _ Inbox = (*memBridge)(nil)

// mine reports whether v is the viewer's own message.
func (th *memThread) mine(v bridge.MessageView, viewer bridge.EmployeeID) bool {
	return v.From == bridge.FromEmployee && th.author[v.ID] == viewer
}

func (m *memBridge) Unread(_ context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[bridge.ThreadID]int{}
	for _, th := range m.threads {
		if !slices.Contains(th.participants, e) {
			continue
		}
		for _, v := range th.msgs[min(th.read[e], len(th.msgs)):] {
			if v.From == bridge.FromSystem || th.mine(v, e) || v.From == bridge.ToEmployee && th.author[v.ID] != e {
				continue
			}
			out[th.id]++
		}
	}
	return out, nil
}

func (m *memBridge) MarkRead(_ context.Context, e bridge.EmployeeID, t bridge.ThreadID, upTo bridge.MessageID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, ok := m.threads[t]
	if !ok || !slices.Contains(th.participants, e) {
		return bridge.ErrUnknownThread
	}
	i := slices.IndexFunc(th.msgs, func(v bridge.MessageView) bool { return v.ID == upTo })
	if i < 0 {
		return bridge.ErrUnknownMessage
	}
	if th.read == nil {
		th.read = map[bridge.EmployeeID]int{}
	}
	th.read[e] = max(th.read[e], i+1)
	return nil
}

func (m *memBridge) LastWritten(_ context.Context, e bridge.EmployeeID) (map[bridge.ThreadID]bridge.MessageView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[bridge.ThreadID]bridge.MessageView{}
	for _, th := range m.threads {
		if !slices.Contains(th.participants, e) {
			continue
		}
		if v, ok := lastWritten(th.msgs); ok {
			out[th.id] = v
		}
	}
	return out, nil
}

func (m *memBridge) SearchThreads(ctx context.Context, e bridge.EmployeeID, q string) ([]bridge.ThreadSummary, error) {
	all, err := m.Threads(ctx, e)
	if err != nil {
		return nil, err
	}
	q = strings.ToLower(q)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bridge.ThreadSummary
	for _, s := range all {
		if matches(s, m.threads[s.ID].msgs, q) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memBridge) Participants(_ context.Context, e bridge.EmployeeID, t bridge.ThreadID) ([]bridge.Employee, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	th, ok := m.threads[t]
	if !ok || !slices.Contains(th.participants, e) {
		return nil, bridge.ErrUnknownThread
	}
	var out []bridge.Employee
	for _, p := range th.participants {
		if emp, err := m.employee(p); err == nil {
			out = append(out, *emp)
		}
	}
	return out, nil
}

// memMedia is an in-memory MediaStore.
type memMedia struct {
	mu    sync.Mutex
	files map[string]memFile
}

type memFile struct {
	ct, name string
	data     []byte
}

func (s *memMedia) Media(_ context.Context, ref string) (string, string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[ref]
	if !ok {
		return "", "", nil, fmt.Errorf("media %s: %w", ref, bridge.ErrNotFound)
	}
	return f.ct, f.name, f.data, nil
}

// count is how many files are stored.
func (s *memMedia) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

func (s *memMedia) PutMedia(_ context.Context, _ string, ct, name string, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]memFile{}
	}
	ref := fmt.Sprintf("m%d", len(s.files)+1)
	s.files[ref] = memFile{ct, name, data}
	return ref, nil
}

// memJobs is an in-memory JobAdmin.
type memJobs struct {
	mu   sync.Mutex
	jobs []bridge.Job
}

func (j *memJobs) Jobs(_ context.Context, dead bool) ([]bridge.Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []bridge.Job
	for _, x := range slices.Backward(j.jobs) {
		if x.Dead || !dead {
			out = append(out, x)
		}
	}
	return out, nil
}

func (j *memJobs) find(id int64) (int, error) {
	for i, x := range j.jobs {
		switch {
		case x.ID == id && x.Dead:
			return i, nil
		case x.ID == id:
			return 0, fmt.Errorf("job %d: %w", id, ErrJobNotDead)
		}
	}
	return 0, fmt.Errorf("job %d: %w", id, bridge.ErrNotFound)
}

func (j *memJobs) RetryJob(_ context.Context, id int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	i, err := j.find(id)
	if err != nil {
		return err
	}
	j.jobs[i].Dead, j.jobs[i].Attempts = false, 0
	return nil
}

func (j *memJobs) DiscardJob(_ context.Context, id int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	i, err := j.find(id)
	if err != nil {
		return err
	}
	j.jobs = slices.Delete(j.jobs, i, i+1)
	return nil
}

// memAudit is an in-memory AuditLog: the policy decisions of the fixture's threads.
type memAudit struct{ entries []bridge.AuditEntry }

func (m memAudit) AuditLog(_ context.Context, q bridge.AuditQuery) ([]bridge.AuditEntry, error) {
	var out []bridge.AuditEntry
	for _, e := range m.entries {
		if q.Thread == "" || e.Thread == q.Thread {
			out = append(out, e)
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}
