package teamsapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

func TestDevSignIn(t *testing.T) {
	tests := []struct {
		name     string
		dev      bool
		wantPage int
		wantMe   int
	}{
		{"refused outside dev", false, 404, 401},
		{"allowed in dev", true, 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.dev)
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			resp, err := c.Get(f.srv.URL + "/tab/dev-login")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantPage {
				t.Fatalf("dev-login page: %d", resp.StatusCode)
			}
			if tt.dev && !strings.Contains(string(page), "Alice Chen") {
				t.Fatalf("page does not list employees: %s", page)
			}
			resp, err = c.PostForm(f.srv.URL+"/tab/dev-login", url.Values{"employee": {"alice"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			resp, err = c.Get(f.srv.URL + "/api/v1/me")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantMe {
				t.Fatalf("/me after dev sign-in: %d, want %d", resp.StatusCode, tt.wantMe)
			}
		})
	}
}

func TestDevSessionCookie(t *testing.T) {
	f := newFixture(t, true)
	valid := f.app.devSign.seal(devPurpose, "bob", f.clock.Now().Add(devLifetime))
	other := New(Config{Bridge: f.b, Dev: true}) // another process: another key
	tests := []struct {
		name, cookie string
		want         int
	}{
		{"valid", valid, 200},
		{"someone else's id with bob's signature", "alice~" + strings.SplitN(valid, "~", 2)[1], 401},
		{"signed by another process", other.devSign.seal(devPurpose, "bob", f.clock.Now().Add(devLifetime)), 401},
		{"media signature replayed as session", "bob~" + f.app.devSign.sign(mediaPurpose, "bob", f.clock.Now().Add(devLifetime)), 401},
		{"expired", f.app.devSign.seal(devPurpose, "bob", f.clock.Now().Add(-1)), 401},
		{"disabled employee", f.app.devSign.seal(devPurpose, "carol", f.clock.Now().Add(devLifetime)), 403},
		{"garbage", "x", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/threads", nil)
			req.AddCookie(&http.Cookie{Name: devCookie, Value: tt.cookie})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestDevSignInAsNewLocalEmployee(t *testing.T) {
	for _, dev := range []bool{false, true} {
		f := newFixture(t, dev)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(f.srv.URL+"/tab/dev-login", url.Values{"new_name": {"Dana Local"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		code, me := getMe(t, c, f.srv.URL)
		if dev && (code != 200 || me.Name != "Dana Local") {
			t.Fatalf("dev: %d %+v", code, me)
		}
		if !dev && code != 401 {
			t.Fatalf("outside dev a local employee was signed in: %d", code)
		}
		list, _ := f.b.Employees(t.Context())
		added := false
		for _, e := range list {
			added = added || e.Name == "Dana Local"
		}
		if added != dev {
			t.Fatalf("dev=%v: employee added = %v", dev, added)
		}
	}
}

// TestDevSignInAsReviewer: in local mode one may sign in as a compliance
// reviewer who is not an employee: /me says so, the review API lets them in,
// and every send route and the admin API refuse them. Outside local mode the
// form signs nobody in.
func TestDevSignInAsReviewer(t *testing.T) {
	for _, dev := range []bool{false, true} {
		f := newFixture(t, dev)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(f.srv.URL+"/tab/dev-login", url.Values{"reviewer_name": {"Rita Review"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		do := func(method, path, body string) int {
			t.Helper()
			req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		code, me := getMe(t, c, f.srv.URL)
		if !dev {
			if code != 401 {
				t.Fatalf("outside dev a reviewer was signed in: %d", code)
			}
			continue
		}
		if code != 200 || me.Name != "Rita Review" || !me.NotEmployee || !me.ComplianceReviewer || me.Admin || me.ID != "" {
			t.Fatalf("/me of the dev reviewer: %d %+v", code, me)
		}
		for _, ep := range []struct{ method, path, body string }{
			{"POST", "/api/v1/threads/t1/messages", `{"text":"from the reviewer"}`},
			{"POST", "/api/v1/opt-in", ``},
			{"GET", "/api/v1/threads", ``},
			{"POST", "/api/v1/events/ticket", ``},
			{"GET", "/api/v1/admin/policy", ``},
		} {
			if st := do(ep.method, ep.path, ep.body); st != 403 {
				t.Errorf("%s %s as the dev reviewer: %d, want 403", ep.method, ep.path, st)
			}
		}
		if st := do("GET", "/api/v1/review/flagged", ""); st == 403 || st == 401 {
			t.Errorf("the review API refused the dev reviewer: %d", st)
		}
		for _, th := range f.b.threads {
			for _, m := range th.msgs {
				if m.Text == "from the reviewer" {
					t.Errorf("the reviewer's message reached thread %s", th.id)
				}
			}
		}
	}
}

// getMe asks /api/v1/me with c's session.
func getMe(t *testing.T, c *http.Client, base string) (int, meJSON) {
	t.Helper()
	resp, err := c.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me meJSON
	json.NewDecoder(resp.Body).Decode(&me)
	return resp.StatusCode, me
}
