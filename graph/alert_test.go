package graph

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNotifyComplianceAlertRequests: a block and a flag as Graph receives
// them: the complianceAlert activity type with its four template parameters,
// a chain per message, the deep link to the review page on the message, and
// for the block a preview that says nothing of the text.
func TestNotifyComplianceAlertRequests(t *testing.T) {
	env := newTestEnv(t, nil)
	env.graph.respond(response{status: 204}, response{status: 204})
	ctx := context.Background()
	block := ComplianceAlert{ThreadID: "aB3dE5", MessageID: "aB3dE5-12", Blocked: true, Rules: []string{"guarantee"},
		Consumer: "Wang Li", Employees: []string{"Ann Lee"}, Preview: "Guaranteed returns of 20%"}
	flag := ComplianceAlert{ThreadID: "aB3dE5", MessageID: "aB3dE5-14", Inbound: true, Rules: []string{"insider", "tips"},
		Consumer: "Wang Li", Employees: []string{"Ann Lee", "Bo Chen"}, Preview: "I have insider news"}
	if err := env.client.NotifyComplianceAlert(ctx, "oid-rita", block); err != nil {
		t.Fatal(err)
	}
	if err := env.client.NotifyComplianceAlert(ctx, "oid-rita", flag); err != nil {
		t.Fatal(err)
	}
	reqs := env.graph.got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	const link = "https://teams.microsoft.com/l/entity/3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21/multiline?context=%7B%22subEntityId%22%3A%22review%3Fmessage%3DaB3dE5-"
	jsonEqual(t, reqs[0].Body, `{
		"activityType": "complianceAlert",
		"chainId": `+itoa(chainID("review:aB3dE5-12"))+`,
		"previewText": {"content": "Not sent to the consumer. Open the review page to read it."},
		"templateParameters": [
			{"name": "contact", "value": "Wang Li"},
			{"name": "action", "value": "blocked"},
			{"name": "employee", "value": "Ann Lee"},
			{"name": "rule", "value": "guarantee"}
		],
		"topic": {"source": "text", "value": "MultiLine", "webUrl": "`+link+`12%26thread%3DaB3dE5%22%7D"}
	}`)
	if strings.Contains(string(reqs[0].Body), "Guaranteed") {
		t.Errorf("the block's text went to Graph: %s", reqs[0].Body)
	}
	jsonEqual(t, reqs[1].Body, `{
		"activityType": "complianceAlert",
		"chainId": `+itoa(chainID("review:aB3dE5-14"))+`,
		"previewText": {"content": "I have insider news"},
		"templateParameters": [
			{"name": "contact", "value": "Wang Li"},
			{"name": "action", "value": "flagged"},
			{"name": "employee", "value": "Ann Lee, Bo Chen"},
			{"name": "rule", "value": "insider, tips"}
		],
		"topic": {"source": "text", "value": "MultiLine", "webUrl": "`+link+`14%26thread%3DaB3dE5%22%7D"}
	}`)
	for i, r := range reqs {
		if r.Path != "/v1.0/users/oid-rita/teamwork/sendActivityNotification" {
			t.Errorf("request %d to %s", i, r.Path)
		}
	}
}

// TestNotifyComplianceAlertRefusesBadInput: no ids, or no app id for the deep
// link, sends nothing.
func TestNotifyComplianceAlertRefusesBadInput(t *testing.T) {
	ok := ComplianceAlert{ThreadID: "t", MessageID: "t-1", Rules: []string{"r"}}
	for _, tc := range []struct {
		name  string
		user  string
		a     ComplianceAlert
		appID string
	}{
		{"no thread", "u", ComplianceAlert{MessageID: "t-1"}, "app"},
		{"no message", "u", ComplianceAlert{ThreadID: "t"}, "app"},
		{"no user", " ", ok, "app"},
		{"no app id", "u", ok, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, func(c *Config) { c.TeamsAppID = tc.appID })
			if err := env.client.NotifyComplianceAlert(context.Background(), tc.user, tc.a); !errors.Is(err, ErrInvalidNotification) {
				t.Fatalf("err = %v, want ErrInvalidNotification", err)
			}
			if n := len(env.graph.got()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}
