package teamsapp

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/multiline/multiline/bridge"
)

func TestAdminPolicy(t *testing.T) {
	f := newFixture(t, false)
	var s settingsJSON
	if code := f.call(t, "GET", "/api/v1/admin/policy", "alice", nil, &s); code != 200 {
		t.Fatalf("get: %d", code)
	}
	if s.Policy.WindowHours != 48 || s.Policy.QueueLimit != 5 || s.Defaults == nil || len(s.Notices) != len(bridge.NoticeKinds()) {
		t.Fatalf("settings = %+v", s)
	}
	for _, n := range s.Notices {
		if n.Kind == bridge.NoticeParticipantAdded && !strings.Contains(n.Defaults[bridge.English], "{employee}") {
			t.Errorf("default shown without its placeholder: %q", n.Defaults[bridge.English])
		}
		if n.Kind == bridge.NoticeNotQueued && n.Defaults[bridge.English] != "Your last message was not queued as the limit of pending messages has been reached" {
			t.Errorf("not_queued default = %q", n.Defaults[bridge.English])
		}
	}

	good := s.Policy
	good.QueueLimit = 3
	tests := []struct {
		name      string
		policy    policyJSON
		overrides bridge.Overrides
		want      int
		wantErr   string
	}{
		{"six sends", func() policyJSON { p := good; p.SendsPerWindow = 6; return p }(), nil, 400, "sends_per_window"},
		{"72 h window", func() policyJSON { p := good; p.WindowHours = 72; return p }(), nil, 400, "window"},
		{"unknown notice", good, bridge.Overrides{"bogus": {"en": "x"}}, 400, "unknown notice"},
		{"placeholder dropped", good, bridge.Overrides{bridge.NoticeParticipantAdded: {"en": "Someone joined."}}, 400, "{employee}"},
		{"unsupported language", good, bridge.Overrides{bridge.NoticeOptedIn: {"fr": "Bonjour"}}, 400, "language"},
		{"valid", good, bridge.Overrides{bridge.NoticeOptedIn: {"zh-CN": "联系人已加入。"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			var out settingsJSON
			dst := any(&e)
			if tt.want == 200 {
				dst = &out
			}
			code := f.call(t, "PUT", "/api/v1/admin/policy", "alice", settingsJSON{Policy: tt.policy, Overrides: tt.overrides}, dst)
			if code != tt.want || !strings.Contains(e.Error, tt.wantErr) {
				t.Fatalf("status %d %q, want %d %q", code, e.Error, tt.want, tt.wantErr)
			}
		})
	}
	co, _ := f.b.CompanySettings(t.Context())
	if co.Policy.QueueLimit != 3 || co.Overrides[bridge.NoticeOptedIn][bridge.SimplifiedChinese] == "" {
		t.Fatalf("stored = %+v", co)
	}
	if code := f.call(t, "PUT", "/api/v1/admin/policy", "bob", settingsJSON{Policy: good}, nil); code != 403 {
		t.Fatalf("non-admin put: %d", code)
	}
}

func TestAdminEmployees(t *testing.T) {
	f := newFixture(t, false)
	var e employeeJSON
	if code := f.call(t, "PUT", "/api/v1/admin/employees/carol", "alice", map[string]bool{"enabled": true}, &e); code != 200 || !e.Enabled {
		t.Fatalf("enable carol: %d %+v", code, e)
	}
	if code := f.call(t, "GET", "/api/v1/threads", "carol", nil, nil); code != 200 {
		t.Fatalf("enabled carol: %d", code)
	}
	tests := []struct {
		name, path string
		body       any
		want       int
	}{
		{"unknown", "/api/v1/admin/employees/zed", map[string]bool{"enabled": true}, 404},
		{"no enabled field", "/api/v1/admin/employees/bob", map[string]string{}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := f.call(t, "PUT", tt.path, "alice", tt.body, nil); code != tt.want {
				t.Fatalf("status %d, want %d", code, tt.want)
			}
		})
	}
}

// fakeDirectory stands in for Microsoft Graph's user search.
type fakeDirectory struct {
	users []DirectoryUser
	err   error
}

func (d fakeDirectory) FindUsers(_ context.Context, q string, limit int) ([]DirectoryUser, error) {
	var out []DirectoryUser
	for _, u := range d.users {
		if strings.Contains(strings.ToLower(u.Name), strings.ToLower(q)) && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, d.err
}

func TestAdminAddsPeopleFromTheDirectory(t *testing.T) {
	f := newFixture(t, false)
	var e apiError
	if code := f.call(t, "GET", "/api/v1/admin/directory?q=ev", "alice", nil, &e); code != 501 || !strings.Contains(e.Error, "Microsoft Graph") {
		t.Fatalf("without a directory: %d %q", code, e.Error)
	}
	f.app.cfg.Directory = fakeDirectory{users: []DirectoryUser{{AADObjectID: "oid-eve", Name: "Eve Sun", Mail: "eve@example.com"}}}
	if code := f.call(t, "GET", "/api/v1/admin/directory?q=ev", "bob", nil, &e); code != 403 {
		t.Fatalf("a non-admin searched the directory: %d", code)
	}
	if code := f.call(t, "GET", "/api/v1/admin/directory?q=e", "alice", nil, &e); code != 400 {
		t.Fatalf("one-letter search: %d", code)
	}
	var found []DirectoryUser
	if code := f.call(t, "GET", "/api/v1/admin/directory?q=eve", "alice", nil, &found); code != 200 || len(found) != 1 || found[0].Mail != "eve@example.com" {
		t.Fatalf("search: %d %+v", code, found)
	}
	var added employeeJSON
	if code := f.call(t, "POST", "/api/v1/admin/employees", "alice", map[string]string{"aad_object_id": "oid-eve", "name": "Eve Sun"}, &added); code != 201 || !added.Enabled || added.Name != "Eve Sun" {
		t.Fatalf("add: %d %+v", code, added)
	}
	if code := f.call(t, "POST", "/api/v1/admin/employees", "alice", map[string]string{"name": "No Id"}, &e); code != 400 {
		t.Fatalf("add without id: %d", code)
	}
	f.app.cfg.Directory = fakeDirectory{err: errors.New("graph: list users needs the Microsoft Graph application permission User.Read.All")}
	if code := f.call(t, "GET", "/api/v1/admin/directory?q=eve", "alice", nil, &e); code != 502 || !strings.Contains(e.Error, "User.Read.All") {
		t.Fatalf("permission error not shown to the admin: %d %q", code, e.Error)
	}
}

func TestAdminsByIDAndByRole(t *testing.T) {
	f := newFixture(t, false)
	put := func(token string, queueLimit int) int {
		p := toPolicyJSON(bridge.DefaultPolicy())
		p.QueueLimit = queueLimit
		return f.call(t, "PUT", "/api/v1/admin/policy", token, settingsJSON{Policy: p}, nil)
	}
	if code := put("alice", 4); code != 200 {
		t.Fatalf("admin by object id: %d", code)
	}
	// rolly holds the MultiLine.Admin app role and is no employee at all.
	if code := f.call(t, "GET", "/api/v1/admin/employees", "rolly", nil, nil); code != 200 {
		t.Fatalf("admin by role, list: %d", code)
	}
	if code := put("rolly", 3); code != 200 {
		t.Fatalf("admin by role, change: %d", code)
	}
	if code := f.call(t, "POST", "/api/v1/admin/jobs/8/discard", "rolly", nil, nil); code != 204 {
		t.Fatalf("admin by role, discard: %d", code)
	}

	before, _ := f.b.CompanySettings(t.Context())
	people, _ := f.b.Employees(t.Context())
	dead, _ := f.jobs.Jobs(t.Context(), true)
	for _, token := range []string{"bob", "dave", "stranger"} {
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/admin/policy", nil},
			{"PUT", "/api/v1/admin/policy", settingsJSON{Policy: toPolicyJSON(bridge.DefaultPolicy()), Language: bridge.SimplifiedChinese}},
			{"PUT", "/api/v1/admin/employees/carol", map[string]bool{"enabled": true}},
			{"PUT", "/api/v1/admin/employees/alice", map[string]bool{"enabled": false}},
			{"POST", "/api/v1/admin/employees", map[string]string{"aad_object_id": "oid-mallory", "name": "Mallory"}},
			{"GET", "/api/v1/admin/jobs", nil},
			{"POST", "/api/v1/admin/jobs/7/retry", nil},
			{"POST", "/api/v1/admin/jobs/7/discard", nil},
			{"GET", "/api/v1/admin/lexicon", nil},
			{"POST", "/api/v1/admin/lexicon", lexiconRuleJSON{Name: "x", Pattern: "x+", Action: "block"}},
			{"POST", "/api/v1/admin/lexicon/test", lexiconTestJSON{Text: "x"}},
			{"DELETE", "/api/v1/admin/lexicon/x", nil},
		} {
			var e apiError
			if code := f.call(t, r.method, r.path, token, r.body, &e); code != 403 || e.Error != msgNotAdmin {
				t.Errorf("%s %s %s: %d %q, want 403", token, r.method, r.path, code, e.Error)
			}
		}
	}
	after, _ := f.b.CompanySettings(t.Context())
	people2, _ := f.b.Employees(t.Context())
	dead2, _ := f.jobs.Jobs(t.Context(), true)
	if after.Policy != before.Policy || after.Language != before.Language || len(people2) != len(people) || len(dead2) != len(dead) {
		t.Fatalf("a non-admin changed something: policy %+v → %+v, %d → %d people, %d → %d dead jobs",
			before.Policy, after.Policy, len(people), len(people2), len(dead), len(dead2))
	}
	for _, e := range people2 {
		if e.ID == "carol" && e.Enabled || e.ID == "alice" && !e.Enabled {
			t.Fatalf("a non-admin changed %s", e.ID)
		}
	}

	for _, tc := range []struct {
		token           string
		admin, reviewer bool
	}{{"alice", true, false}, {"dave", false, true}, {"bob", false, false}} {
		var me meJSON
		if f.call(t, "GET", "/api/v1/me", tc.token, nil, &me); me.Admin != tc.admin || me.ComplianceReviewer != tc.reviewer {
			t.Errorf("%s: %+v", tc.token, me)
		}
	}
}

func TestAdminAndReviewerListsIgnoreCase(t *testing.T) {
	f := newFixtureWith(t, false, func(c *Config) {
		c.Admins = []string{" OID-BOB "}
		c.ComplianceReviewers = []string{"OID-ALICE"}
	})
	var bob, alice meJSON
	if f.call(t, "GET", "/api/v1/me", "bob", nil, &bob); !bob.Admin || bob.ComplianceReviewer {
		t.Errorf("bob: %+v", bob)
	}
	if f.call(t, "GET", "/api/v1/me", "alice", nil, &alice); alice.Admin || !alice.ComplianceReviewer {
		t.Errorf("alice: %+v", alice)
	}
}

func TestAdminDeadJobs(t *testing.T) {
	f := newFixture(t, false)
	var jobs []jobJSON
	if code := f.call(t, "GET", "/api/v1/admin/jobs", "alice", nil, &jobs); code != 200 || len(jobs) != 2 {
		t.Fatalf("dead jobs: %d %+v", code, jobs)
	}
	j := jobs[1] // newest first
	if j.ID != 7 || j.Kind != bridge.JobSend || j.Lane != "send:t1" || j.Attempts != 8 || j.AgeSeconds != 3*3600 ||
		!strings.Contains(j.LastError, "95018") || !j.Dead {
		t.Fatalf("job 7 = %+v", j)
	}
	var all []jobJSON
	if f.call(t, "GET", "/api/v1/admin/jobs?dead=false", "alice", nil, &all); len(all) != 3 || all[0].ID != 9 || all[0].Dead {
		t.Fatalf("all = %+v", all)
	}
	tests := []struct {
		name, path string
		want       int
	}{
		{"retry", "/api/v1/admin/jobs/7/retry", 204},
		{"retry again: no longer dead", "/api/v1/admin/jobs/7/retry", 409},
		{"discard a live job", "/api/v1/admin/jobs/9/discard", 409},
		{"discard", "/api/v1/admin/jobs/8/discard", 204},
		{"discard unknown", "/api/v1/admin/jobs/99/discard", 404},
		{"not a number", "/api/v1/admin/jobs/x/retry", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			if code := f.call(t, "POST", tt.path, "alice", nil, &e); code != tt.want {
				t.Fatalf("status %d %q, want %d", code, e.Error, tt.want)
			}
		})
	}
	if f.call(t, "GET", "/api/v1/admin/jobs", "alice", nil, &jobs); len(jobs) != 0 {
		t.Fatalf("dead jobs left: %+v", jobs)
	}
	if f.call(t, "GET", "/api/v1/admin/jobs?dead=false", "alice", nil, &all); len(all) != 2 || all[1].ID != 7 || all[1].Dead {
		t.Fatalf("the retried job is not alive: %+v", all)
	}

	off := newFixtureWith(t, false, func(c *Config) { c.Jobs = nil })
	var e apiError
	if code := off.call(t, "GET", "/api/v1/admin/jobs", "alice", nil, &e); code != 501 || !strings.Contains(e.Error, "multiline admin jobs") {
		t.Fatalf("without a JobAdmin: %d %q", code, e.Error)
	}
	if code := off.call(t, "POST", "/api/v1/admin/jobs/7/retry", "alice", nil, &e); code != 501 {
		t.Fatalf("retry without a JobAdmin: %d", code)
	}
}

func TestAdminLanguages(t *testing.T) {
	f := newFixture(t, false)
	var s settingsJSON
	if f.call(t, "GET", "/api/v1/admin/policy", "alice", nil, &s); s.Policy.ConsumerLanguage != "auto" || s.Language != bridge.English {
		t.Fatalf("defaults: consumer_language %q, language %q", s.Policy.ConsumerLanguage, s.Language)
	}
	tests := []struct {
		name             string
		consumerLanguage string
		language         bridge.Language
		want             int
		wantErr          string
	}{
		{"unknown consumer language", "fr", "", 400, "consumer_language"},
		{"unknown default language", "en", "fr", 400, "language must be en or zh-CN"},
		{"auto is no default language", "en", "auto", 400, "language must be en or zh-CN"},
		{"chinese for everyone", "zh-CN", bridge.SimplifiedChinese, 200, ""},
		{"an older page sends neither", "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.Policy
			p.ConsumerLanguage = tt.consumerLanguage
			var e apiError
			code := f.call(t, "PUT", "/api/v1/admin/policy", "alice", settingsJSON{Policy: p, Language: tt.language}, &e)
			if code != tt.want || !strings.Contains(e.Error, tt.wantErr) {
				t.Fatalf("status %d %q, want %d %q", code, e.Error, tt.want, tt.wantErr)
			}
			if tt.name == "chinese for everyone" {
				co, _ := f.b.CompanySettings(t.Context())
				if co.Policy.ConsumerLanguage != "zh-CN" || co.Language != bridge.SimplifiedChinese {
					t.Fatalf("stored %q %q", co.Policy.ConsumerLanguage, co.Language)
				}
			}
		})
	}
	// The older page left the default language alone and made the policy auto.
	co, _ := f.b.CompanySettings(t.Context())
	if co.Policy.ConsumerLanguage != "auto" || co.Language != bridge.SimplifiedChinese {
		t.Fatalf("after a PUT without languages: %q %q", co.Policy.ConsumerLanguage, co.Language)
	}
}
