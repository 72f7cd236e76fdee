package fakeconnector

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for the limit tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func send(f *Fake, conv string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v3/conversations/"+conv+"/activities", strings.NewReader(`{"type":"message","text":"x"}`)))
	return w
}

func TestConversationLimits(t *testing.T) {
	cases := []struct {
		name    string
		steps   []time.Duration // gap before each request
		want429 []int           // indexes of requests that must be throttled
	}{
		{name: "7 in a second pass, the 8th is throttled", steps: repeat(8, 0), want429: []int{7}},
		{name: "8 in 2 s: 7 then one after 1 s pass, a 9th is throttled",
			steps: append(append(repeat(7, 0), time.Second), 0), want429: []int{8}},
		{name: "spread at 0.49 s: 60 in 30 s pass, the 61st waits",
			steps: append([]time.Duration{0}, repeat(60, 490*time.Millisecond)...), want429: []int{60}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1_700_000_000, 0)}
			f := New(Options{Now: c.now})
			f.AddConversation("a:1", "t", "u")
			var got []int
			for i, gap := range tc.steps {
				c.add(gap)
				w := send(f, "a:1")
				if w.Code == http.StatusTooManyRequests {
					got = append(got, i)
					if w.Header().Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
				} else if w.Code != http.StatusCreated {
					t.Fatalf("request %d: status %d", i, w.Code)
				}
			}
			if len(got) != len(tc.want429) || (len(got) > 0 && got[0] != tc.want429[0]) {
				t.Errorf("throttled %v, want %v", got, tc.want429)
			}
		})
	}
}

func TestTenantLimit(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	f := New(Options{Now: c.now})
	for i := range 51 {
		conv := "a:" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		f.AddConversation(conv, "t", "u")
		w := send(f, conv)
		if (w.Code == http.StatusTooManyRequests) != (i == 50) {
			t.Fatalf("request %d: status %d", i, w.Code)
		}
	}
}

func TestUnknownConversationAndActivity(t *testing.T) {
	f := New(Options{})
	if w := send(f, "nope"); w.Code != 404 || !strings.Contains(w.Body.String(), "ConversationNotFound") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	f.AddConversation("a:1", "t", "u")
	w := httptest.NewRecorder()
	f.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/v3/conversations/a:1/activities/9", strings.NewReader(`{"type":"message"}`)))
	if w.Code != 404 || !strings.Contains(w.Body.String(), "ActivityNotFoundInConversation") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// A Forever failure answers every matching request with Teams' error body, and
// leaves other conversations alone.
func TestForeverFailure(t *testing.T) {
	f := New(Options{NoLimits: true})
	f.AddConversation("a:1", "t", "u")
	f.AddConversation("a:2", "t", "v")
	f.Fail(Failure{Conversation: "a:1", Status: 400, Code: "BadArgument", Message: "Unknown activity type", Forever: true})
	for range 5 {
		w := send(f, "a:1")
		if w.Code != 400 || !strings.Contains(w.Body.String(), `{"error":{"code":"BadArgument","message":"Unknown activity type"}}`) {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	}
	if w := send(f, "a:2"); w.Code != http.StatusCreated {
		t.Fatalf("other conversation: %d", w.Code)
	}
}

// Attachments are served behind the token, with their content type.
func TestAttachments(t *testing.T) {
	f := New(Options{Token: "tok"})
	path := f.AddAttachment("image/png", []byte("png"))
	get := func(authz string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		f.ServeHTTP(w, r)
		return w
	}
	if w := get(""); w.Code != http.StatusUnauthorized {
		t.Errorf("without token: %d", w.Code)
	}
	if w := get("Bearer tok"); w.Code != 200 || w.Body.String() != "png" || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("with token: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	w := httptest.NewRecorder()
	f.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v3/attachments/nope/views/original", nil))
	if w.Code != http.StatusUnauthorized {
		t.Errorf("unknown attachment without token: %d", w.Code)
	}
}
