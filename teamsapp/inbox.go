package teamsapp

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/skip2/go-qrcode"

	"github.com/multiline/multiline/bridge"
)

// The inbox: the thread list with previews, unread counts, search and the
// "needs an answer" filter, and the thread view with what the tab needs beyond
// the bridge's summary (participants with ids, the policy's caps, the opt-in
// QR code, the server's clock for the window's countdown). What the bridge
// offers through Inbox is used; the rest is worked out here (see Inbox).

// previewJSON is the last message a person wrote in a thread.
type previewJSON struct {
	From bridge.Party `json:"from"`
	// Mine says the signed-in employee wrote it (the list shows "You: ").
	Mine       bool      `json:"mine"`
	AuthorName string    `json:"author_name,omitempty"`
	Text       string    `json:"text"`
	MediaKind  string    `json:"media_kind,omitempty"`
	FileName   string    `json:"file_name,omitempty"`
	At         time.Time `json:"at"`
}

// threadJSON is a thread in the list.
type threadJSON struct {
	bridge.ThreadSummary
	// Unread counts the messages for this employee after their read mark; 0
	// when the bridge keeps no read marks (features.unread false).
	Unread  int          `json:"unread"`
	Preview *previewJSON `json:"preview,omitempty"`
	// NeedsAnswer says the consumer wrote last and the thread is open.
	NeedsAnswer bool `json:"needs_answer"`
}

// participantJSON is an employee of a thread; ID is empty when the bridge gave
// names only and the name is not unique.
type participantJSON struct {
	ID   bridge.EmployeeID `json:"id,omitempty"`
	Name string            `json:"name"`
	Me   bool              `json:"me,omitempty"`
}

// threadDetailJSON is one thread with its messages, as the conversation shows it.
type threadDetailJSON struct {
	threadJSON
	People          []participantJSON `json:"people"`
	MaxParticipants int               `json:"max_participants"`
	SendsPerWindow  int               `json:"sends_per_window"`
	EmployeeLimit   int               `json:"employee_limit"`
	// OptInQR is the opt-in link as a QR code (a PNG data URL), once the link exists.
	OptInQR string `json:"opt_in_qr,omitempty"`
	// Now is the server's clock, which the window's countdown runs from (in
	// local mode the WeChat simulator's clock, which may be ahead of the wall's).
	Now time.Time `json:"now"`
}

// inbox is the bridge's Inbox, or nil.
func (a *App) inbox() Inbox {
	in, _ := a.b.(Inbox)
	return in
}

// features tells the UI what the server keeps, so that it shows nothing it
// cannot keep up to date.
type featuresJSON struct {
	// Unread: unread counts are kept per employee.
	Unread bool `json:"unread"`
	// Search is "full" when every message is searched, "recent" when only the
	// last 50 of each thread are.
	Search string `json:"search"`
}

func (a *App) features() featuresJSON {
	if a.inbox() != nil {
		return featuresJSON{Unread: true, Search: "full"}
	}
	return featuresJSON{Search: "recent"}
}

// isMine reports whether the employee wrote v, by id: two colleagues may
// share a name.
func isMine(v bridge.MessageView, me bridge.Employee) bool {
	return v.From == bridge.FromEmployee && v.Author != "" && v.Author == me.ID
}

// written reports whether a person wrote v (not a notice or a note).
func written(v bridge.MessageView) bool {
	return v.From == bridge.FromConsumer || v.From == bridge.FromEmployee
}

func toPreview(v bridge.MessageView, me bridge.Employee) *previewJSON {
	p := &previewJSON{From: v.From, Mine: isMine(v, me), AuthorName: v.AuthorName, Text: v.Text, At: v.At}
	if v.Media != nil {
		p.MediaKind, p.FileName = v.Media.Kind, v.Media.FileName
	}
	return p
}

// lastWritten is the last message a person wrote among msgs (oldest first).
func lastWritten(msgs []bridge.MessageView) (bridge.MessageView, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if written(msgs[i]) {
			return msgs[i], true
		}
	}
	return bridge.MessageView{}, false
}

// needsAnswer: the consumer wrote last and can still be answered (or queued for).
func needsAnswer(s bridge.ThreadSummary, p *previewJSON) bool {
	if p == nil || p.From != bridge.FromConsumer {
		return false
	}
	return s.Status == bridge.StatusActive || s.Status == bridge.StatusInactive
}

// matches reports whether a thread's contact, or a message a person wrote,
// contains q (lowercased).
func matches(s bridge.ThreadSummary, msgs []bridge.MessageView, q string) bool {
	if strings.Contains(strings.ToLower(s.ConsumerName), q) {
		return true
	}
	for _, m := range msgs {
		if !written(m) {
			continue
		}
		if strings.Contains(strings.ToLower(m.Text), q) || m.Media != nil && strings.Contains(strings.ToLower(m.Media.FileName), q) {
			return true
		}
	}
	return false
}

// inboxList is the employee's threads for the list: all of them, or those
// matching q; only those needing an answer when needy.
func (a *App) inboxList(ctx context.Context, me bridge.Employee, q string, needy bool) ([]threadJSON, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	in := a.inbox()
	var (
		ts     []bridge.ThreadSummary
		unread map[bridge.ThreadID]int
		last   map[bridge.ThreadID]bridge.MessageView
		err    error
	)
	if in != nil {
		if q != "" {
			ts, err = in.SearchThreads(ctx, me.ID, q)
		} else {
			ts, err = a.b.Threads(ctx, me.ID)
		}
		if err != nil {
			return nil, err
		}
		if unread, err = in.Unread(ctx, me.ID); err != nil {
			return nil, err
		}
		if last, err = in.LastWritten(ctx, me.ID); err != nil {
			return nil, err
		}
	} else {
		if ts, err = a.b.Threads(ctx, me.ID); err != nil {
			return nil, err
		}
		last = map[bridge.ThreadID]bridge.MessageView{}
		kept := ts[:0]
		for _, s := range ts {
			th, err := a.b.Thread(ctx, me.ID, s.ID)
			if errors.Is(err, bridge.ErrUnknownThread) {
				continue // left meanwhile
			}
			if err != nil {
				return nil, err
			}
			if q != "" && !matches(s, th.Messages, q) {
				continue
			}
			if v, ok := lastWritten(th.Messages); ok {
				last[s.ID] = v
			}
			kept = append(kept, s)
		}
		ts = kept
	}
	out := make([]threadJSON, 0, len(ts))
	for _, s := range ts {
		j := threadJSON{ThreadSummary: s, Unread: unread[s.ID]}
		if v, ok := last[s.ID]; ok {
			j.Preview = toPreview(v, me)
		}
		j.NeedsAnswer = needsAnswer(s, j.Preview)
		if needy && !j.NeedsAnswer {
			continue
		}
		out = append(out, j)
	}
	return out, nil
}

func (a *App) listThreads(c echo.Context) error {
	p := principalOf(c)
	list, err := a.inboxList(c.Request().Context(), p.Employee, c.QueryParam("q"), c.QueryParam("filter") == "needs_answer")
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, list)
}

func (a *App) getThread(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalOf(c)
	id := bridge.ThreadID(c.Param("id"))
	t, err := a.b.Thread(ctx, p.Employee.ID, id)
	if err != nil {
		return a.fail(c, err)
	}
	for i := range t.Messages {
		a.signMedia(&t.Messages[i])
	}
	out := threadDetailJSON{threadJSON: threadJSON{ThreadSummary: t}, Now: a.now()}
	if v, ok := lastWritten(t.Messages); ok {
		out.Preview = toPreview(v, p.Employee)
	}
	out.NeedsAnswer = needsAnswer(t, out.Preview)
	if co, err := a.b.CompanySettings(ctx); err == nil {
		out.MaxParticipants, out.SendsPerWindow, out.EmployeeLimit = co.Policy.MaxParticipants, co.Policy.SendsPerWindow, co.Policy.EmployeeLimit
		if out.QueueLimit == 0 {
			out.QueueLimit = co.Policy.QueueLimit
		}
	}
	if out.People, err = a.people(ctx, p.Employee, t); err != nil {
		return a.fail(c, err)
	}
	if in := a.inbox(); in != nil {
		unread, err := in.Unread(ctx, p.Employee.ID)
		if err != nil {
			return a.fail(c, err)
		}
		out.Unread = unread[id]
	}
	if t.OptInLink != "" {
		out.OptInQR = qrDataURL(t.OptInLink)
	}
	return c.JSON(http.StatusOK, out)
}

// people are the thread's participants with their ids: from the bridge's Inbox,
// else by name among the company's employees (a name two share gets no id, so
// the tab offers no removal for it).
func (a *App) people(ctx context.Context, me bridge.Employee, t bridge.ThreadSummary) ([]participantJSON, error) {
	out := []participantJSON{}
	if in := a.inbox(); in != nil {
		emps, err := in.Participants(ctx, me.ID, t.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range emps {
			out = append(out, participantJSON{ID: e.ID, Name: e.Name, Me: e.ID == me.ID})
		}
		return out, nil
	}
	all, err := a.b.Employees(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string][]bridge.EmployeeID{}
	for _, e := range all {
		byName[e.Name] = append(byName[e.Name], e.ID)
	}
	for _, n := range t.Participants {
		pj := participantJSON{Name: n}
		if ids := byName[n]; len(ids) == 1 {
			pj.ID = ids[0]
		}
		pj.Me = pj.ID == me.ID || pj.ID == "" && n == me.Name
		out = append(out, pj)
	}
	return out, nil
}

// markRead records that the employee has seen a thread up to a message. Without
// the bridge's read marks it only checks that they are in the thread.
func (a *App) markRead(c echo.Context) error {
	var in struct {
		UpTo bridge.MessageID `json:"up_to"`
	}
	const usage = `{"up_to": "<message id>"}`
	if err := bindJSON(c, &in, usage); err != nil {
		return bodyDone(err)
	}
	if in.UpTo == "" {
		return jsonError(c, http.StatusBadRequest, "the body must be JSON: "+usage)
	}
	ctx := c.Request().Context()
	p := principalOf(c)
	id := bridge.ThreadID(c.Param("id"))
	var err error
	if ib := a.inbox(); ib != nil {
		err = ib.MarkRead(ctx, p.Employee.ID, id, in.UpTo)
	} else {
		_, err = a.b.Thread(ctx, p.Employee.ID, id)
	}
	if err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// qrSize is the QR codes' side in pixels: sharp on a phone's camera from a
// laptop screen, and a small PNG (about 1 KB).
const qrSize = 256

// qrDataURL is link as a QR code, a PNG data URL the page can show without a
// request of its own (an <img> cannot send the SSO token). go-qrcode is pure Go
// with no dependencies, encodes in the process, and writes the PNG itself.
// Medium error correction (15%) survives a screenshot or a photo of a screen.
// An unencodable link (longer than a QR code holds) gives "".
func qrDataURL(link string) string {
	png, err := qrcode.Encode(link, qrcode.Medium, qrSize)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
