package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
)

func (en *env) post(t testing.TB, activity map[string]any) *httptest.ResponseRecorder {
	t.Helper()
	body, _ := json.Marshal(activity)
	return serve(en.bot, body, "")
}

func serve(b *Bot, body []byte, authz string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	e := echo.New()
	if err := b.Messages(e.NewContext(req, rec)); err != nil {
		e.HTTPErrorHandler(err, e.NewContext(req, rec))
	}
	return rec
}

// activity builds an inbound activity as Teams (and the Agents Playground) send it.
func activity(en *env, userID, convID, typ string, extra map[string]any) map[string]any {
	a := map[string]any{
		"type": typ, "id": "act-1", "timestamp": "2025-01-02T03:04:05.123Z", "localTimestamp": "2025-01-02T11:04:05.123+08:00",
		"serviceUrl": en.serviceURL(), "channelId": "msteams",
		"from":         map[string]any{"id": userID, "name": "Ann", "aadObjectId": "aad-1"},
		"recipient":    map[string]any{"id": "28:app", "name": "MultiLine"},
		"conversation": map[string]any{"id": convID, "conversationType": "personal", "tenantId": "tenant"},
		"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant"}},
		"locale":       "en-US",
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func msgActivity(en *env, e bridge.Employee, text string) map[string]any {
	return activity(en, e.TeamsUserID, e.Conversation.ConversationID, "message", map[string]any{"text": text})
}

func invokeActivity(en *env, e bridge.Employee, replyTo, verb string, data map[string]any) map[string]any {
	return activity(en, e.TeamsUserID, e.Conversation.ConversationID, "invoke", map[string]any{
		"name": "adaptiveCard/action", "replyToId": replyTo,
		"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
	})
}

// lastText is the card or text of the last activity the bot posted to a conversation.
func (en *env) lastText(t testing.TB, conv string) string {
	acts := en.fake.Activities(conv)
	if len(acts) == 0 {
		t.Fatalf("nothing posted to %s", conv)
	}
	return cardTexts(t, acts[len(acts)-1].Body)
}

func TestInstallAndUninstall(t *testing.T) {
	en := newEnv(t, false)
	en.fake.AddConversation("a:new", "tenant", "29:zoe")
	if rec := en.post(t, activity(en, "29:zoe", "a:new", "installationUpdate", map[string]any{"action": "add"})); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	e, err := en.core.EmployeeByTeamsUser(context.Background(), "tenant", "29:zoe")
	if err != nil {
		t.Fatal(err)
	}
	want := bridge.ConversationRef{ServiceURL: en.srv.URL + "/", ConversationID: "a:new", BotID: "28:app", TenantID: "tenant", UserID: "29:zoe"}
	if e.Conversation != want {
		t.Errorf("reference %+v, want %+v", e.Conversation, want)
	}
	if !strings.Contains(en.lastText(t, "a:new"), "Welcome to MultiLine") {
		t.Error("no welcome card")
	}
	// conversationUpdate stores the reference but does not welcome twice.
	en.post(t, activity(en, "29:zoe", "a:new", "conversationUpdate", map[string]any{"membersAdded": []any{map[string]any{"id": "28:app"}}}))
	if n := len(en.fake.Activities("a:new")); n != 1 {
		t.Errorf("%d activities after conversationUpdate", n)
	}
	en.post(t, activity(en, "29:zoe", "a:new", "installationUpdate", map[string]any{"action": "remove"}))
	if e, _ := en.core.EmployeeByTeamsUser(context.Background(), "tenant", "29:zoe"); e.Conversation.ConversationID != "" {
		t.Error("uninstall kept the reference")
	}
}

// Teams' install activities carry no display name; the first message does, and the
// consumer's notices need it.
func TestNameFromFirstMessage(t *testing.T) {
	en := newEnv(t, false)
	en.fake.AddConversation("a:new", "tenant", "29:zoe")
	install := activity(en, "29:zoe", "a:new", "installationUpdate", map[string]any{"action": "add"})
	install["from"] = map[string]any{"id": "29:zoe", "aadObjectId": "aad-1"}
	en.post(t, install)
	if got := en.lastText(t, "a:new"); !strings.Contains(got, `"Welcome to MultiLine"`) {
		t.Errorf("welcome title for a nameless install: %s", got)
	}
	e, err := en.core.EmployeeByTeamsUser(context.Background(), "tenant", "29:zoe")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "" {
		t.Fatalf("name %q before any message", e.Name)
	}
	en.post(t, msgActivity(en, e, "help"))
	if e, _ = en.core.EmployeeByTeamsUser(context.Background(), "tenant", "29:zoe"); e.Name != "Ann" {
		t.Errorf("name %q after a message from Ann", e.Name)
	}
	if !strings.Contains(en.lastText(t, "a:new"), "threads") {
		t.Error("help not answered")
	}
}

func TestInstallNotEnabled(t *testing.T) {
	en := newEnv(t, false)
	en.core.enabled = false
	en.fake.AddConversation("a:new", "tenant", "29:zoe")
	en.post(t, activity(en, "29:zoe", "a:new", "installationUpdate", map[string]any{"action": "add"}))
	if !strings.Contains(en.lastText(t, "a:new"), "not enabled") {
		t.Error("no explanation")
	}
}

func TestCommands(t *testing.T) {
	en := newEnv(t, false)
	e := en.employee("ann")
	conv := e.Conversation.ConversationID
	t1, t2 := thread("t1", "Li Wei", bridge.StatusActive), thread("t2", "Wang Fang", bridge.StatusActive)
	en.core.addThread(t1, e.ID)

	cases := []struct {
		name, text string
		setup      func()
		want       []string
		sent       int // messages sent to WeChat so far
	}{
		{name: "help", text: "help", want: []string{"threads", "leave"}},
		{name: "threads", text: "threads", want: []string{"Li Wei", `"verb":"reply"`, `"verb":"leave"`, "Open in MultiLine"}},
		{name: "plain text to the only thread", text: "hello there", want: []string{"hello there", "Li Wei", "Delivered"}, sent: 1},
		{name: "two threads, no focus: asks which", text: "who gets this?", setup: func() { en.core.addThread(t2, e.ID) },
			want: []string{"Which conversation", "Wang Fang", "Li Wei"}, sent: 1},
		{name: "leave with several threads: choice", text: "leave", want: []string{"Which conversation do you want to leave", `"verb":"leave"`}, sent: 1},
		{name: "focus decides", text: "to wang", setup: func() { en.core.SetFocus(context.Background(), e.ID, "t2") },
			want: []string{"to wang", "Wang Fang"}, sent: 2},
		{name: "leave the thread in focus: confirmation", text: "leave", want: []string{"Leave the conversation with Wang Fang", `"verb":"leave_confirm"`}, sent: 2},
		{name: "mention stripped", text: "<at>MultiLine</at> help", want: []string{"threads", "leave"}, sent: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			if rec := en.post(t, msgActivity(en, en.core.employee(e.ID), tc.text)); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			got := en.lastText(t, conv)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reply lacks %q: %s", w, got)
				}
			}
			if len(en.core.sent) != tc.sent {
				t.Errorf("sent %d messages, want %d", len(en.core.sent), tc.sent)
			}
		})
	}
}

func TestUnknownEmployee(t *testing.T) {
	en := newEnv(t, false)
	en.fake.AddConversation("a:x", "tenant", "29:nobody")
	en.post(t, activity(en, "29:nobody", "a:x", "message", map[string]any{"text": "hi"}))
	if !strings.Contains(en.lastText(t, "a:x"), "not enabled") {
		t.Error("no explanation for an unknown user")
	}
}

func TestCardActions(t *testing.T) {
	en := newEnv(t, false)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusActive)
	en.core.addThread(th, e.ID)
	th.Messages = []bridge.MessageView{consumerMsg(th, 1, "where is my parcel")}
	en.core.addThread(th, e.ID)
	if err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: th, Message: th.Messages[0], Lang: bridge.English}); err != nil {
		t.Fatal(err)
	}
	cardID := en.fake.Activities(e.Conversation.ConversationID)[0].ID

	invoke := func(verb string, data map[string]any) string {
		t.Helper()
		body, _ := json.Marshal(invokeActivity(en, e, cardID, verb, data))
		rec := serve(en.bot, body, "")
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", verb, rec.Code)
		}
		var r InvokeResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != 200 || r.Type != "application/vnd.microsoft.card.adaptive" || r.Value["type"] != "AdaptiveCard" {
			t.Fatalf("%s: invoke response %s", verb, rec.Body)
		}
		return rec.Body.String()
	}

	got := invoke(cards.VerbSend, map[string]any{"thread": "t1", "reply": "  on its way  "})
	if len(en.core.sent) != 1 || en.core.sent[0].Text != "on its way" {
		t.Fatalf("sent %+v", en.core.sent)
	}
	if !strings.Contains(got, "where is my parcel") || !strings.Contains(got, "on its way") || !strings.Contains(got, "Delivered") {
		t.Errorf("updated card: %s", got)
	}
	if en.core.employee(e.ID).Focus != "t1" {
		t.Error("send did not set the focus")
	}
	if c, ok, _ := en.core.CardForMessage(context.Background(), e.ID, en.core.threads["t1"].Messages[1].ID); !ok || c.ActivityID != cardID {
		t.Errorf("reply not recorded on the card: %+v", c)
	}
	if got := invoke(cards.VerbSend, map[string]any{"thread": "t1", "reply": ""}); !strings.Contains(got, "Type a message first") {
		t.Errorf("empty send: %s", got)
	}
	if got := invoke(cards.VerbLeave, map[string]any{"thread": "t1"}); !strings.Contains(got, "leave_confirm") || !strings.Contains(got, "leave_cancel") {
		t.Errorf("leave did not ask: %s", got)
	}
	if en.core.members["t1"] == nil {
		t.Fatal("left before confirming")
	}
	if got := invoke(cards.VerbLeaveCancel, map[string]any{"thread": "t1"}); !strings.Contains(got, `"verb":"send"`) {
		t.Errorf("cancel did not restore the thread card: %s", got)
	}
	if got := invoke(cards.VerbLeaveConfirm, map[string]any{"thread": "t1"}); !strings.Contains(got, "You left the conversation") {
		t.Errorf("confirm: %s", got)
	}
	if len(en.core.members["t1"]) != 0 {
		t.Error("not left")
	}
	if got := invoke(cards.VerbSend, map[string]any{"thread": "t1", "reply": "x"}); !strings.Contains(got, "no longer exists") {
		t.Errorf("send after leaving: %s", got)
	}
}

func TestTokenRequired(t *testing.T) {
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer meta.Close()
	v, err := auth.New(auth.Config{AppID: "app", MetadataURL: meta.URL})
	if err != nil {
		t.Fatal(err)
	}
	core := newMemBridge()
	b, err := New(Config{Validator: v, Connector: connector.New(connector.Options{}), Bridge: core, Cards: cards.New(cards.Config{}),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBody: 4096})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"installationUpdate","action":"add","serviceUrl":"http://127.0.0.1:1/","channelId":"msteams","from":{"id":"29:x"},"conversation":{"id":"a:1"}}`)
	cases := []struct {
		name  string
		body  []byte
		authz string
		want  int
	}{
		{"no header", body, "", 401},
		{"garbled", body, "Bearer abc", 401},
		{"too big", bytes.Repeat([]byte(" "), 5000), "Bearer abc", 413},
		{"not json", []byte("{"), "Bearer abc", 400},
	}
	for _, tc := range cases {
		if rec := serve(b, tc.body, tc.authz); rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
	if len(core.employees) != 0 {
		t.Error("an unauthenticated activity was processed")
	}
	if _, err := New(Config{Connector: connector.New(connector.Options{}), Bridge: core, Cards: cards.New(cards.Config{})}); err == nil {
		t.Error("a Bot without a validator outside dev mode was accepted")
	}
}
