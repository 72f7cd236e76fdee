package graph

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNotifyComplianceAlertRequests: blocks and a flag as Graph receives
// them: the complianceAlert activity type with its four template parameters,
// a chain per message, the deep link to the review page on the message, and
// for a block a preview that says nothing of the text.
func TestNotifyComplianceAlertRequests(t *testing.T) {
	const link = "https://teams.microsoft.com/l/entity/3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21/multiline?context=%7B%22subEntityId%22%3A%22review%3Fmessage%3D"
	for _, tc := range []struct {
		name                            string
		alert                           ComplianceAlert
		preview, action, employee, rule string
	}{
		{"block", ComplianceAlert{ThreadID: "aB3dE5", MessageID: "aB3dE5-12", Blocked: true, Rules: []string{"guarantee"},
			Consumer: "Wang Li", Employees: []string{"Ann Lee"}, Preview: "Guaranteed returns of 20%"},
			"Not sent to the consumer. Open the review page to read it.", "blocked", "Ann Lee", "guarantee"},
		{"inbound block", ComplianceAlert{ThreadID: "aB3dE5", MessageID: "aB3dE5-13", Blocked: true, Inbound: true, Rules: []string{"threat"},
			Consumer: "Wang Li", Employees: []string{"Ann Lee"}, Preview: "I will kill the deal"},
			"Hidden from employees. Open the review page to read it.", "blocked", "Ann Lee", "threat"},
		{"flag", ComplianceAlert{ThreadID: "aB3dE5", MessageID: "aB3dE5-14", Inbound: true, Rules: []string{"insider", "tips"},
			Consumer: "Wang Li", Employees: []string{"Ann Lee", "Bo Chen"}, Preview: "I have insider news"},
			"I have insider news", "flagged", "Ann Lee, Bo Chen", "insider, tips"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			env.graph.respond(response{status: 204})
			if err := env.client.NotifyComplianceAlert(context.Background(), "oid-rita", tc.alert); err != nil {
				t.Fatal(err)
			}
			reqs := env.graph.got()
			if len(reqs) != 1 || reqs[0].Path != "/v1.0/users/oid-rita/teamwork/sendActivityNotification" {
				t.Fatalf("requests %+v", reqs)
			}
			jsonEqual(t, reqs[0].Body, `{
				"activityType": "complianceAlert",
				"chainId": `+itoa(chainID("review:"+tc.alert.MessageID))+`,
				"previewText": {"content": "`+tc.preview+`"},
				"templateParameters": [
					{"name": "contact", "value": "Wang Li"},
					{"name": "action", "value": "`+tc.action+`"},
					{"name": "employee", "value": "`+tc.employee+`"},
					{"name": "rule", "value": "`+tc.rule+`"}
				],
				"topic": {"source": "text", "value": "MultiLine", "webUrl": "`+link+tc.alert.MessageID+`%26thread%3DaB3dE5%22%7D"}
			}`)
			if tc.alert.Blocked && strings.Contains(string(reqs[0].Body), tc.alert.Preview) {
				t.Errorf("the block's text went to Graph: %s", reqs[0].Body)
			}
		})
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
