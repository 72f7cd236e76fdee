package archive

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/emltest"
)

// TestDayAddresses: each employee has one address in a day's EML, the one
// the thread's record knew for them on that day (the last recorded up to the
// day's end), whatever the store knows now; one whose events recorded none
// gets the store's UPN, and only one the store does not know either gets the
// placeholder. Rendering a day again gives the same addresses.
func TestDayAddresses(t *testing.T) {
	ctx := context.Background()
	mem := NewMemory()
	consumer := Party{Role: RoleConsumer, ID: "wmWang", Name: "王"}
	ann := func(addr string) Party { return Party{Role: RoleEmployee, ID: "oid-ann", Name: "Ann", Address: addr} }
	ben := Party{Role: RoleEmployee, ID: "oid-ben", Name: "Ben"}
	cal := Party{Role: RoleEmployee, ID: "oid-cal", Name: "Cal"}
	add := func(ts time.Time, k Kind, body any) {
		t.Helper()
		if _, err := mem.Append(Draft{Company: "acme", Thread: "T", Time: ts, Kind: k, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	add(at(day1, "09:00:00.000000"), KindParticipantAdded, ParticipantBody{Employee: ann("ann@old.example")})
	add(at(day1, "09:01:00.000000"), KindMessageIn, MessageBody{MessageID: "m1", Author: consumer, Text: "hello"})
	add(at(day1, "09:02:00.000000"), KindMessageOut, MessageBody{MessageID: "m2", Author: ann("ann@old.example"), Text: "hi"})
	add(at(day1, "09:03:00.000000"), KindParticipantAdded, ParticipantBody{Employee: ben, By: ptr(ann("ann@old.example"))})
	add(at(day1, "09:04:00.000000"), KindParticipantAdded, ParticipantBody{Employee: cal, By: ptr(ann("ann@old.example"))})
	// Day 2: Ann's account was renamed, and her message recorded the new name.
	add(at(day2, "09:00:00.000000"), KindMessageIn, MessageBody{MessageID: "m3", Author: consumer, Text: "still there?"})
	add(at(day2, "09:05:00.000000"), KindMessageOut, MessageBody{MessageID: "m4", Author: ann("ann@new.example"), Text: "yes"})
	day3 := day2.AddDate(0, 0, 1)
	add(at(day3, "09:00:00.000000"), KindMessageIn, MessageBody{MessageID: "m5", Author: consumer, Text: "thanks"})

	// What the store knows now: Ann by yet another name, Ben's UPN (learnt
	// after his events were captured), nothing of Cal.
	src := memSource{mem: mem, upns: map[string]string{"oid-ann": "ann@latest.example", "oid-ben": "ben@contoso.example"}}
	render := func(day time.Time) []string {
		t.Helper()
		var events []Event
		for _, e := range mem.Chain(ChainID{Company: "acme", Thread: "T"}) {
			if DayOf(e.Time).Equal(day) {
				events = append(events, e)
			}
		}
		c, err := DayConversation(ctx, src, "acme", "T", day, events)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteEML(ctx, &b, c, day, events, nil); err != nil {
			t.Fatal(err)
		}
		return emltest.Emails(t, b.Bytes(), "From", "To")
	}
	for _, tc := range []struct {
		day  time.Time
		want []string
	}{
		{day1, []string{"wechat-wmWang@wechat.invalid", "ann@old.example", "ben@contoso.example", "employee-oid-cal@multiline.invalid"}},
		{day2, []string{"wechat-wmWang@wechat.invalid", "ann@new.example", "ben@contoso.example", "employee-oid-cal@multiline.invalid"}},
		{day3, []string{"wechat-wmWang@wechat.invalid", "ann@new.example", "ben@contoso.example", "employee-oid-cal@multiline.invalid"}},
	} {
		got := render(tc.day)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: From and To are %q, want %q", tc.day.Format(DayLayout), got, tc.want)
		}
		if again := render(tc.day); !slices.Equal(again, got) {
			t.Errorf("%s: rendered again, %q", tc.day.Format(DayLayout), again)
		}
	}
	// The record itself keeps what it captured: Ben's events name no address.
	for _, e := range mem.Chain(ChainID{Company: "acme", Thread: "T"}) {
		for _, p := range partiesOf(e) {
			if p.ID == "oid-ben" && p.Address != "" {
				t.Errorf("event %d records Ben at %q", e.Seq, p.Address)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
