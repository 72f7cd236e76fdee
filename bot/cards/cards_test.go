package cards

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/testenv"
)

func sampleThread(status bridge.Status) bridge.ThreadSummary {
	return bridge.ThreadSummary{ID: "t1", ConsumerName: "Li Wei 李伟", Status: status, Participants: []string{"Ann", "Bo"},
		LastMessage: "Hello, is my order ready?", LastAt: time.Unix(1_700_000_000, 0), Queued: 2, QueueLimit: 5, SendsLeft: 3}
}

// allCards builds every kind of card, in both languages, including the extremes.
func allCards(t *testing.T) map[string]Card {
	b := New(Config{AppID: "00000000-0000-0000-0000-000000000001"})
	long := strings.Repeat("这是一条很长的消息。", 300) // ~9 KB
	consumer := bridge.MessageView{ID: "t1-1", Thread: "t1", From: bridge.FromConsumer, Text: "Hello, is my order ready?", Status: bridge.StatusReceived}
	image := bridge.MessageView{ID: "t1-2", Thread: "t1", From: bridge.FromConsumer, Media: &bridge.MediaView{Kind: "image", URL: "https://multiline.example/tab/media/m1"}, Status: bridge.StatusReceived}
	file := bridge.MessageView{ID: "t1-3", Thread: "t1", From: bridge.FromConsumer, Text: "see attached", Media: &bridge.MediaView{Kind: "file", FileName: "invoice.pdf", URL: "https://multiline.example/tab/media/m2"}, Status: bridge.StatusReceived}
	queued := bridge.MessageView{ID: "t1-4", Thread: "t1", From: bridge.FromEmployee, AuthorName: "Ann", Text: "Tomorrow", Status: bridge.StatusQueued, Position: 2}
	sent := queued
	sent.Status = bridge.StatusSent
	blocked := queued
	blocked.Status, blocked.Reason, blocked.Position = bridge.StatusBlocked, bridge.BlockedReason([]string{"guarantee"}), 0
	out := map[string]Card{}
	for _, lang := range []bridge.Language{bridge.English, bridge.SimplifiedChinese} {
		p := string(lang) + "/"
		out[p+"message text"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{consumer}, Lang: lang})
		out[p+"message image"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{image}, Lang: lang})
		out[p+"message file"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{file}, Lang: lang})
		out[p+"coalesced with earlier"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{consumer, image, file}, Earlier: 2, Lang: lang})
		out[p+"reply queued"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusInactive), Messages: []bridge.MessageView{consumer, queued}, Lang: lang})
		ownFile := bridge.MessageView{ID: "t1-5", Thread: "t1", From: bridge.FromEmployee, Text: "the contract", Media: &bridge.MediaView{Kind: "file", FileName: "contract.pdf", URL: "/tab/media/m3"}, Status: bridge.StatusSent}
		out[p+"reply with a file"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{consumer, ownFile}, Lang: lang})
		out[p+"reply blocked by a lexicon rule"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{consumer, blocked}, Lang: lang})
		out[p+"reply delivered"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{consumer, sent}, Note: "note", Lang: lang})
		out[p+"closed thread"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusClosed), Messages: []bridge.MessageView{consumer}, Lang: lang})
		var many []bridge.MessageView
		for range 12 {
			many = append(many, bridge.MessageView{ID: "x", From: bridge.FromConsumer, Text: long[:2040]})
		}
		out[p+"too many long messages"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: many, Lang: lang})
		out[p+"one huge message"] = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Messages: []bridge.MessageView{{From: bridge.FromConsumer, Text: long + long + long + long}}, Lang: lang})
		out[p+"leave confirm"] = b.LeaveConfirm(sampleThread(bridge.StatusActive), lang)
		for _, k := range bridge.NoticeKinds() {
			if k.ForConsumer() {
				continue
			}
			th := sampleThread(bridge.StatusActive)
			text := bridge.Render(nil, k, lang, bridge.NoticeParams{Reason: string(bridge.FailTransient)}, bridge.Names{Employee: "Ann"})
			out[p+"notice "+string(k)] = b.Notice(text, &th, lang)
		}
		out[p+"notice without thread"] = b.Notice("Something happened", nil, lang)
		out[p+"welcome"] = b.Welcome("Ann", bridge.Render(nil, bridge.NoticeEmployeeWelcome, lang, bridge.NoticeParams{}, bridge.Names{}), lang)
		out[p+"help"] = b.Help(lang)
		ts := []bridge.ThreadSummary{sampleThread(bridge.StatusActive), sampleThread(bridge.StatusInactive), sampleThread(bridge.StatusAwaitingOptIn)}
		out[p+"threads"] = b.Threads(ts, ListThreads, lang)
		out[p+"threads empty"] = b.Threads(nil, ListThreads, lang)
		out[p+"choose to send"] = b.Threads(ts, ChooseToSend, lang)
		out[p+"choose to leave"] = b.Threads(ts, ChooseToLeave, lang)
		var lots []bridge.ThreadSummary
		for range 200 {
			th := sampleThread(bridge.StatusActive)
			th.LastMessage = long
			lots = append(lots, th)
		}
		out[p+"threads, very many"] = b.Threads(lots, ListThreads, lang)
	}
	out["info"] = b.Info("Sent.")
	return out
}

func TestCardShape(t *testing.T) {
	for name, c := range allCards(t) {
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(raw) >= MaxBytes {
			t.Errorf("%s: %d bytes, limit %d", name, len(raw), MaxBytes)
		}
		var root map[string]any
		json.Unmarshal(raw, &root)
		if root["type"] != "AdaptiveCard" || root["version"] != "1.5" {
			t.Errorf("%s: root type %v version %v", name, root["type"], root["version"])
		}
		if strings.Contains(string(raw), `"text":""`) {
			t.Errorf("%s: empty TextBlock", name)
		}
	}
}

func TestChineseCardsAreChinese(t *testing.T) {
	c := New(Config{AppID: "a"}).LeaveConfirm(sampleThread(bridge.StatusActive), bridge.SimplifiedChinese)
	raw, _ := json.Marshal(c)
	if !strings.Contains(string(raw), "退出") || strings.Contains(string(raw), "Leave the conversation") {
		t.Fatalf("not translated: %s", raw)
	}
}

func TestThreadCardActions(t *testing.T) {
	b := New(Config{AppID: "app-1", TeamsBase: "https://teams.example/"})
	c := b.Thread(ThreadView{Thread: sampleThread(bridge.StatusActive), Lang: bridge.English})
	raw, _ := json.Marshal(c["actions"])
	var acts []map[string]any
	json.Unmarshal(raw, &acts)
	if len(acts) != 3 {
		t.Fatalf("actions %s", raw)
	}
	if acts[0]["verb"] != VerbSend || acts[0]["type"] != "Action.Execute" || acts[0]["data"].(map[string]any)["thread"] != "t1" {
		t.Errorf("send action %v", acts[0])
	}
	want := `https://teams.example/l/entity/app-1/multiline?context=%7B%22subEntityId%22%3A%22t1%22%7D`
	if acts[1]["url"] != want {
		t.Errorf("deep link %v, want %s", acts[1]["url"], want)
	}
	if acts[2]["verb"] != VerbLeave {
		t.Errorf("leave action %v", acts[2])
	}
	// A closed thread has no reply box.
	c = b.Thread(ThreadView{Thread: sampleThread(bridge.StatusClosed), Lang: bridge.English})
	raw, _ = json.Marshal(c)
	if strings.Contains(string(raw), `"verb":"send"`) || strings.Contains(string(raw), "Input.Text") {
		t.Error("closed thread offers a reply box")
	}
}

func TestMessageStatus(t *testing.T) {
	cases := []struct {
		m    bridge.MessageView
		lang bridge.Language
		want string
	}{
		{bridge.MessageView{Status: bridge.StatusQueued, Position: 2}, bridge.English, "Queued 2 of 5"},
		{bridge.MessageView{Status: bridge.StatusSent}, bridge.English, "Delivered"},
		{bridge.MessageView{Status: bridge.StatusSent}, bridge.SimplifiedChinese, "已送达"},
		{bridge.MessageView{Status: bridge.StatusNotQueued}, bridge.English, "Not queued"},
		{bridge.MessageView{Status: bridge.StatusBlocked, Reason: bridge.BlockedReason([]string{"guarantee"})}, bridge.English, "Blocked by policy: guarantee"},
		{bridge.MessageView{Status: bridge.StatusBlocked, Reason: bridge.BlockedReason([]string{"guarantee"})}, bridge.SimplifiedChinese, "被策略拦截：guarantee"},
		{bridge.MessageView{Status: bridge.StatusReceived}, bridge.English, ""},
	}
	for _, tc := range cases {
		if got := MessageStatus(tc.lang, tc.m, 5); got != tc.want {
			t.Errorf("MessageStatus(%v) = %q, want %q", tc.m.Status, got, tc.want)
		}
	}
}

// TestCardsParseWithAdaptiveCardsLibrary runs every card through the npm
// adaptivecards library (the renderer Teams builds on) and demands zero warnings.
func TestCardsParseWithAdaptiveCardsLibrary(t *testing.T) {
	node := testenv.Node(t)
	testenv.Modules(t, "adaptivecards")
	root := testenv.Root(t)
	cards := allCards(t)
	in, _ := json.Marshal(cards)
	cmd := exec.Command(node, "testdata/validate.js", root)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var problems map[string][]string
	if err := json.Unmarshal(out, &problems); err != nil {
		t.Fatalf("validator output %q: %v", out, err)
	}
	if len(problems) != len(cards) {
		t.Fatalf("validator saw %d cards, sent %d", len(problems), len(cards))
	}
	for name, ps := range problems {
		for _, p := range ps {
			t.Errorf("%s: %s", name, p)
		}
	}
}
