package cards

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// FuzzThreadCard: whatever the consumer's name, their messages, the file
// names and the notes say (text from WeChat, names from Teams), every card
// the bot builds stays an Adaptive Card 1.5 under Teams' 28 KB, and a thread
// card has its reply box and Send exactly when the thread can be answered.
func FuzzThreadCard(f *testing.F) {
	f.Add("Li Wei", "where is my parcel", "invoice.pdf", "Ann", "", uint8(3))
	f.Add("王芳", "你好，我的包裹在哪里？", "发票.pdf", "张三", "The message is empty.", uint8(1))
	f.Add(strings.Repeat("名", 3000), strings.Repeat("x", 2048), strings.Repeat("f", 300), strings.Repeat("A", 5000), strings.Repeat("n", 9000), uint8(40))
	f.Add("*bold* [x](javascript:alert(1)) <at>y</at>", "\x00\xff\xfe", "../../etc/passwd", "\u202eevil", "\n\n", uint8(2))
	b := New(Config{AppID: "app"})
	statuses := []bridge.Status{bridge.StatusActive, bridge.StatusInactive, bridge.StatusClosed, bridge.StatusUnrouted, bridge.StatusAwaitingOptIn}
	answerable := map[bridge.Status]bool{bridge.StatusActive: true, bridge.StatusInactive: true, bridge.StatusAwaitingOptIn: true}
	f.Fuzz(func(t *testing.T, consumer, text, fileName, person, note string, n uint8) {
		th := bridge.ThreadSummary{ID: "t1", ConsumerName: consumer, Status: statuses[int(n)%len(statuses)],
			QueueLimit: 5, SendsLeft: int(n % 6), Queued: int(n % 4), Participants: []string{person, person + "2"}, LastMessage: text, LastAt: time.Unix(1700000000, 0)}
		var msgs []bridge.MessageView
		for i := range int(n % 48) {
			m := bridge.MessageView{ID: bridge.MessageID("m" + string(rune('a'+i))), Thread: th.ID, Text: text, Status: bridge.StatusSent}
			switch i % 4 {
			case 1:
				m.From, m.AuthorName = bridge.FromEmployee, person
			case 2:
				m.Media = &bridge.MediaView{Kind: "file", FileName: fileName, URL: "https://multiline.example/api/v1/media/r1?sig=1.x"}
			case 3:
				m.From, m.Media = bridge.FromEmployee, &bridge.MediaView{Kind: "image", FileName: fileName}
			}
			msgs = append(msgs, m)
		}
		lang := []bridge.Language{bridge.English, bridge.SimplifiedChinese}[n%2]
		card := b.Thread(ThreadView{Thread: th, Messages: msgs, Note: note, Lang: lang})
		checkFits(t, "thread", card)
		js, _ := json.Marshal(card)
		if hasSend := strings.Contains(string(js), `"verb":"`+VerbSend+`"`) && strings.Contains(string(js), `"id":"`+ReplyInputID+`"`); hasSend != answerable[th.Status] {
			t.Fatalf("%s thread: reply box and Send shown %v", th.Status, hasSend)
		}
		many := slices.Repeat([]bridge.ThreadSummary{th}, int(n%64)+1)
		for name, c := range map[string]Card{
			"threads":       b.Threads(many, ListThreads, lang),
			"leave confirm": b.LeaveConfirm(th, lang),
			"notice":        b.Notice(note+text, &th, lang),
			"welcome":       b.Welcome(person, note, lang),
			"info":          b.Info(note),
		} {
			checkFits(t, name, c)
		}
	})
}

// checkFits fails unless c is an Adaptive Card 1.5 under MaxBytes.
func checkFits(t *testing.T, name string, c Card) {
	t.Helper()
	if c["type"] != "AdaptiveCard" || c["version"] != Version || size(c) >= MaxBytes {
		t.Fatalf("%s card: type %v, version %v, %d bytes (limit %d)", name, c["type"], c["version"], size(c), MaxBytes)
	}
}
