package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/testenv"
)

func renderEML(t *testing.T, c Conversation, day time.Time, events []Event, media MediaSource) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteEML(context.Background(), &b, c, day, events, media); err != nil {
		t.Fatalf("WriteEML: %v", err)
	}
	return b.Bytes()
}

// TestEMLStable: the same day renders to the same bytes, and its Message-ID
// depends on the company, thread and day only, so a day re-sent with more events
// replaces the earlier copy.
func TestEMLStable(t *testing.T) {
	f := newFixture(t)
	a := renderEML(t, f.conv, day1, f.t1Day1, f.media)
	b := renderEML(t, f.conv, day1.Add(13*time.Hour), f.t1Day1, f.media)
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of one day differ")
	}
	id := DayMessageID("acme", "T1", day1, "")
	if !bytes.Contains(a, []byte("\r\nMessage-ID: <"+id+">\r\n")) {
		t.Fatalf("Message-ID %s not in\n%s", id, a[:600])
	}
	partial := renderEML(t, f.conv, day1, f.t1Day1[:5], f.media)
	if !bytes.Contains(partial, []byte("<"+id+">")) || bytes.Equal(partial, a) {
		t.Fatal("a partial day must keep the Message-ID and differ in content")
	}
	for _, other := range []string{
		DayMessageID("acme", "T1", day2, ""), DayMessageID("acme", "T2", day1, ""),
		DayMessageID("other", "T1", day1, ""), DayMessageID("acme", "T1", day1, "example.com"),
	} {
		if other == id {
			t.Fatalf("Message-ID %s is not distinct", id)
		}
	}
	if !bytes.Contains(a, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(a, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("lines must end in CRLF")
	}
}

// parsedEML is what testdata/parse_eml.{js,py} print for one message.
type parsedEML struct {
	Subject     string
	From, To    []struct{ Name, Address string }
	Date        string
	MessageID   string `json:"messageId"`
	Headers     map[string]string
	Text, HTML  string
	Attachments []struct {
		Filename, ContentType, Sha256 string
		Size                          int
	}
	Defects []string
}

// expectEML is what a parser must find in one message.
type expectEML struct {
	name        string
	subject     string
	from        string
	to          []string
	date        time.Time
	messageID   string
	headers     map[string]string
	text, html  []string
	attachments map[string]string // filename → sha256
}

func (w expectEML) check(t *testing.T, parser string, got parsedEML) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s, %s: "+format, append([]any{parser, w.name}, args...)...)
	}
	if got.Subject != w.subject {
		fail("subject %q, want %q", got.Subject, w.subject)
	}
	if len(got.From) != 1 || got.From[0].Address+" "+got.From[0].Name != w.from {
		fail("from %+v, want %s", got.From, w.from)
	}
	var to []string
	for _, a := range got.To {
		to = append(to, a.Address+" "+a.Name)
	}
	if strings.Join(to, ",") != strings.Join(w.to, ",") {
		fail("to %q, want %q", to, w.to)
	}
	if d, err := time.Parse(time.RFC3339, got.Date); err != nil || !d.Equal(w.date) {
		fail("date %q, want %s", got.Date, w.date)
	}
	if got.MessageID != "<"+w.messageID+">" {
		fail("message-id %q, want <%s>", got.MessageID, w.messageID)
	}
	for k, v := range w.headers {
		if got.Headers[k] != v {
			fail("header %s = %q, want %q", k, got.Headers[k], v)
		}
	}
	for _, s := range w.text {
		if !strings.Contains(got.Text, s) {
			fail("text/plain lacks %q:\n%s", s, got.Text)
		}
	}
	for _, s := range w.html {
		if !strings.Contains(got.HTML, s) {
			fail("text/html lacks %q", s)
		}
	}
	if len(got.Attachments) != len(w.attachments) {
		fail("%d attachments, want %d: %+v", len(got.Attachments), len(w.attachments), got.Attachments)
	}
	for _, a := range got.Attachments {
		if sum, ok := w.attachments[a.Filename]; !ok || sum != a.Sha256 {
			fail("attachment %+v unexpected", a)
		}
	}
	if len(got.Defects) > 0 {
		fail("defects %q", got.Defects)
	}
}

// TestEMLParsers: npm mailparser and Python's email package (policy.default),
// two parsers independent of ours and of each other, read the same headers, both
// transcripts and the attachments, and the Message-ID stays the same across
// renders of a day.
func TestEMLParsers(t *testing.T) {
	node, modules := testenv.Node(t), testenv.Modules(t, "mailparser")
	python, err := exec.LookPath("python3")
	testenv.Require(t, err == nil, "python3")

	f := newFixture(t)
	dir := t.TempDir()
	var files []string
	var wants []expectEML
	add := func(w expectEML, eml []byte) {
		path := filepath.Join(dir, w.name+".eml")
		if err := os.WriteFile(path, eml, 0o600); err != nil {
			t.Fatal(err)
		}
		files, wants = append(files, path), append(wants, w)
	}

	last := f.t1Day1[len(f.t1Day1)-1]
	id := DayMessageID("acme", "T1", day1, "")
	full := expectEML{
		name:    "full",
		subject: "WeChat conversation with 张三 on 2026-11-24",
		from:    "wechat-wmZhangSan01@wechat.invalid 张三",
		to:      []string{"alice@contoso.com Alice Smith", "bob@contoso.com Bob 李"},
		date:    last.Time.Truncate(time.Second), messageID: id,
		headers: map[string]string{
			"x-multiline-thread": "T1", "x-multiline-company": "acme", "x-multiline-channel": "wecom-kf",
			"x-multiline-wechat-user": "wmZhangSan01", "x-multiline-wechat-account": "wkKF0001",
			"x-multiline-wechat-corp": "ww1234567890", "x-multiline-day": "2026-11-24",
			"x-multiline-first-seq": "1", "x-multiline-last-seq": "15", "x-multiline-chain-hash": last.Hash.String(),
		},
		text: []string{
			"[09:15:02] #2 张三 <wechat-wmZhangSan01@wechat.invalid> (consumer) — Message T1-1:\n    你好，我想问一下账户的问题。",
			"[09:16:10] #3 Alice Smith <alice@contoso.com> (employee) — Message T1-2:\n    my card is 1234 5678 9012 3456\n      → the consumer saw: my card is ***",
			"Lexicon policy [automatic] — Lexicon redact:\n    redact on outbound message T1-2 (rules: card-number)",
			"message T1-2: delivered",
			"MultiLine [automatic] — Automatic notice to the consumer:\n    您的顾问稍后回复您。",
			"Lexicon block:\n    block on outbound message T1-6 (rules: insider)\n      → original: insider tip: buy now\n      → not delivered",
			"message T1-6: blocked (blocked by policy: insider)",
			"Automatic notice to employees:\n    Your previous message was not sent because of illegal content.",
			"→ attached as 照片.png",
			"Bob 李 <bob@contoso.com> (employee) joined the thread (by Alice Smith",
		},
		html: []string{
			`<tr class="message-in" data-seq="2">`, "你好，我想问一下账户的问题。",
			"Alice Smith &lt;alice@contoso.com&gt; (employee)",
			`<tr class="notice-consumer automatic" data-seq="6">`, "Automatic notice to the consumer (automatic)", "您的顾问稍后回复您。",
			`<tr class="lexicon automatic" data-seq="12">`, "Lexicon block (automatic)",
			"message T1-6: blocked (blocked by policy: insider)", "the consumer saw: my card is ***",
		},
		attachments: map[string]string{"照片.png": Sum(photo).String(), "contract.pdf": Sum(contract).String()},
	}
	a := renderEML(t, f.conv, day1, f.t1Day1, f.media)
	add(full, a)
	full.name = "again"
	add(full, renderEML(t, f.conv, day1, f.t1Day1, f.media))

	partial := full
	partial.name, partial.date = "partial", f.t1Day1[4].Time.Truncate(time.Second)
	partial.to = []string{"alice@contoso.com Alice Smith"}
	partial.headers = map[string]string{"x-multiline-last-seq": "5", "x-multiline-chain-hash": f.t1Day1[4].Hash.String()}
	partial.text, partial.html = full.text[:4], full.html[:3]
	partial.attachments = nil
	add(partial, renderEML(t, f.conv, day1, f.t1Day1[:5], f.media))

	// Retention: the photo's bytes are gone and a message body purged.
	purged := full
	purged.name = "purged"
	// The consumer's first message is purged: the first readable author is From.
	purged.from = "alice@contoso.com Alice Smith"
	purged.to = []string{"wechat-wmZhangSan01@wechat.invalid 张三", "bob@contoso.com Bob 李"}
	purged.attachments = map[string]string{"contract.pdf": Sum(contract).String()}
	purged.text = []string{"#2 Archive — Purged:\n    the body of this message.in event was removed by retention",
		"→ not attached: the media is no longer stored", "message T1-6: blocked"}
	purged.html = []string{`<tr class="purged" data-seq="2">`}
	es := append([]Event(nil), f.t1Day1...)
	es[1] = es[1].WithoutBody()
	add(purged, renderEML(t, f.conv, day1, es, mediaMap{Sum(contract): contract}))

	// An Official Account thread without media: multipart/alternative alone.
	var t2 []Event
	for _, e := range f.mem.Chain(ChainID{Company: "acme", Thread: "T2"}) {
		if DayOf(e.Time).Equal(day1) {
			t2 = append(t2, e)
		}
	}
	oa := Conversation{Company: "acme", Thread: "T2", Channel: ChannelOfficialAccount, Consumer: Party{ID: "oOpenID_2"},
		Account: "wxAPPID", Employees: []Party{bob}}
	add(expectEML{
		name: "official-account", subject: "WeChat conversation with wechat-oOpenID_2@wechat.invalid on 2026-11-24",
		from: "wechat-oOpenID_2@wechat.invalid Li", to: []string{"bob@contoso.com Bob 李"},
		date: t2[0].Time, messageID: DayMessageID("acme", "T2", day1, ""),
		headers: map[string]string{"x-multiline-channel": "official-account", "x-multiline-wechat-user": "oOpenID_2",
			"x-multiline-wechat-account": "wxAPPID", "x-multiline-first-seq": "1", "x-multiline-last-seq": "1"},
		text: []string{"Li <wechat-oOpenID_2@wechat.invalid> (consumer) — Message T2-1:\n    hello"},
		html: []string{"hello"},
	}, renderEML(t, oa, day1, t2, f.media))

	parsers := map[string]*exec.Cmd{
		"mailparser":   exec.Command(node, append([]string{filepath.Join("testdata", "parse_eml.js"), modules}, files...)...),
		"python email": exec.Command(python, append([]string{filepath.Join("testdata", "parse_eml.py")}, files...)...),
	}
	for name, cmd := range parsers {
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		var got []parsedEML
		if err := json.Unmarshal(out, &got); err != nil || len(got) != len(wants) {
			t.Fatalf("%s printed %d messages (%v):\n%s", name, len(got), err, out)
		}
		for i, w := range wants {
			w.check(t, name, got[i])
		}
		if got[0].MessageID != got[1].MessageID || got[0].MessageID != got[2].MessageID || got[0].MessageID != got[3].MessageID {
			t.Errorf("%s: Message-ID changed across renders of one day", name)
		}
	}
}

// TestEMLRefuses: the wrong events, or media that does not match its recorded
// hash, are refused rather than archived.
func TestEMLRefuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var b bytes.Buffer
	if err := WriteEML(ctx, &b, f.conv, day2, f.t1Day1, f.media); err == nil || !strings.Contains(err.Error(), "not 2026-11-25") {
		t.Errorf("wrong day: %v", err)
	}
	other := f.conv
	other.Thread = "T2"
	if err := WriteEML(ctx, &b, other, day1, f.t1Day1, f.media); err == nil || !strings.Contains(err.Error(), "not of thread") {
		t.Errorf("wrong thread: %v", err)
	}
	if err := WriteEML(ctx, &b, f.conv, day1, nil, f.media); err == nil {
		t.Error("no events accepted")
	}
	bad := mediaMap{Sum(photo): []byte("altered"), Sum(contract): contract}
	if err := WriteEML(ctx, &b, f.conv, day1, f.t1Day1, bad); !errors.Is(err, ErrMediaMismatch) {
		t.Errorf("altered media: %v", err)
	}
}
