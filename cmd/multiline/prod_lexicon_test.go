package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/prodfakes"
)

// TestProductionLexicon: lexicon rules through the real binary in production
// mode. An operator adds rules with `multiline admin lexicon` and an admin on
// the tab's admin page (a non-admin gets 403, a bad pattern a reason and
// nothing stored); then, in one conversation: the employee's blocked message
// never reaches the consumer's WeChat and Teams says "Blocked by policy: …";
// a redacted one reaches WeChat with *** in place of the card number; a
// flagged one arrives as written; the consumer's card number is redacted in
// Teams. The archive holds every decision with the original, and
// `multiline archive verify` passes.
func TestProductionLexicon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	buildBinary(t)
	run := newProdRun(t)
	w := run.world(t, prodOptions{name: "lexicon"})
	ann := w.install("ann", "Ann Lee", true)
	admin := run.tab.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: w.admin, Name: "Ada Admin"})
	mark := randHex(4)

	// Rules: one from the command line, two from the admin page.
	out := w.mustCLI("admin", "lexicon", "add", "--name", "guarantee", "--pattern", `(?i)guaranteed returns?`,
		"--direction", "outbound", "--action", "block")
	if !strings.Contains(out, `added rule "guarantee"`) {
		t.Fatalf("lexicon add printed:\n%s", out)
	}
	if out, err := w.cli("admin", "lexicon", "add", "--name", "broken", "--pattern", `(\d+`, "--action", "block"); err == nil ||
		!strings.Contains(out, "a ( has no matching )") {
		t.Fatalf("a bad pattern from the command line: %v\n%s", err, out)
	}
	card := map[string]any{"name": "card-number", "pattern": `\b\d{4}( ?\d{4}){3}\b`, "direction": "both", "action": "redact"}
	if st, b := w.api(w.sso(ann), "POST", "/api/v1/admin/lexicon", card); st != 403 {
		t.Fatalf("a non-admin adding a rule: %d %s", st, b)
	}
	if st, b := w.api(w.sso(ann), "GET", "/api/v1/admin/lexicon", nil); st != 403 {
		t.Fatalf("a non-admin listing rules: %d %s", st, b)
	}
	if st, b := w.api(w.sso(ann), "POST", "/api/v1/admin/lexicon/test", map[string]any{"text": "x"}); st != 403 {
		t.Fatalf("a non-admin testing rules: %d %s", st, b)
	}
	if st, b := w.api(w.sso(ann), "DELETE", "/api/v1/admin/lexicon/guarantee", nil); st != 403 {
		t.Fatalf("a non-admin removing a rule: %d %s", st, b)
	}
	if st, b := w.api(admin, "POST", "/api/v1/admin/lexicon", map[string]any{"name": "broken", "pattern": `(?<=x)y`, "action": "flag"}); st != 400 ||
		!strings.Contains(string(b), "lookbehind") {
		t.Fatalf("a bad pattern on the admin page: %d %s", st, b)
	}
	w.apiJSON(admin, "POST", "/api/v1/admin/lexicon", card, 200, nil)
	var rules []struct{ Name, Action, Direction string }
	w.apiJSON(admin, "POST", "/api/v1/admin/lexicon", map[string]any{"name": "insider", "pattern": `(?i)\binsider\b`, "direction": "outbound", "action": "flag"}, 200, &rules)
	if len(rules) != 3 || rules[0].Name != "guarantee" || rules[1].Name != "card-number" || rules[2].Name != "insider" {
		t.Fatalf("rules on the admin page: %+v", rules)
	}
	list := w.mustCLI("admin", "lexicon", "list")
	for _, want := range []string{"guarantee", "card-number", "insider"} {
		if !strings.Contains(list, want) {
			t.Fatalf("lexicon list lacks %s:\n%s", want, list)
		}
	}
	var tried map[string]struct{ Action, Result string }
	w.apiJSON(admin, "POST", "/api/v1/admin/lexicon/test", map[string]any{"text": "card 4111 1111 1111 1111"}, 200, &tried)
	if tried["outbound"].Result != "card ***" || tried["inbound"].Action != "redact" {
		t.Fatalf("the admin page's test box: %+v", tried)
	}
	if out := w.mustCLI("admin", "lexicon", "test", "Guaranteed returns for you"); !strings.Contains(out, "outbound: blocked by guarantee") {
		t.Fatalf("lexicon test printed:\n%s", out)
	}

	consumer := "wmLexicon" + randHex(6)
	w.consumerSends(consumer, "Hello, what can you offer? "+mark)
	w.waitChat(ann, prodSoon, "what can you offer? "+mark)

	blocked := "We have guaranteed returns of 12% " + mark
	w.say(ann, blocked)
	w.waitChat(ann, prodSoon, "Blocked by policy: guarantee")
	w.waitChat(ann, prodSoon, "Your previous message was not sent because of illegal content.")
	th := w.threadWith(ann, blocked)
	var status, reason string
	for _, m := range th.Messages {
		if m.Text == blocked {
			status, reason = m.Status, m.Reason
		}
	}
	if status != "blocked" || reason != "Blocked by policy: guarantee" {
		t.Fatalf("the tab shows the blocked message as %s %q:\n%s", status, reason, w.showThread(ann, th.ID))
	}

	w.say(ann, "Your card 4111 1111 1111 1111 is linked "+mark)
	w.waitInbox(consumer, prodSoon, "Your card *** is linked "+mark)
	flagged := "No insider tips, sorry " + mark
	w.say(ann, flagged)
	w.waitInbox(consumer, prodSoon, flagged)
	// Sends of a thread go out in order: by now the blocked one would have arrived.
	if inbox := w.showInbox(consumer); strings.Contains(inbox, "guaranteed") || strings.Contains(inbox, "4111") {
		t.Fatalf("the consumer received what the rules stop:\n%s", inbox)
	}

	w.consumerSends(consumer, "My card is 4000 0000 0000 0002 "+mark)
	w.waitChat(ann, prodSoon, "My card is *** "+mark)
	if chat := w.chat(ann); strings.Contains(chat, "4000 0000") {
		t.Fatalf("Teams shows the consumer's card number:\n%s", chat)
	}

	// The archive: every decision with its original, and the chain intact.
	day := time.Now().UTC().Format("2006-01-02")
	dir := t.TempDir()
	w.mustCLI("archive", "export", "--format", "jsonl", "--from", day, "--to", day, "--out", dir)
	raw, err := os.ReadFile(filepath.Join(dir, "archive_"+day+"_"+day+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	type decision struct{ Direction, Action, Original, Result string }
	var decisions []decision
	var adminChanges []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e struct {
			Kind string          `json:"kind"`
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		switch e.Kind {
		case "lexicon":
			var d decision
			if err := json.Unmarshal(e.Body, &d); err != nil {
				t.Fatal(err)
			}
			decisions = append(decisions, d)
		case "admin.change":
			var b struct {
				Object, Change, Key string
				Admin               struct{ Name string }
			}
			if err := json.Unmarshal(e.Body, &b); err != nil {
				t.Fatal(err)
			}
			if b.Object == "lexicon" {
				adminChanges = append(adminChanges, b.Change+" "+b.Key+" by "+b.Admin.Name)
			}
		}
	}
	want := []decision{
		{"outbound", "block", blocked, ""},
		{"outbound", "redact", "Your card 4111 1111 1111 1111 is linked " + mark, "Your card *** is linked " + mark},
		{"outbound", "flag", flagged, flagged},
		{"inbound", "redact", "My card is 4000 0000 0000 0002 " + mark, "My card is *** " + mark},
	}
	if len(decisions) != len(want) {
		t.Fatalf("lexicon events %+v, want %+v", decisions, want)
	}
	for i := range want {
		if decisions[i] != want[i] {
			t.Errorf("lexicon event %d: %+v, want %+v", i, decisions[i], want[i])
		}
	}
	if len(adminChanges) != 3 || !strings.HasPrefix(adminChanges[0], "add guarantee by ") ||
		adminChanges[1] != "add card-number by Ada Admin" || adminChanges[2] != "add insider by Ada Admin" {
		t.Errorf("admin changes on the company chain: %q", adminChanges)
	}
	if out := w.mustCLI("archive", "verify"); !strings.Contains(out, ": ok") || strings.Contains(out, "PROBLEM") {
		t.Fatalf("verify:\n%s", out)
	}

	// A rule removed on the page applies to the next message at once.
	w.apiJSON(admin, "DELETE", "/api/v1/admin/lexicon/guarantee", nil, 200, nil)
	freed := "Guaranteed returns are not something we promise " + mark
	w.consumerSends(consumer, "ok "+mark)
	w.waitChat(ann, prodSoon, "ok "+mark)
	w.say(ann, freed)
	w.waitInbox(consumer, prodSoon, freed)
}
