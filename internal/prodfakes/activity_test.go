package prodfakes

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// TestActivityFeed: the fake's activity feed refuses what Graph documents it
// refuses (no permission, an undeclared type, parameters that do not fit the
// template, a topic without a Teams link, an unknown user, a user without the
// app), throttles on demand with Retry-After, and records what it accepts.
func TestActivityFeed(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	tok, err := c.credential(t, testSecret).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}})
	if err != nil {
		t.Fatal(err)
	}
	hc := c.ca.Client(c.proxy)
	post := func(user string, body map[string]any) (int, string, string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "https://"+GraphHost+"/v1.0/users/"+user+"/teamwork/sendActivityNotification", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out), resp.Header.Get("Retry-After")
	}
	good := func() map[string]any {
		return map[string]any{
			"topic":              map[string]any{"source": "text", "value": "MultiLine", "webUrl": "https://teams.microsoft.com/l/entity/app/multiline"},
			"activityType":       "complianceAlert",
			"chainId":            42,
			"previewText":        map[string]any{"content": "Not sent."},
			"templateParameters": []map[string]string{{"name": "rule", "value": "guarantee"}, {"name": "contact", "value": "Wang Li"}},
		}
	}
	if st, b, _ := post("oid-rita", good()); st != 403 || !strings.Contains(b, "Authorization_RequestDenied") {
		t.Fatalf("without the permission: %d %s", st, b)
	}
	c.graph.Grant(PermissionSendActivity)
	if err := c.graph.DeclareActivityTypes([]byte(`{"activities":{"activityTypes":[{"type":"complianceAlert","description":"d","templateText":"{actor}: rule {rule} on {contact}"}]}}`)); err != nil {
		t.Fatal(err)
	}
	c.graph.AddUser("OID-RITA", true)
	c.graph.AddUser("oid-otto", false)
	with := func(edit func(map[string]any)) map[string]any { b := good(); edit(b); return b }
	for _, tc := range []struct {
		name string
		user string
		body map[string]any
		want int
		says string
	}{
		{"undeclared type", "oid-rita", with(func(b map[string]any) { b["activityType"] = "wechatMessage" }), 400, "not declared"},
		{"a parameter missing", "oid-rita", with(func(b map[string]any) {
			b["templateParameters"] = []map[string]string{{"name": "rule", "value": "x"}}
		}), 400, "do not match"},
		{"a parameter too many", "oid-rita", with(func(b map[string]any) {
			b["templateParameters"] = []map[string]string{{"name": "rule", "value": "x"}, {"name": "contact", "value": "y"}, {"name": "employee", "value": "z"}}
		}), 400, "do not match"},
		{"no web url", "oid-rita", with(func(b map[string]any) { b["topic"] = map[string]any{"source": "text", "value": "MultiLine"} }), 400, "webUrl"},
		{"not a Teams link", "oid-rita", with(func(b map[string]any) {
			b["topic"] = map[string]any{"source": "text", "value": "MultiLine", "webUrl": "https://evil.example/x"}
		}), 400, "deep link"},
		{"a link too long", "oid-rita", with(func(b map[string]any) {
			b["topic"] = map[string]any{"source": "text", "value": "MultiLine", "webUrl": "https://teams.microsoft.com/l/" + strings.Repeat("x", 1000)}
		}), 400, "UnknownError"},
		{"an unknown field", "oid-rita", with(func(b map[string]any) { b["recipient"] = "x" }), 400, "unknown field"},
		{"unknown user", "oid-nobody", good(), 404, "Request_ResourceNotFound"},
		{"app not installed", "oid-otto", good(), 403, "not installed"},
	} {
		if st, b, _ := post(tc.user, tc.body); st != tc.want || !strings.Contains(b, tc.says) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, st, b, tc.want, tc.says)
		}
	}
	if n := c.graph.Notifications(); len(n) != 0 {
		t.Fatalf("refused notifications were recorded: %+v", n)
	}
	c.graph.Throttle("oid-rita", 1, 7*time.Second)
	if st, _, ra := post("oid-rita", good()); st != 429 || ra != "7" {
		t.Fatalf("throttled: %d Retry-After %q", st, ra)
	}
	if st, b, _ := post("oid-rita", good()); st != 204 || b != "" {
		t.Fatalf("accepted: %d %s", st, b)
	}
	got := c.graph.Notifications()
	if len(got) != 1 || got[0].User != "oid-rita" || got[0].ActivityType != "complianceAlert" || got[0].ChainID != 42 ||
		got[0].Params["rule"] != "guarantee" || got[0].Params["contact"] != "Wang Li" || got[0].Preview != "Not sent." ||
		got[0].WebURL != "https://teams.microsoft.com/l/entity/app/multiline" {
		t.Fatalf("recorded %+v", got)
	}
}
