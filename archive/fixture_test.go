package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// The fixture: company acme, thread T1 with 张三 (a Chinese nickname) over two
// days, thread T2 with one message, a daily anchor after each day.
var (
	day1 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)

	zhang = Party{Role: RoleConsumer, ID: "wmZhangSan01", Name: "张三"}
	alice = Party{Role: RoleEmployee, ID: "oid-alice", Address: "alice@contoso.com", Name: "Alice Smith"}
	bob   = Party{Role: RoleEmployee, ID: "oid-bob", Address: "bob@contoso.com", Name: "Bob 李"}
	admin = Party{Role: RoleAdmin, ID: "oid-admin", Address: "admin@contoso.com", Name: "Admin"}

	photo      = bytes.Repeat([]byte("\x89PNG fake image bytes "), 40)
	contract   = []byte("%PDF-1.4 合同 contract bytes\n")
	redactedTo = "my card is ***"
)

type fixture struct {
	mem   *Memory
	media mediaMap
	conv  Conversation
	// t1Day1 are T1's events of day 1.
	t1Day1 []Event
}

// mediaMap is a MediaSource over bytes kept by sha256.
type mediaMap map[Hash][]byte

func (m mediaMap) OpenMedia(_ context.Context, b MediaBody) (io.ReadCloser, error) {
	data, ok := m[b.SHA256]
	if !ok {
		return nil, fmt.Errorf("media %s: %w", b.Ref, ErrMediaGone)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func at(day time.Time, hms string) time.Time {
	t, err := time.Parse("15:04:05.000000", hms)
	if err != nil {
		panic(err)
	}
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{mem: NewMemory(), media: mediaMap{Sum(photo): photo, Sum(contract): contract}}
	f.conv = Conversation{
		Company: "acme", Thread: "T1", Channel: ChannelWeComKF, Consumer: zhang,
		Account: "wkKF0001", Corp: "ww1234567890", Employees: []Party{alice},
	}
	add := func(thread string, ts time.Time, kind Kind, body any) Event {
		t.Helper()
		e, err := f.mem.Append(Draft{Company: "acme", Thread: thread, Time: ts, Kind: kind, Body: body})
		if err != nil {
			t.Fatalf("append %s: %v", kind, err)
		}
		if thread == "T1" && DayOf(ts).Equal(day1) {
			f.t1Day1 = append(f.t1Day1, e)
		}
		return e
	}
	shown := redactedTo
	add(CompanyThread, at(day1, "08:00:00.000000"), KindAdminChange, AdminBody{Admin: admin, Object: "lexicon", Change: "add", Key: "card-number",
		New: json.RawMessage(`{"pattern":"\\d{4}( \\d{4}){3}","direction":"both","action":"redact"}`)})
	add("T1", at(day1, "09:00:00.000000"), KindParticipantAdded, ParticipantBody{Employee: alice})
	add("T1", at(day1, "09:15:02.123456"), KindMessageIn, MessageBody{MessageID: "T1-1", Author: zhang, Text: "你好，我想问一下账户的问题。"})
	add("T1", at(day1, "09:16:10.000000"), KindMessageOut, MessageBody{MessageID: "T1-2", Author: alice, Text: "my card is 1234 5678 9012 3456", Shown: &shown})
	add("T1", at(day1, "09:16:10.000001"), KindLexicon, LexiconBody{MessageID: "T1-2", Direction: "outbound", Action: "redact",
		Rules: []string{"card-number"}, Original: "my card is 1234 5678 9012 3456", Result: redactedTo})
	add("T1", at(day1, "09:16:11.000000"), KindStatus, StatusBody{MessageID: "T1-2", Status: "delivered"})
	add("T1", at(day1, "09:17:00.000000"), KindNoticeConsumer, NoticeBody{MessageID: "T1-3", Template: "on_hold", Language: "zh-CN", Text: "您的顾问稍后回复您。"})
	add("T1", at(day1, "09:20:00.000000"), KindMessageIn, MessageBody{MessageID: "T1-4", Author: zhang, MediaKind: "image", FileName: "照片.png"})
	add("T1", at(day1, "09:20:01.000000"), KindMedia, MediaBody{MessageID: "T1-4", MediaKind: "image", FileName: "照片.png",
		ContentType: "image/png", Size: int64(len(photo)), SHA256: Sum(photo), Ref: "media/1"})
	add("T1", at(day1, "09:30:00.000000"), KindMessageOut, MessageBody{MessageID: "T1-5", Author: alice, MediaKind: "file", FileName: "contract.pdf"})
	add("T1", at(day1, "09:30:01.000000"), KindMedia, MediaBody{MessageID: "T1-5", MediaKind: "file", FileName: "contract.pdf",
		ContentType: "application/pdf", Size: int64(len(contract)), SHA256: Sum(contract), Ref: "media/2"})
	add("T1", at(day1, "09:31:00.000000"), KindMessageOut, MessageBody{MessageID: "T1-6", Author: alice, Text: "insider tip: buy now"})
	add("T1", at(day1, "09:31:00.000001"), KindLexicon, LexiconBody{MessageID: "T1-6", Direction: "outbound", Action: "block",
		Rules: []string{"insider"}, Original: "insider tip: buy now"})
	add("T1", at(day1, "09:31:00.000002"), KindStatus, StatusBody{MessageID: "T1-6", Status: "blocked", Detail: "blocked by policy: insider"})
	add("T1", at(day1, "09:31:00.000003"), KindNoticeEmployees, NoticeBody{Template: "lexicon_blocked", Language: "en",
		Text: "Your previous message was not sent because of illegal content.", To: []Party{alice}})
	add("T1", at(day1, "10:00:00.000000"), KindParticipantAdded, ParticipantBody{Employee: bob, By: &alice})
	add("T2", at(day1, "11:00:00.000000"), KindMessageIn, MessageBody{MessageID: "T2-1", Author: Party{Role: RoleConsumer, ID: "oOpenID_2", Name: "Li"}, Text: "hello"})
	f.anchor(t, day1)

	add("T1", at(day2, "08:00:00.000000"), KindMessageIn, MessageBody{MessageID: "T1-7", Author: zhang, Text: "谢谢"})
	add("T1", at(day2, "08:01:00.000000"), KindReview, ReviewBody{Reviewer: admin, Seq: 11, Comment: "checked"})
	add("T1", at(day2, "09:00:00.000000"), KindLeave, LeaveBody{Consumer: zhang})
	add("T2", at(day2, "09:00:00.000000"), KindMessageOut, MessageBody{MessageID: "T2-2", Author: bob, Text: "hi"})
	f.anchor(t, day2)
	return f
}

// anchor appends the anchor of day, as the daily job would after it ends.
func (f *fixture) anchor(t *testing.T, day time.Time) {
	t.Helper()
	if _, err := f.mem.Append(NewAnchor("acme", day, day.Add(24*time.Hour+time.Minute), f.mem.ThreadHeads("acme"))); err != nil {
		t.Fatal(err)
	}
}

func t1() ChainID { return ChainID{Company: "acme", Thread: "T1"} }
