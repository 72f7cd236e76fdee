package teamsapp

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// plainBridge is the memBridge without its Inbox methods: a bridge that keeps
// no read marks, so the tab's fallbacks are what answers.
type plainBridge struct{ Bridge }

func (p plainBridge) CanSend(body bridge.Content) error { return p.Bridge.(SendChecker).CanSend(body) }

func threadByID(list []threadJSON, id bridge.ThreadID) *threadJSON {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

func TestInboxListAndThread(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inbox  bool
		change func(*Config)
	}{
		{"bridge keeps the inbox", true, nil},
		{"tab works it out", false, func(c *Config) { c.Bridge = plainBridge{c.Bridge} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixtureWith(t, false, tc.change)
			var cfg configJSON
			f.call(t, "GET", "/api/v1/config", "", nil, &cfg)
			if cfg.Features.Unread != tc.inbox {
				t.Fatalf("features = %+v", cfg.Features)
			}
			f.call(t, "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "bob"}, nil)
			f.clock.Add(time.Minute)
			f.b.consumerWrites("t1", "Joe, what's a nice movie I can go watch and relax")

			var list []threadJSON
			f.call(t, "GET", "/api/v1/threads", "bob", nil, &list)
			t1 := threadByID(list, "t1")
			if t1 == nil || t1.Preview == nil || t1.Preview.From != bridge.FromConsumer || !strings.HasPrefix(t1.Preview.Text, "Joe,") || !t1.NeedsAnswer {
				t.Fatalf("bob's t1 = %+v", t1)
			}
			wantUnread := 0
			if tc.inbox {
				wantUnread = 2 // "Hello, is anyone there?" and Joe's; the welcome notice is the consumer's
			}
			if t1.Unread != wantUnread {
				t.Fatalf("unread = %d, want %d", t1.Unread, wantUnread)
			}

			// Alice answers: her preview says it is hers, and nobody needs to answer.
			var sent sentJSON
			f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "Okay great. You should see - Extraction."}, &sent)
			f.call(t, "GET", "/api/v1/threads", "alice", nil, &list)
			t1 = threadByID(list, "t1")
			if !t1.Preview.Mine || t1.Preview.Text != "Okay great. You should see - Extraction." || t1.NeedsAnswer {
				t.Fatalf("alice's t1 = %+v", t1.Preview)
			}
			f.call(t, "GET", "/api/v1/threads", "bob", nil, &list)
			if p := threadByID(list, "t1").Preview; p.Mine || p.AuthorName != "Alice Chen" {
				t.Fatalf("bob sees alice's message as %+v", p)
			}
			if tc.inbox && threadByID(list, "t1").Unread != 3 {
				t.Fatalf("bob's unread after alice wrote = %d, want 3", threadByID(list, "t1").Unread)
			}

			// Two more from alice: the limit note comes after the third, and stays the preview's
			// business only as a note, never as the preview.
			f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "I enjoyed watching it."}, nil)
			f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": "Tell me."}, nil)
			var th threadDetailJSON
			f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &th)
			if th.Preview == nil || th.Preview.Text != "Tell me." {
				t.Fatalf("preview = %+v", th.Preview)
			}
			if th.MaxParticipants != 5 || th.SendsPerWindow != 5 || th.EmployeeLimit != 3 || th.QueueLimit != 5 || th.Now.IsZero() {
				t.Fatalf("caps = %d %d %d %d now %v", th.MaxParticipants, th.SendsPerWindow, th.EmployeeLimit, th.QueueLimit, th.Now)
			}
			if len(th.People) != 2 || th.People[0] != (participantJSON{ID: "alice", Name: "Alice Chen", Me: true}) || th.People[1] != (participantJSON{ID: "bob", Name: "Bob Wang"}) {
				t.Fatalf("people = %+v", th.People)
			}

			// Search by contact and by text; the filter keeps threads that need an answer.
			for q, want := range map[string]int{"emiliano": 1, "EXTRACTION": 1, "nothing like it": 0, "": 1} {
				f.call(t, "GET", "/api/v1/threads?q="+strings.ReplaceAll(q, " ", "+"), "alice", nil, &list)
				if len(list) != want {
					t.Fatalf("q=%q: %d threads", q, len(list))
				}
			}
			f.call(t, "GET", "/api/v1/threads?filter=needs_answer", "alice", nil, &list)
			if len(list) != 0 {
				t.Fatalf("alice answered, yet %d threads need an answer", len(list))
			}
			f.call(t, "GET", "/api/v1/threads?filter=needs_answer", "bob", nil, &list)
			if len(list) != 1 || list[0].ID != "t2" {
				t.Fatalf("bob's threads needing an answer = %+v", list)
			}

			// Read marks.
			f.call(t, "GET", "/api/v1/threads/t1", "bob", nil, &th)
			last := th.Messages[len(th.Messages)-1].ID
			if code := f.call(t, "POST", "/api/v1/threads/t1/read", "bob", map[string]string{"up_to": string(last)}, nil); code != 204 {
				t.Fatalf("read: %d", code)
			}
			f.call(t, "GET", "/api/v1/threads", "bob", nil, &list)
			if threadByID(list, "t1").Unread != 0 {
				t.Fatalf("unread after reading = %d", threadByID(list, "t1").Unread)
			}
			if code := f.call(t, "POST", "/api/v1/threads/t2/read", "alice", map[string]string{"up_to": "t2-1"}, nil); code != 404 {
				t.Fatalf("read of another's thread: %d", code)
			}
			if code := f.call(t, "POST", "/api/v1/threads/t1/read", "bob", map[string]string{}, nil); code != 400 {
				t.Fatalf("read without up_to: %d", code)
			}
		})
	}
}

func TestInboxNotesForOneEmployee(t *testing.T) {
	f := newFixture(t, false)
	f.call(t, "POST", "/api/v1/threads/t1/participants", "alice", map[string]string{"employee": "bob"}, nil)
	for _, s := range []string{"one", "two", "three"} {
		f.call(t, "POST", "/api/v1/threads/t1/messages", "alice", map[string]string{"text": s}, nil)
	}
	var th threadDetailJSON
	f.call(t, "GET", "/api/v1/threads/t1", "alice", nil, &th)
	if n := th.Messages[len(th.Messages)-1]; n.From != bridge.ToEmployee || n.Notice != bridge.NoticeLimitReached {
		t.Fatalf("alice's last message = %+v", n)
	}
	f.call(t, "GET", "/api/v1/threads/t1", "bob", nil, &th)
	for _, m := range th.Messages {
		if m.From == bridge.ToEmployee {
			t.Fatalf("bob sees alice's note: %+v", m)
		}
	}
}

func TestQRCodes(t *testing.T) {
	f := newFixture(t, false)
	var me meJSON
	f.call(t, "GET", "/api/v1/me", "alice", nil, &me)
	decodeQR(t, me.ContactQR)

	var opt map[string]bridge.ThreadID
	f.call(t, "POST", "/api/v1/opt-in", "alice", nil, &opt)
	var th threadDetailJSON
	f.call(t, "GET", "/api/v1/threads/"+string(opt["thread"]), "alice", nil, &th)
	if th.OptInQR != "" {
		t.Fatal("a QR code before the link exists")
	}
	f.b.linkReady(opt["thread"], "https://work.weixin.qq.com/kf/kfc_test?scene_param=abc")
	f.call(t, "GET", "/api/v1/threads/"+string(opt["thread"]), "alice", nil, &th)
	decodeQR(t, th.OptInQR)
	if qrDataURL(strings.Repeat("x", 5000)) != "" {
		t.Fatal("a link too long for a QR code gave one")
	}
}

// decodeQR checks that s is a PNG data URL of a square image of qrSize pixels.
func decodeQR(t *testing.T, s string) {
	t.Helper()
	b64, ok := strings.CutPrefix(s, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40q", s)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != qrSize || b.Dy() != qrSize {
		t.Fatalf("QR code is %v", b)
	}
}

func TestMarkReadNeedsSignIn(t *testing.T) {
	f := newFixture(t, false)
	if code := f.call(t, "POST", "/api/v1/threads/t1/read", "", map[string]string{"up_to": "t1-1"}, nil); code != http.StatusUnauthorized {
		t.Fatalf("code %d", code)
	}
	if code := f.call(t, "POST", "/api/v1/threads/t1/read", "carol", map[string]string{"up_to": "t1-1"}, nil); code != http.StatusForbidden {
		t.Fatalf("disabled: code %d", code)
	}
}
