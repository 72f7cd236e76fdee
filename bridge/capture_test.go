package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/testenv"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

// captureBackends are the two production databases the capture is shown on.
var captureBackends = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "capture.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
}

func openStore(t *testing.T, url string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// captured is one conversation driven through the service, as a user sees it.
type captured struct {
	f              *fixture
	thread         bridge.ThreadID
	alice, bob     bridge.EmployeeID
	photo          []byte
	photoMessageID string
}

// converse plays a day of one conversation: the consumer writes (and is
// routed to Alice, both sides get the welcome notices), sends a photo, Alice
// answers, adds Bob, Bob leaves, the consumer sends #LEAVE; an admin changes
// the policy, and the day is anchored.
func converse(t *testing.T, db *storage.DB) captured {
	t.Helper()
	ctx := context.Background()
	f := newFixtureOn(t, db)
	c := captured{f: f, alice: f.employee("Alice"), photo: []byte("\x89PNG the consumer's photo")}
	receive := func(msgid string, body bridge.Content) {
		t.Helper()
		if err := f.svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: msgid, Account: "kf1",
			Consumer: "wmZhang", ConsumerName: "张三", At: f.now(), Body: body}}); err != nil {
			t.Fatal(err)
		}
		f.drain()
	}
	receive("m1", bridge.Content{Text: "你好, I have a question about my account"})
	c.thread = f.onlyThread(c.alice).ID
	c.bob = f.employee("Bob") // after the routing, which would take turns
	ref, err := db.PutMedia(ctx, "default", "image/png", "photo.png", c.photo)
	if err != nil {
		t.Fatal(err)
	}
	receive("m2", bridge.Content{MediaKind: "image", MediaRef: ref, FileName: "photo.png"})
	if _, err := f.svc.Send(ctx, c.alice, c.thread, bridge.Content{Text: "Thanks, let me look into it."}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	if err := f.svc.AddParticipant(ctx, c.alice, c.thread, c.bob); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(ctx, c.bob, c.thread); err != nil {
		t.Fatal(err)
	}
	f.drain()
	receive("m3", bridge.Content{Text: "#LEAVE"})
	settings, err := f.svc.CompanySettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings.Policy.QueueLimit = 4
	admin := archive.Party{Role: archive.RoleAdmin, ID: "oid-admin", Name: "Ada Admin"}
	if err := f.svc.SetPolicy(bridge.WithAdmin(ctx, admin), settings.Policy, settings.Overrides); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetEmployeeEnabled(bridge.WithAdmin(ctx, admin), c.bob, false); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Anchor(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// chainOf reads one chain through the Reader that verify uses.
func chainOf(t *testing.T, r archive.Reader, company, thread string) []archive.Event {
	t.Helper()
	var out []archive.Event
	if err := r.Events(context.Background(), archive.ChainID{Company: company, Thread: thread}, func(e archive.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCaptureConversation: everything the people in a conversation saw is in
// the thread's chain, in the order it happened, with its author; the admin's
// change and the anchor are on the company chain; and the record verifies.
func TestCaptureConversation(t *testing.T) {
	for _, be := range captureBackends {
		t.Run(be.name, func(t *testing.T) {
			db := openStore(t, be.url(t))
			c := converse(t, db)
			events := chainOf(t, db, "default", string(c.thread))

			type line struct {
				kind archive.Kind
				what string
			}
			var got []line
			for _, e := range events {
				var what string
				switch e.Kind {
				case archive.KindMessageIn, archive.KindMessageOut:
					var b archive.MessageBody
					mustDecode(t, e, &b)
					what = b.Author.Name + ": " + b.Text + b.MediaKind
				case archive.KindNoticeConsumer, archive.KindNoticeEmployees:
					var b archive.NoticeBody
					mustDecode(t, e, &b)
					what = b.Template + "/" + b.Language
					for _, p := range b.To {
						what += " → " + p.Name
					}
				case archive.KindParticipantAdded, archive.KindParticipantLeft:
					var b archive.ParticipantBody
					mustDecode(t, e, &b)
					what = b.Employee.Name
					if b.By != nil {
						what += " by " + b.By.Name
					}
				case archive.KindStatus:
					var b archive.StatusBody
					mustDecode(t, e, &b)
					what = b.Status
				case archive.KindMedia:
					var b archive.MediaBody
					mustDecode(t, e, &b)
					if b.SHA256 != archive.Sum(c.photo) || b.Size != int64(len(c.photo)) || b.ContentType != "image/png" {
						t.Errorf("media recorded as %+v, want the photo's sha256 %s", b, archive.Sum(c.photo))
					}
					what = b.FileName
				case archive.KindLeave:
					var b archive.LeaveBody
					mustDecode(t, e, &b)
					what = b.Consumer.Name
				}
				got = append(got, line{e.Kind, what})
			}
			want := []line{
				{archive.KindMessageIn, "张三: 你好, I have a question about my account"},
				{archive.KindNoticeConsumer, "consumer_welcome/en"},
				{archive.KindNoticeEmployees, "employee_welcome/en → Alice"},
				{archive.KindParticipantAdded, "Alice"},
				{archive.KindStatus, "sent"}, // the welcome notice, once WeChat took it
				{archive.KindMessageIn, "张三: image"},
				{archive.KindMedia, "photo.png"},
				{archive.KindMessageOut, "Alice: Thanks, let me look into it."},
				{archive.KindStatus, "sending"},
				{archive.KindStatus, "sent"},
				{archive.KindNoticeEmployees, "participant_added/en → Alice"},
				{archive.KindNoticeEmployees, "participant_added/en → Bob"},
				{archive.KindParticipantAdded, "Bob by Alice"},
				{archive.KindNoticeEmployees, "you_left/en → Bob"},
				{archive.KindNoticeEmployees, "participant_left/en → Alice"},
				{archive.KindNoticeConsumer, "consumer_employee_left/en"},
				{archive.KindParticipantLeft, "Bob"},
				{archive.KindStatus, "sent"},
				{archive.KindMessageIn, "张三: #LEAVE"},
				{archive.KindLeave, "张三"},
				{archive.KindNoticeEmployees, "contact_left/en → Alice"},
				{archive.KindNoticeConsumer, "consumer_left/en"},
				{archive.KindStatus, "sent"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("thread chain:\n%s\nwant:\n%s", fmtLines(got), fmtLines(want))
			}

			// What the consumer was sent is what the record says they saw.
			var noticeTexts []string
			for _, e := range events {
				if e.Kind == archive.KindNoticeConsumer {
					var b archive.NoticeBody
					mustDecode(t, e, &b)
					noticeTexts = append(noticeTexts, b.Text)
				}
			}
			inbox := c.f.wechat.inbox("wmZhang")
			for _, n := range noticeTexts {
				if !slices.Contains(inbox, n) {
					t.Errorf("notice %q recorded, consumer got %q", n, inbox)
				}
			}

			company := chainOf(t, db, "default", archive.CompanyThread)
			if len(company) != 3 || company[0].Kind != archive.KindAdminChange || company[1].Kind != archive.KindAdminChange ||
				company[2].Kind != archive.KindAnchor {
				t.Fatalf("company chain %v", company)
			}
			var adm, disable archive.AdminBody
			mustDecode(t, company[0], &adm)
			if adm.Admin.Name != "Ada Admin" || adm.Object != "policy" || !strings.Contains(string(adm.New), `"QueueLimit":4`) {
				t.Errorf("admin change %+v new %s", adm, adm.New)
			}
			mustDecode(t, company[1], &disable)
			if disable.Admin.ID != "oid-admin" || disable.Object != "employee" || disable.Change != "disable" || disable.Key != string(c.bob) ||
				string(disable.Old) != "true" || string(disable.New) != "false" {
				t.Errorf("employee disabled recorded as %+v (old %s new %s)", disable, disable.Old, disable.New)
			}
			var anchor archive.AnchorBody
			mustDecode(t, company[2], &anchor)
			last := events[len(events)-1]
			if len(anchor.Heads) != 1 || anchor.Heads[0] != (archive.ThreadHead{Thread: string(c.thread), Seq: last.Seq, Hash: last.Hash}) {
				t.Errorf("anchor %+v, want the head %d %s", anchor, last.Seq, last.Hash)
			}

			rep, err := archive.Verify(context.Background(), db)
			if err != nil || !rep.OK() || rep.Chains != 2 || rep.Anchors != 1 || rep.Events != len(events)+3 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}

func mustDecode(t *testing.T, e archive.Event, v any) {
	t.Helper()
	if err := e.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func fmtLines[T any](ls []T) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "  %v\n", l)
	}
	return b.String()
}

// TestCaptureExportEML: the captured day, exported as EML by the export the
// command runs, is read by npm mailparser and by Python's email package with
// the same headers, both transcripts, the photo attached with its hash, and a
// Message-ID that stays the same when the day is exported again.
func TestCaptureExportEML(t *testing.T) {
	node, modules := testenv.Node(t), testenv.Modules(t, "mailparser")
	python, err := exec.LookPath("python3")
	testenv.Require(t, err == nil, "python3")

	db := openStore(t, captureBackends[0].url(t))
	c := converse(t, db)
	ctx := context.Background()
	day := archive.DayOf(c.f.now())
	o := archive.ExportOptions{From: day, To: day, Channel: archive.ChannelWeComKF, Corp: "wwCorp"}
	dir := t.TempDir()
	files, err := archive.ExportEML(ctx, db, db, dir, o)
	if err != nil || len(files) != 1 {
		t.Fatalf("export: %v %v", files, err)
	}
	first, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	again, err := archive.ExportEML(ctx, db, db, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(again[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Error("exporting the same day twice gave different files")
	}
	events := chainOf(t, db, "default", string(c.thread))
	last := events[len(events)-1]
	msgID := "<" + archive.DayMessageID("default", string(c.thread), day, "") + ">"

	root := testenv.Root(t)
	parsers := map[string]*exec.Cmd{
		"mailparser":   exec.Command(node, filepath.Join(root, "archive", "testdata", "parse_eml.js"), modules, files[0], again[0]),
		"python email": exec.Command(python, filepath.Join(root, "archive", "testdata", "parse_eml.py"), files[0], again[0]),
	}
	for name, cmd := range parsers {
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []struct {
			Subject     string
			From, To    []struct{ Name, Address string }
			MessageID   string `json:"messageId"`
			Headers     map[string]string
			Text, HTML  string
			Attachments []struct{ Filename, Sha256 string }
			Defects     []string
		}
		if err := json.Unmarshal(out, &got); err != nil || len(got) != 2 {
			t.Fatalf("%s printed %s (%v)", name, out, err)
		}
		m := got[0]
		check := func(ok bool, format string, args ...any) {
			t.Helper()
			if !ok {
				t.Errorf(name+": "+format, args...)
			}
		}
		check(m.Subject == "WeChat conversation with 张三 on "+day.Format(archive.DayLayout), "subject %q", m.Subject)
		check(len(m.From) == 1 && m.From[0].Address == "wechat-wmZhang@wechat.invalid" && m.From[0].Name == "张三", "from %+v", m.From)
		var to []string
		for _, a := range m.To {
			to = append(to, a.Name+" <"+a.Address+">")
		}
		check(slices.Equal(to, []string{"Alice <employee-Alice@multiline.invalid>", "Bob <employee-Bob@multiline.invalid>"}), "to %q", to)
		check(m.MessageID == msgID && got[1].MessageID == msgID, "message-id %q and %q, want %s", m.MessageID, got[1].MessageID, msgID)
		for k, v := range map[string]string{
			"x-multiline-thread": string(c.thread), "x-multiline-channel": "wecom-kf", "x-multiline-wechat-user": "wmZhang",
			"x-multiline-wechat-account": "kf1", "x-multiline-wechat-corp": "wwCorp", "x-multiline-first-seq": "1",
			"x-multiline-last-seq": fmt.Sprint(last.Seq), "x-multiline-chain-hash": last.Hash.String(),
		} {
			check(m.Headers[k] == v, "header %s = %q, want %q", k, m.Headers[k], v)
		}
		for _, s := range []string{"你好, I have a question about my account", "Thanks, let me look into it.", "#LEAVE",
			"MultiLine [automatic] — Automatic notice to the consumer", "→ attached as photo.png"} {
			check(strings.Contains(m.Text, s), "text/plain lacks %q:\n%s", s, m.Text)
		}
		for _, s := range []string{"你好, I have a question about my account", "Thanks, let me look into it.", "(automatic)"} {
			check(strings.Contains(m.HTML, s), "text/html lacks %q", s)
		}
		check(len(m.Attachments) == 1 && m.Attachments[0].Filename == "photo.png" && m.Attachments[0].Sha256 == archive.Sum(c.photo).String(),
			"attachments %+v", m.Attachments)
		check(len(m.Defects) == 0, "defects %q", m.Defects)
	}
}
