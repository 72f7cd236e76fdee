package teamsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/multiline/multiline/bridge"
)

func TestAccessMatrix(t *testing.T) {
	f := newFixture(t, false)
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
		wantErr                   string // part of the {"error"} message
	}{
		{"no token", "GET", "/api/v1/threads", "", nil, 401, "sign-in required"},
		{"bad token", "GET", "/api/v1/threads", "forged", nil, 401, "not accepted"},
		{"unknown employee", "GET", "/api/v1/threads", "stranger", nil, 403, "ask your administrator"},
		{"disabled employee", "GET", "/api/v1/threads", "carol", nil, 403, "WeChat is disabled for you"},
		{"enabled employee", "GET", "/api/v1/threads", "bob", nil, 200, ""},
		{"other's thread", "GET", "/api/v1/threads/t2", "alice", nil, 404, "does not exist"},
		{"no such thread", "GET", "/api/v1/threads/nope", "alice", nil, 404, ""},
		{"send to other's thread", "POST", "/api/v1/threads/t2/messages", "alice", map[string]string{"text": "hi"}, 403, "not a participant"},
		{"send to missing thread", "POST", "/api/v1/threads/zz/messages", "alice", map[string]string{"text": "hi"}, 404, ""},
		{"empty message", "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "  "}, 400, "empty"},
		{"too long", "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": strings.Repeat("微", 700)}, 400, "2048"},
		{"leave other's", "POST", "/api/v1/threads/t2/leave", "alice", nil, 403, ""},
		{"add unknown colleague", "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "zed"}, 404, "colleague"},
		{"add disabled colleague", "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "carol"}, 400, "Carol Li"},
		{"add self again", "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "alice"}, 409, "already"},
		{"admin by non-admin", "GET", "/api/v1/admin/policy", "bob", nil, 403, "administrators"},
		{"admin who is no employee", "GET", "/api/v1/admin/employees", "stranger", nil, 403, "administrators"},
		{"admin", "GET", "/api/v1/admin/employees", "alice", nil, 200, ""},
		{"dev login off", "GET", "/tab/dev-login", "", nil, 404, ""},
		{"events without ticket", "GET", "/api/v1/events", "alice", nil, 401, "ticket"},
		{"media without signature", "GET", "/api/v1/media/m1", "alice", nil, 403, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw json.RawMessage
			got := f.call(t, tt.method, tt.path, tt.token, tt.body, &raw)
			var e apiError
			if got >= 400 && len(raw) > 0 {
				_ = json.Unmarshal(raw, &e)
			}
			if got != tt.want {
				t.Fatalf("status %d, want %d (error %q)", got, tt.want, e.Error)
			}
			if !strings.Contains(e.Error, tt.wantErr) {
				t.Errorf("error %q does not say %q", e.Error, tt.wantErr)
			}
			if tt.want >= 400 && e.Error == "" && tt.path != "/tab/dev-login" {
				t.Errorf("error answer without a message")
			}
		})
	}
}

func TestSendStatuses(t *testing.T) {
	f := newFixture(t, false)
	// Policy defaults: 3 sent, then 5 queued, then not queued.
	want := []struct {
		status   bridge.MessageStatus
		position int
		reason   string
	}{
		{bridge.StatusSent, 0, ""}, {bridge.StatusSent, 0, ""}, {bridge.StatusSent, 0, ""},
		{bridge.StatusQueued, 1, ""}, {bridge.StatusQueued, 2, ""}, {bridge.StatusQueued, 3, ""},
		{bridge.StatusQueued, 4, ""}, {bridge.StatusQueued, 5, ""},
		{bridge.StatusNotQueued, 0, bridge.ReasonQueueFull},
	}
	for i, w := range want {
		var got sentJSON
		if code := f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "message"}, &got); code != http.StatusCreated {
			t.Fatalf("message %d: status %d", i+1, code)
		}
		if got.Status != w.status || got.Position != w.position || got.Reason != w.reason || got.QueueLimit != 5 {
			t.Errorf("message %d: got %s pos %d reason %q limit %d, want %s pos %d reason %q limit 5",
				i+1, got.Status, got.Position, got.Reason, got.QueueLimit, w.status, w.position, w.reason)
		}
		if got.AuthorName != "Alice Chen" || got.ID == "" {
			t.Errorf("message %d: author %q id %q", i+1, got.AuthorName, got.ID)
		}
	}
	var list []bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads", "alice", nil, &list)
	if len(list) != 1 || list[0].ID != "t1" || list[0].Queued != 5 {
		t.Fatalf("threads = %+v, want t1 with 5 queued", list)
	}
}

func TestThreadLifecycle(t *testing.T) {
	f := newFixture(t, false)
	var me meJSON
	if f.call(t, "GET", "/api/v1/me", "alice", nil, &me) != 200 || me.Name != "Alice Chen" || !me.Admin ||
		!strings.Contains(me.ContactLink, "scene=ealice") {
		t.Fatalf("me = %+v", me)
	}
	var cols []colleagueJSON
	f.call(t, "GET", "/api/v1/colleagues?q=o", "alice", nil, &cols)
	// bob and dave match "o"; carol is disabled, alice is herself.
	if len(cols) != 2 || cols[0].ID != "bob" || cols[1].ID != "dave" {
		t.Fatalf("colleagues = %+v, want Bob, Dave", cols)
	}
	if code := f.call(t, "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "bob"}, nil); code != 204 {
		t.Fatalf("add bob: %d", code)
	}
	var th bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads/t1", "bob", nil, &th)
	if len(th.Participants) != 2 || len(th.Messages) != 2 {
		t.Fatalf("bob sees %+v", th)
	}
	if code := f.call(t, "DELETE", "/api/v1/threads/t1/participants/bob", "alice", nil, nil); code != 204 {
		t.Fatalf("remove bob: %d", code)
	}
	if code := f.call(t, "GET", "/api/v1/threads/t1", "bob", nil, nil); code != 404 {
		t.Fatalf("removed bob still sees the thread: %d", code)
	}
	if code := f.call(t, "POST", "/api/v1/threads/t1/leave", "alice", nil, nil); code != 204 {
		t.Fatalf("leave: %d", code)
	}
	var list []bridge.ThreadSummary
	f.call(t, "GET", "/api/v1/threads", "alice", nil, &list)
	if len(list) != 0 {
		t.Fatalf("after leaving alice still has %+v", list)
	}

	// Employee-initiated chat: the thread exists at once, the link when the job ran.
	var opt map[string]bridge.ThreadID
	if code := f.call(t, "POST", "/api/v1/opt-in", "alice", nil, &opt); code != 201 || opt["thread"] == "" {
		t.Fatalf("opt-in: %d %v", code, opt)
	}
	f.call(t, "GET", "/api/v1/threads/"+string(opt["thread"]), "alice", nil, &th)
	if th.Status != bridge.StatusAwaitingOptIn || th.OptInLink != "" {
		t.Fatalf("opt-in thread = %+v", th)
	}
	f.b.linkReady(opt["thread"], "https://work.weixin.qq.com/kf/kfc_test?scene_param=x")
	f.call(t, "GET", "/api/v1/threads/"+string(opt["thread"]), "alice", nil, &th)
	if th.OptInLink == "" {
		t.Fatal("opt-in link not shown once ready")
	}
	var sent sentJSON
	f.call(t, "POST", "/api/v1/threads/"+string(opt["thread"])+"/messages", "alice", map[string]string{"text": "hi"}, &sent)
	if sent.Status != bridge.StatusQueued || sent.Position != 1 {
		t.Fatalf("message before opt-in = %+v, want queued 1", sent)
	}
}

func TestTooManyParticipants(t *testing.T) {
	f := newFixture(t, false)
	p := bridge.DefaultPolicy()
	p.MaxParticipants = 2
	if err := f.b.SetPolicy(t.Context(), p, nil); err != nil {
		t.Fatal(err)
	}
	f.call(t, "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "bob"}, nil)
	var e apiError
	if code := f.call(t, "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "dave"}, &e); code != 409 ||
		!strings.Contains(e.Error, "maximum") {
		t.Fatalf("third participant: %d %q", code, e.Error)
	}
}

func TestContactLinkFailureKeepsTabUsable(t *testing.T) {
	f := newFixture(t, false)
	f.b.linkErr = errors.New("wechat down")
	var me meJSON
	if code := f.call(t, "GET", "/api/v1/me", "bob", nil, &me); code != 200 || me.ContactLinkError == "" || me.Admin {
		t.Fatalf("me = %d %+v", code, me)
	}
}

func TestUnexpectedErrorIsOpaque(t *testing.T) {
	f := newFixture(t, false)
	var e apiError
	// The media store answers a wrapped ErrNotFound: mapped to 404, not 500.
	url := f.app.mediaURL("missing", f.clock.Now().Add(mediaLifetime))
	if code := f.call(t, "GET", url, "", nil, &e); code != 404 {
		t.Fatalf("missing media: %d %q", code, e.Error)
	}
	a := &App{log: f.app.log}
	rec := newRecorder()
	_ = a.fail(rec.ctx, errors.New("pq: connection refused to 10.0.0.3"))
	if rec.w.Code != 500 || strings.Contains(rec.w.Body.String(), "10.0.0.3") {
		t.Fatalf("500 leaks details: %d %s", rec.w.Code, rec.w.Body)
	}
}

func TestUnreachableEmployeeIsTold(t *testing.T) {
	f := newFixture(t, false)
	var me meJSON
	if f.call(t, "GET", "/api/v1/me", "bob", nil, &me); me.Unreachable != "" {
		t.Fatalf("reachable employee told otherwise: %+v", me)
	}
	e, err := f.b.employee("bob")
	if err != nil {
		t.Fatal(err)
	}
	e.Blocked, e.BlockedReason = true, "ConversationBlockedByUser"
	if code := f.call(t, "GET", "/api/v1/me", "bob", nil, &me); code != 200 || me.Unreachable != "ConversationBlockedByUser" {
		t.Fatalf("me = %d %+v", code, me)
	}
}

func TestDisabledEmployee(t *testing.T) {
	f := newFixture(t, false)
	f.b.addThread("t5", "Zhao Liu", "carol") // from before an admin disabled her
	var me meJSON
	if code := f.call(t, "GET", "/api/v1/me", "carol", nil, &me); code != 200 || !me.Disabled || me.DisabledMessage != msgDisabled ||
		me.ContactLink != "" || me.Name != "Carol Li" {
		t.Fatalf("me = %d %+v", code, me)
	}
	if e, _ := f.b.Employee(t.Context(), "carol"); e.ContactLink != "" {
		t.Fatal("a contact link was made for a disabled employee")
	}
	media, msgs := f.stored()
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/threads", nil},
		{"GET", "/api/v1/threads/t5", nil},
		{"GET", "/api/v1/colleagues", nil},
		{"POST", "/api/v1/events/ticket", nil},
		{"POST", "/api/v1/threads/t5/messages", map[string]string{"text": "hi"}},
		{"POST", "/api/v1/threads/t5/leave", nil},
		{"POST", "/api/v1/threads/t5/participants", map[string]string{"employee": "bob"}},
		{"DELETE", "/api/v1/threads/t5/participants/carol", nil},
		{"POST", "/api/v1/opt-in", nil},
	} {
		var e apiError
		if code := f.call(t, r.method, r.path, "carol", r.body, &e); code != 403 || e.Error != msgDisabled || e.Code != codeDisabled {
			t.Errorf("%s %s: %d %+v, want 403 %q", r.method, r.path, code, e, codeDisabled)
		}
	}
	if got := f.upload(t, "t5", "carol", file("photo.png", "image/png", pngBytes)); got.code != 403 || got.err().Code != codeDisabled {
		t.Errorf("upload: %d %s", got.code, got.body)
	}
	if m, n := f.stored(); m != media || n != msgs {
		t.Fatal("a disabled employee changed something")
	}
	// Disabled between sign-in and the bridge's check: the bridge's error says the same.
	rec := newRecorder()
	_ = f.app.fail(rec.ctx, fmt.Errorf("send: %w", bridge.ErrEmployeeDisabled))
	var e apiError
	_ = json.Unmarshal(rec.w.Body.Bytes(), &e)
	if rec.w.Code != 403 || e.Code != codeDisabled || e.Error != msgDisabled {
		t.Fatalf("bridge.ErrEmployeeDisabled answered %d %+v", rec.w.Code, e)
	}
	// The live-update stream refuses a ticket made before she was disabled.
	ticket := f.app.sign.seal(ticketPurpose, "carol", f.clock.Now().Add(ticketLifetime))
	if got := do(t, must(http.NewRequest("GET", f.srv.URL+"/api/v1/events?ticket="+url.QueryEscape(ticket), nil))); got.code != 403 ||
		got.err().Code != codeDisabled {
		t.Fatalf("events: %d %s", got.code, got.body)
	}
}

func TestUnsupportedContentIsExplained(t *testing.T) {
	f := newFixture(t, false)
	rec := newRecorder()
	_ = f.app.fail(rec.ctx, fmt.Errorf("%w: an Official Account sends no files", bridge.ErrUnsupportedContent))
	if rec.w.Code != 422 || !strings.Contains(rec.w.Body.String(), "Official Account sends no files") {
		t.Fatalf("%d %s", rec.w.Code, rec.w.Body)
	}
}
