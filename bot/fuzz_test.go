package bot

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bridge"
)

// The fuzz targets of what Teams (or anyone who reaches /api/messages) sends
// the bot: activities, and the Adaptive Card action payloads inside invokes.
// They drive the real handler (Bot.Messages) over the test bridge, with the
// fake Bot Connector answering in the process. `make test-fuzz` runs each for
// a few seconds; the seeds here and in testdata/fuzz run with every `go test`.

// fuzzEnv is an env for one fuzz input: an enabled employee, Ann, with an
// active thread t1 she is in (and its card, posted), and a thread t2 of
// someone else. The limiter's clock is moved an hour on for every input, so
// replies never wait.
func fuzzEnv(t testing.TB) (*env, bridge.Employee) {
	en := newEnvWith(t, envOptions{clock: true, inProcess: true})
	en.now.Add(time.Hour)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusActive)
	th.Messages = []bridge.MessageView{consumerMsg(th, 1, "where is my parcel")}
	en.core.addThread(th, e.ID)
	en.core.addThread(thread("t2", "Wang Fang", bridge.StatusActive), "bob")
	en.core.SaveCard(t.Context(), Card{Employee: e.ID, Thread: "t1", ActivityID: "card-1", Messages: []bridge.MessageID{th.Messages[0].ID}})
	return en, en.core.employee(e.ID)
}

// snapshot is everything the test bridge holds, as JSON, to compare before
// and after a request.
func (m *memBridge) snapshot(t testing.TB) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := json.Marshal(map[string]any{"employees": m.employees, "threads": m.threads, "members": m.members, "cards": m.cards,
		"sent": m.sent, "unreachable": m.unreachable, "seq": m.seq})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkCard fails unless c is an Adaptive Card Teams takes: version 1.5 and
// under Teams' 28 KB.
func checkCard(t *testing.T, what string, c cards.Card) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if c["type"] != "AdaptiveCard" || c["version"] != cards.Version || len(b) >= cards.MaxBytes {
		t.Fatalf("%s: a card of type %v, version %v, %d bytes", what, c["type"], c["version"], len(b))
	}
}

// checkPosted fails unless every card the bot posted to Teams is one Teams takes.
func checkPosted(t *testing.T, en *env) {
	t.Helper()
	for _, conv := range en.fake.Conversations() {
		for _, a := range en.fake.Activities(conv) {
			var act struct {
				Attachments []struct {
					ContentType string     `json:"contentType"`
					Content     cards.Card `json:"content"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(a.Body, &act); err != nil {
				t.Fatalf("posted %s: %v", a.Body, err)
			}
			for _, at := range act.Attachments {
				if at.ContentType == "application/vnd.microsoft.card.adaptive" {
					checkCard(t, "posted card", at.Content)
				}
			}
		}
	}
}

// activitySeeds are activities as Teams and the Agents Playground send them.
func activitySeeds(t testing.TB) [][]byte {
	en, e := fuzzEnv(t)
	msg := func(text string) map[string]any { return msgActivity(en, e, text) }
	acts := []map[string]any{
		msg("hello"), msg("help"), msg("threads"), msg("leave"), msg("<at>MultiLine</at> 帮助"), msg(""),
		activity(en, e.TeamsUserID, e.Conversation.ConversationID, "installationUpdate", map[string]any{"action": "add"}),
		activity(en, "29:zoe", "a:zoe", "installationUpdate", map[string]any{"action": "add-upgrade"}),
		activity(en, e.TeamsUserID, e.Conversation.ConversationID, "installationUpdate", map[string]any{"action": "remove"}),
		activity(en, e.TeamsUserID, e.Conversation.ConversationID, "conversationUpdate", map[string]any{"membersAdded": []any{map[string]any{"id": "28:app"}}}),
		invokeActivity(en, e, "card-1", cards.VerbSend, map[string]any{"thread": "t1", "reply": "on its way"}),
		invokeActivity(en, e, "card-1", cards.VerbLeave, map[string]any{"thread": "t1"}),
		invokeActivity(en, e, "card-1", cards.VerbLeaveConfirm, map[string]any{"thread": "t1"}),
		activity(en, e.TeamsUserID, e.Conversation.ConversationID, "invoke", map[string]any{"name": "adaptiveCard/action", "value": "not an object"}),
		activity(en, e.TeamsUserID, e.Conversation.ConversationID, "message", map[string]any{"text": "see attached", "attachments": []any{
			map[string]any{"contentType": FileDownloadInfoType, "name": "report.pdf",
				"content": map[string]any{"downloadUrl": "https://contoso.sharepoint.com/report.pdf", "uniqueId": "u1", "fileType": "pdf"}},
			map[string]any{"contentType": "image/*", "contentUrl": inProcessURL + "v3/attachments/a1/views/original"},
		}}),
		activity(en, e.TeamsUserID, "19:group", "message", map[string]any{"text": "hi", "conversation": map[string]any{"id": "19:group", "isGroup": true, "conversationType": "groupChat"}}),
	}
	var out [][]byte
	for _, a := range acts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzActivity: any body posted to /api/messages (in local mode, where no
// token is asked) gets a 2xx or a 4xx, never a 5xx. A 4xx changes nothing and
// posts nothing to Teams; an invoke is answered with a card Teams takes; and
// every card the bot posts is one Teams takes (version 1.5, under 28 KB),
// whatever text, names and attachments the activity carries.
func FuzzActivity(f *testing.F) {
	for _, s := range activitySeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"type":"message","text":"x"`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"type":"message","timestamp":"yesterday","value":[1,2],"channelData":{"tenant":"t"},"conversation":{"tenantId":"tenant"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		en, _ := fuzzEnv(t)
		before := en.core.snapshot(t)
		rec := serve(en.bot, body, "")
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for %s", rec.Code, body)
		case rec.Code >= 400:
			if after := en.core.snapshot(t); after != before {
				t.Fatalf("status %d, yet the bridge changed:\n%s\n%s", rec.Code, before, after)
			}
			if n := len(en.fake.Requests()); n != 0 {
				t.Fatalf("status %d, yet %d requests to Teams", rec.Code, n)
			}
			return
		case rec.Code >= 300 || rec.Code < 200:
			t.Fatalf("status %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
			var r InvokeResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.StatusCode != http.StatusOK || r.Type != "application/vnd.microsoft.card.adaptive" {
				t.Fatalf("invoke answered %s (%v)", rec.Body, err)
			}
			checkCard(t, "invoke response", r.Value)
		}
		checkPosted(t, en)
	})
}

// FuzzCardAction: any value of an adaptiveCard/action invoke (what a card
// sends back when Ann presses a button: verb, thread, the reply box's text)
// is answered 200 with a card Teams takes. Only Send sends, and then exactly
// the reply box's text, trimmed, to a thread Ann is in; only Send and Reply
// move her focus; only Leave (confirmed) takes her out of a thread; every
// other payload changes nothing.
func FuzzCardAction(f *testing.F) {
	for _, v := range []string{
		`{"action":{"type":"Action.Execute","verb":"send","data":{"thread":"t1","reply":"  on its way  "}},"trigger":"manual"}`,
		`{"action":{"type":"Action.Execute","verb":"send","data":{"thread":"t1","reply":""}}}`,
		`{"action":{"type":"Action.Execute","verb":"send","data":{"thread":"t2","reply":"not my thread"}}}`,
		`{"action":{"type":"Action.Execute","verb":"reply","data":{"thread":"t1"}}}`,
		`{"action":{"type":"Action.Execute","verb":"leave","data":{"thread":"t1"}}}`,
		`{"action":{"type":"Action.Execute","verb":"leave_confirm","data":{"thread":"t1"}}}`,
		`{"action":{"type":"Action.Execute","verb":"leave_cancel","data":{"thread":"t1"}}}`,
		`{"action":{"type":"Action.Execute","verb":"delete_everything","data":{"thread":"t1"}}}`,
		`{"action":{"verb":"send","data":{"thread":["t1"],"reply":{"text":"x"}}}}`,
		`{"action":null}`,
		`"send"`,
		`{}`,
	} {
		f.Add([]byte(v), "card-1")
	}
	f.Fuzz(func(t *testing.T, value []byte, replyTo string) {
		if !json.Valid(value) {
			return // the activity would not be JSON: FuzzActivity's case
		}
		en, e := fuzzEnv(t)
		a := activity(en, e.TeamsUserID, e.Conversation.ConversationID, "invoke",
			map[string]any{"name": "adaptiveCard/action", "replyToId": replyTo, "value": json.RawMessage(value)})
		body, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		before := en.core.snapshot(t)
		rec := serve(en.bot, body, "")
		var r InvokeResponse
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &r) != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		checkCard(t, "invoke response", r.Value)

		var v invokeAction
		_ = json.Unmarshal(value, &v)
		verb, tid := v.Action.Verb, bridge.ThreadID(v.str("thread"))
		en.core.mu.Lock()
		sent, focus, inT1 := slices.Clone(en.core.sent), en.core.employees[e.ID].Focus, slices.Contains(en.core.members["t1"], e.ID)
		en.core.mu.Unlock()
		if len(sent) > 0 && (verb != cards.VerbSend || tid != "t1" || len(sent) != 1 || sent[0].Text != strings.TrimSpace(v.str(cards.ReplyInputID))) {
			t.Fatalf("%s on %q sent %+v", verb, tid, sent)
		}
		if focus != e.Focus && (verb != cards.VerbSend && verb != cards.VerbReply || focus != "t1") {
			t.Fatalf("%s on %q moved the focus to %q", verb, tid, focus)
		}
		if !inT1 && (verb != cards.VerbLeaveConfirm || tid != "t1") {
			t.Fatalf("%s on %q took Ann out of t1", verb, tid)
		}
		switch verb {
		case cards.VerbSend, cards.VerbReply, cards.VerbLeaveConfirm:
		default:
			if after := en.core.snapshot(t); after != before {
				t.Fatalf("%s changed the bridge:\n%s\n%s", verb, before, after)
			}
		}
		if n := len(en.fake.Requests()); n != 0 {
			t.Fatalf("an invoke is answered in its response, yet %d requests to Teams", n)
		}
	})
}
