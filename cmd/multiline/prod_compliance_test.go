package main

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/prodfakes"
	"github.com/multiline/multiline/storage/pgtest"
)

// TestProductionHoldsReviewAudit: against `multiline serve` in production
// mode, after a consumer and an employee talk, an operator sets the retention
// period and legal holds with the real commands (each an archive event, and
// `archive verify` still passes), runs retention (nothing is old enough to
// go), and reads the audit log as CSV and JSON Lines; a compliance reviewer
// (by MULTILINE_COMPLIANCE_REVIEWERS, and by the token's Compliance.Review
// role) finds and reads the conversation through the review API and cannot
// send, while the employee gets 403 on the review API. On SQLite and
// PostgreSQL. (Purging itself needs a clock moved by years: see
// storage/retention_test.go.)
func TestProductionHoldsReviewAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	buildBinary(t)
	run := newProdRun(t)
	for _, be := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
	} {
		t.Run(be.name, func(t *testing.T) {
			reviewer := randGUID()
			w := run.world(t, prodOptions{name: "compliance-" + be.name, dbURL: be.url(t),
				env: map[string]string{"MULTILINE_COMPLIANCE_REVIEWERS": reviewer}})
			ann := w.install("ann", "Ann Lee", true)
			consumer := "wmHold" + randHex(6)
			marker := "pension" + randHex(4)
			question := "Should I cash out my " + marker + "?"
			w.consumerSends(consumer, question)
			w.waitChat(ann, prodSoon, question)
			w.say(ann, "Let us talk about it first.")
			w.waitInbox(consumer, prodSoon, "Let us talk about it first.")
			thread := w.threadWith(ann, question).ID

			if out := w.mustCLI("admin", "policy", "retention_days=1095"); !strings.Contains(out, "retention_days=1095") {
				t.Fatalf("policy after retention_days=1095:\n%s", out)
			}
			holdID := regexp.MustCompile(`(hold-[0-9A-Za-z]+): hold on thread ` + thread)
			out := w.mustCLI("admin", "hold", "set", "--thread", thread, "--reason", "SEC matter 17")
			m := holdID.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("hold set --thread:\n%s", out)
			}
			w.mustCLI("admin", "hold", "add", "--consumer", consumer, "--reason", "FINRA inquiry")
			w.mustCLI("admin", "hold", "set", "--employee", ann.id, "--reason", "internal review")
			for _, bad := range [][]string{
				{"admin", "hold", "set", "--thread", "nosuchthread", "--reason", "typo"},
				{"admin", "hold", "set", "--reason", "no target"},
				{"admin", "hold", "set", "--thread", thread},
				{"admin", "hold", "lift", "hold-nosuch"},
			} {
				if out, err := w.cli(bad...); err == nil {
					t.Errorf("multiline %s succeeded:\n%s", strings.Join(bad, " "), out)
				}
			}
			list := w.mustCLI("admin", "hold", "list")
			for _, want := range []string{m[1], "SEC matter 17", consumer, "FINRA inquiry", ann.id, "internal review"} {
				if !strings.Contains(list, want) {
					t.Errorf("hold list lacks %q:\n%s", want, list)
				}
			}
			w.mustCLI("admin", "hold", "lift", m[1], "--reason", "matter closed")
			if list := w.mustCLI("admin", "hold", "list"); strings.Contains(list, m[1]) || !strings.Contains(list, "FINRA inquiry") {
				t.Errorf("hold list after lifting %s:\n%s", m[1], list)
			}
			if out := w.mustCLI("admin", "retention", "run"); !strings.Contains(out, `"events":0,"messages":0,"media":0`) {
				t.Errorf("retention run within the period:\n%s", out)
			}
			if out := w.mustCLI("archive", "verify"); !strings.Contains(out, ": ok") {
				t.Fatalf("verify after the holds:\n%s", out)
			}

			// The audit log, as JSON Lines and CSV.
			var events []string
			for _, line := range strings.Split(w.mustCLI("audit", "--format", "jsonl"), "\n") {
				if !strings.HasPrefix(line, "{") {
					continue
				}
				var l auditLine
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("audit line %q: %v", line, err)
				}
				if string(l.Thread) == thread {
					events = append(events, l.Event)
				}
			}
			if len(events) < 2 || events[0] != "ConsumerMessage" {
				t.Errorf("the thread's audit records: %v", events)
			}
			csvOut := w.mustCLI("audit", "--format", "csv", "--thread", thread)
			if !strings.Contains(csvOut, "id,at,thread,event,detail,actions\n") || !strings.Contains(csvOut, ","+thread+",ConsumerMessage,") {
				t.Errorf("audit as CSV:\n%s", csvOut)
			}
			tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
			if out := w.mustCLI("audit", "--since", tomorrow); strings.Contains(out, thread) {
				t.Errorf("audit --since %s lists today's records:\n%s", tomorrow, out)
			}

			// Review: by object id and by role; the employee may not.
			byList := w.run.tab.SSOToken(w.run.appID, prodfakes.SSOUser{ObjectID: reviewer, Name: "Rita Review"})
			byRole := w.run.tab.SSOToken(w.run.appID, prodfakes.SSOUser{ObjectID: randGUID(), Name: "Rolf", Roles: []string{"Compliance.Review"}})
			for _, tok := range []string{byList, byRole} {
				var found []struct {
					ID           string `json:"id"`
					ConsumerName string `json:"consumer_name"`
				}
				w.apiJSON(tok, "GET", "/api/v1/review/threads?q="+url.QueryEscape(marker), nil, 200, &found)
				if len(found) != 1 || found[0].ID != thread {
					t.Errorf("review search for %q: %+v", marker, found)
				}
				var rec struct {
					Events []struct {
						Kind string          `json:"kind"`
						Body json.RawMessage `json:"body"`
					} `json:"events"`
				}
				w.apiJSON(tok, "GET", "/api/v1/review/threads/"+thread, nil, 200, &rec)
				var all strings.Builder
				for _, e := range rec.Events {
					all.Write(e.Body)
				}
				if !strings.Contains(all.String(), marker) || !strings.Contains(all.String(), "Let us talk about it first.") {
					t.Errorf("the thread's record lacks the conversation: %s", all.String())
				}
				w.apiJSON(tok, "GET", "/api/v1/review/flagged", nil, 200, nil)
				if st, b := w.api(tok, "POST", "/api/v1/threads/"+thread+"/messages", map[string]string{"text": "reviewer here"}); st != 403 {
					t.Errorf("a reviewer sent: %d %s", st, b)
				}
			}
			for _, path := range []string{"/api/v1/review/threads", "/api/v1/review/threads/" + thread, "/api/v1/review/flagged"} {
				if st, b := w.api(w.sso(ann), "GET", path, nil); st != 403 {
					t.Errorf("the employee read %s: %d %s", path, st, b)
				}
			}
			if st, b := w.api(w.sso(ann), "POST", "/api/v1/review/threads/"+thread+"/events/1/review", map[string]string{"comment": "x"}); st != 403 {
				t.Errorf("the employee reviewed: %d %s", st, b)
			}

			// The admin page's audit section, and the retention period on the policy.
			admin := w.run.tab.SSOToken(w.run.appID, prodfakes.SSOUser{ObjectID: w.admin, Name: "Ada Admin"})
			var recent []struct {
				Thread string `json:"thread"`
				Event  string `json:"event"`
			}
			w.apiJSON(admin, "GET", "/api/v1/admin/audit", nil, 200, &recent)
			if len(recent) == 0 || recent[len(recent)-1].Event != "ConsumerMessage" {
				t.Errorf("the admin page's recent decisions: %+v", recent)
			}
			var settings struct {
				Policy struct {
					RetentionDays int `json:"retention_days"`
				} `json:"policy"`
			}
			w.apiJSON(admin, "GET", "/api/v1/admin/policy", nil, 200, &settings)
			if settings.Policy.RetentionDays != 1095 {
				t.Errorf("the admin page's retention: %+v", settings)
			}
			if st, _ := w.api(w.sso(ann), "GET", "/api/v1/admin/audit", nil); st != 403 {
				t.Errorf("the employee read the audit log: %d", st)
			}
		})
	}
}
