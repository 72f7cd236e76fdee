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
