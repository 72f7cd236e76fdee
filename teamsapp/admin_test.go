package teamsapp

import (
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
