package teamsapp

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// reviewWorld is the tab over the real bridge on SQLite, with a conversation
// between Ann and a consumer, and one message a lexicon rule flagged.
// Tokens: "ann" (an employee), "rita" (a reviewer by the token's role, not
// an employee), "otto" (a reviewer by MULTILINE_COMPLIANCE_REVIEWERS),
// "ada" (an admin), "stranger".
type reviewWorld struct {
	*fixture
	db     *storage.DB
	svc    *bridge.Service
	thread bridge.ThreadID
	ann    bridge.EmployeeID
	flag   int64 // the flagged lexicon event's seq
}

func newReviewWorld(t testing.TB) *reviewWorld {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	svc := bridge.NewService(db, bridge.Options{Now: clock.Now, AutoEnable: true, Account: "kf1"})
	svc.Attach(quietWeChat{}, quietTeams{})
	svc.AttachReviews(db)
	if err := svc.EnsureCompany(ctx, "Contoso", testTenant, bridge.English); err != nil {
		t.Fatal(err)
	}
	ann, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: testTenant, AADObjectID: "oid-ann", TeamsUserID: "29:ann", Name: "Ann Lee"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "m1", Consumer: "wmEmil",
		ConsumerName: "Emiliano Ceballos", At: clock.Now(), Body: bridge.Content{Text: "Is the fund guaranteed?"}}}); err != nil {
		t.Fatal(err)
	}
	list, err := svc.Threads(ctx, ann.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("Ann's threads: %v %v", list, err)
	}
	th := list[0].ID
	clock.Add(time.Minute)
	if _, err := svc.Send(ctx, ann.ID, th, bridge.Content{Text: "It is guaranteed to double, trust me"}); err != nil {
		t.Fatal(err)
	}
	flag := addFlag(t, db, clock.Now(), th)

	auth := tokenAuth{
		"ann":      {TenantID: testTenant, ObjectID: "oid-ann", Name: "Ann Lee"},
		"rita":     {TenantID: testTenant, ObjectID: "oid-rita", Name: "Rita Review", Roles: []string{RoleComplianceReview}},
		"otto":     {TenantID: testTenant, ObjectID: "OID-OTTO", Name: "Otto"},
		"ada":      {TenantID: testTenant, ObjectID: "oid-ada", Name: "Ada Admin"},
		"stranger": {TenantID: testTenant, ObjectID: "oid-stranger", Name: "stranger"},
	}
	app := New(Config{Bridge: svc, Media: db, Audit: db, Auth: auth, AppID: "app", TenantID: testTenant, Now: clock.Now,
		Admins: []string{"oid-ada"}, ComplianceReviewers: []string{"oid-otto"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := echo.New()
	app.Routes(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &reviewWorld{fixture: &fixture{app: app, srv: srv, clock: clock}, db: db, svc: svc, thread: th, ann: ann.ID, flag: flag}
}

// addFlag records a lexicon flag on Ann's last message of thread th, as the
// lexicon engine (issue 12 item 3) does, and returns its seq.
func addFlag(t testing.TB, db *storage.DB, at time.Time, th bridge.ThreadID) int64 {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		return tx.Archive(ctx, archive.Draft{Company: "default", Thread: string(th), Time: at, Kind: archive.KindLexicon,
			Body: archive.LexiconBody{MessageID: string(th) + "-4", Direction: "outbound", Action: "flag",
				Rules: []string{"guarantee"}, Original: "It is guaranteed to double, trust me", Result: "It is guaranteed to double, trust me"}})
	}); err != nil {
		t.Fatal(err)
	}
	evs, err := db.ThreadEvents(ctx, "default", th)
	if err != nil {
		t.Fatal(err)
	}
	return evs[len(evs)-1].Seq
}

// reviewEndpoints are every review route, with a body where it takes one.
func (w *reviewWorld) reviewEndpoints() []struct {
	method, path string
	body         any
} {
	return []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/review/threads", nil},
		{"GET", "/api/v1/review/threads/" + string(w.thread), nil},
		{"GET", "/api/v1/review/flagged", nil},
		{"POST", "/api/v1/review/threads/" + string(w.thread) + "/events/" + itoa(w.flag) + "/review", reviewMarkJSON{Comment: "x"}},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestReviewRefusesNonReviewers: an employee, an admin and a stranger get 403
// on every review endpoint, one case per endpoint, and the flag stays queued.
func TestReviewRefusesNonReviewers(t *testing.T) {
	w := newReviewWorld(t)
	for _, ep := range w.reviewEndpoints() {
		for _, tok := range []string{"ann", "ada", "stranger"} {
			t.Run(ep.method+" "+ep.path+" as "+tok, func(t *testing.T) {
				var e apiError
				if code := w.call(t, ep.method, ep.path, tok, ep.body, &e); code != 403 || e.Error != msgNotReviewer {
					t.Fatalf("status %d %q, want 403 %q", code, e.Error, msgNotReviewer)
				}
			})
		}
		t.Run(ep.method+" "+ep.path+" signed out", func(t *testing.T) {
			if code := w.call(t, ep.method, ep.path, "", ep.body, nil); code != 401 {
				t.Fatalf("status %d, want 401", code)
			}
		})
	}
	var queue []bridge.FlaggedItem
	if code := w.call(t, "GET", "/api/v1/review/flagged", "rita", nil, &queue); code != 200 || len(queue) != 1 {
		t.Fatalf("queue after the refusals: %d %+v", code, queue)
	}
}

// TestReviewerCannotSend: a reviewer who is not an employee gets 403 on every
// route that sends or changes a conversation, and on the employees' inbox.
func TestReviewerCannotSend(t *testing.T) {
	w := newReviewWorld(t)
	th := string(w.thread)
	for _, ep := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/threads/" + th + "/messages", map[string]string{"text": "from the reviewer"}},
		{"POST", "/api/v1/threads/" + th + "/media", nil},
		{"POST", "/api/v1/threads/" + th + "/leave", nil},
		{"POST", "/api/v1/threads/" + th + "/participants", map[string]string{"employee": string(w.ann)}},
		{"DELETE", "/api/v1/threads/" + th + "/participants/" + string(w.ann), nil},
		{"POST", "/api/v1/threads/" + th + "/read", map[string]string{"up_to": th + "-1"}},
		{"POST", "/api/v1/opt-in", nil},
		{"GET", "/api/v1/threads", nil},
		{"GET", "/api/v1/threads/" + th, nil},
	} {
		for _, tok := range []string{"rita", "otto"} {
			t.Run(ep.method+" "+ep.path+" as "+tok, func(t *testing.T) {
				if code := w.call(t, ep.method, ep.path, tok, ep.body, nil); code != 403 {
					t.Fatalf("status %d, want 403", code)
				}
			})
		}
	}
	rec, err := w.svc.ThreadRecord(context.Background(), w.thread)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rec {
		if strings.Contains(string(e.Body), "from the reviewer") {
			t.Fatalf("a reviewer's message reached the record: %s", e.Body)
		}
	}
}

// TestReviewerReadsSearchesAndReviews: a reviewer finds the thread by text,
// consumer, employee and date, reads its whole record, and marks the flagged
// message reviewed with a comment, which is a review event on the thread's
// chain; the queue is then empty and the archive still verifies.
func TestReviewerReadsSearchesAndReviews(t *testing.T) {
	w := newReviewWorld(t)
	search := func(tok, query string) []bridge.ReviewThread {
		t.Helper()
		var out []bridge.ReviewThread
		if code := w.call(t, "GET", "/api/v1/review/threads"+query, tok, nil, &out); code != 200 {
			t.Fatalf("search %s: %d", query, code)
		}
		return out
	}
	for _, q := range []string{"", "?q=GUARANTEED", "?consumer=emiliano", "?consumer=wmEmil", "?employee=" + string(w.ann),
		"?from=2026-03-02&to=2026-03-02", "?q=double&from=2026-03-01"} {
		got := search("otto", q)
		if len(got) != 1 || got[0].ID != w.thread || got[0].ConsumerName != "Emiliano Ceballos" ||
			len(got[0].Employees) != 1 || got[0].Employees[0] != "Ann Lee" {
			t.Errorf("search %q = %+v", q, got)
		}
	}
	for _, q := range []string{"?q=bitcoin", "?consumer=nobody", "?employee=someone", "?from=2026-03-03", "?to=2026-03-01"} {
		if got := search("rita", q); len(got) != 0 {
			t.Errorf("search %q found %+v", q, got)
		}
	}
	var e apiError
	if code := w.call(t, "GET", "/api/v1/review/threads?from=March", "rita", nil, &e); code != 400 {
		t.Errorf("a bad date: %d %q", code, e.Error)
	}

	var rec reviewRecordJSON
	if code := w.call(t, "GET", "/api/v1/review/threads/"+string(w.thread), "rita", nil, &rec); code != 200 {
		t.Fatalf("record: %d", code)
	}
	var texts []string
	for _, ev := range rec.Events {
		if ev.Kind == archive.KindMessageIn || ev.Kind == archive.KindMessageOut {
			var m archive.MessageBody
			if err := ev.Decode(&m); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, m.Text)
		}
	}
	if strings.Join(texts, "|") != "Is the fund guaranteed?|It is guaranteed to double, trust me" {
		t.Fatalf("the record's messages: %q", texts)
	}
	if code := w.call(t, "GET", "/api/v1/review/threads/nosuch", "rita", nil, nil); code != 404 {
		t.Errorf("an unknown thread: %d", code)
	}

	var queue []bridge.FlaggedItem
	if w.call(t, "GET", "/api/v1/review/flagged", "rita", nil, &queue); len(queue) != 1 || queue[0].Seq != w.flag ||
		queue[0].Decision.Rules[0] != "guarantee" || queue[0].ConsumerName != "Emiliano Ceballos" {
		t.Fatalf("queue = %+v", queue)
	}
	mark := "/api/v1/review/threads/" + string(w.thread) + "/events/" + itoa(w.flag) + "/review"
	if code := w.call(t, "POST", mark, "rita", reviewMarkJSON{Comment: "Spoke to Ann; misleading, coached."}, nil); code != 204 {
		t.Fatalf("mark reviewed: %d", code)
	}
	if w.call(t, "GET", "/api/v1/review/flagged", "rita", nil, &queue); len(queue) != 0 {
		t.Fatalf("queue after the review = %+v", queue)
	}
	if code := w.call(t, "POST", mark, "otto", reviewMarkJSON{Comment: "again"}, nil); code != 409 {
		t.Errorf("a second review: %d, want 409", code)
	}
	other := "/api/v1/review/threads/" + string(w.thread) + "/events/1/review"
	if code := w.call(t, "POST", other, "otto", reviewMarkJSON{Comment: "not a flag"}, nil); code != 409 {
		t.Errorf("reviewing an event that is no flag: %d, want 409", code)
	}
	evs, _ := w.db.ThreadEvents(context.Background(), "default", w.thread)
	last := evs[len(evs)-1]
	var rb archive.ReviewBody
	if err := last.Decode(&rb); last.Kind != archive.KindReview || err != nil || rb.Seq != w.flag ||
		rb.Comment != "Spoke to Ann; misleading, coached." || rb.Reviewer.ID != "oid-rita" || rb.Reviewer.Role != archive.RoleReviewer {
		t.Fatalf("last event %s %+v %v", last.Kind, rb, err)
	}
	rep, err := archive.Verify(context.Background(), w.db)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep.Problems, err)
	}
}

// TestAdminAuditLog: admins read the recent policy decisions; others get 403.
func TestAdminAuditLog(t *testing.T) {
	w := newReviewWorld(t)
	var list []auditJSON
	if code := w.call(t, "GET", "/api/v1/admin/audit", "ada", nil, &list); code != 200 || len(list) < 2 {
		t.Fatalf("audit: %d %+v", code, list)
	}
	if list[0].ID < list[len(list)-1].ID || list[0].Thread != w.thread {
		t.Errorf("audit not newest first: %+v", list)
	}
	events := map[string]bool{}
	for _, e := range list {
		events[e.Event] = true
	}
	if !events["ConsumerMessage"] || !events["EmployeeSend"] {
		t.Errorf("decisions listed: %v", events)
	}
	for _, tok := range []string{"ann", "rita", "stranger"} {
		if code := w.call(t, "GET", "/api/v1/admin/audit", tok, nil, nil); code != 403 {
			t.Errorf("audit as %s: %d", tok, code)
		}
	}
}
