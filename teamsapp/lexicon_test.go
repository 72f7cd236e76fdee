package teamsapp

import (
	"strings"
	"testing"
)

// TestAdminLexicon: an admin lists, adds, tests and removes rules; a bad
// pattern is refused with the reason and nothing stored, a second rule of the
// same name is a conflict, removing an unknown one is 404.
func TestAdminLexicon(t *testing.T) {
	f := newFixture(t, false)
	var rules []lexiconRuleJSON
	if code := f.call(t, "GET", "/api/v1/admin/lexicon", "alice", nil, &rules); code != 200 || len(rules) != 0 {
		t.Fatalf("empty list: %d %+v", code, rules)
	}
	var e apiError
	if code := f.call(t, "POST", "/api/v1/admin/lexicon", "alice", lexiconRuleJSON{Name: "bad", Pattern: `a(`, Action: "block"}, &e); code != 400 ||
		!strings.Contains(e.Error, "a ( has no matching )") {
		t.Fatalf("bad pattern: %d %q", code, e.Error)
	}
	if code := f.call(t, "POST", "/api/v1/admin/lexicon", "alice", lexiconRuleJSON{Name: "x", Pattern: "x+", Action: "shout"}, &e); code != 400 ||
		!strings.Contains(e.Error, "block, redact or flag") {
		t.Fatalf("bad action: %d %q", code, e.Error)
	}
	card := map[string]string{"name": "card", "pattern": `\d{16}`, "action": "redact"} // in force unless "enabled": false
	if code := f.call(t, "POST", "/api/v1/admin/lexicon", "alice", card, &rules); code != 200 || len(rules) != 1 ||
		rules[0] != (lexiconRuleJSON{Name: "card", Pattern: `\d{16}`, Direction: "both", Action: "redact", Enabled: true}) {
		t.Fatalf("add: %d %+v", code, rules)
	}
	if code := f.call(t, "POST", "/api/v1/admin/lexicon", "alice", lexiconRuleJSON{Name: "CARD", Pattern: "y+", Action: "flag"}, &e); code != 409 {
		t.Fatalf("same name: %d %q", code, e.Error)
	}
	var tried map[string]decisionJSON
	try := lexiconTestJSON{Text: "pay 4111111111111111 now", Rule: &lexiconRuleJSON{Pattern: "(?i)now", Direction: "outbound", Action: "block"}}
	if code := f.call(t, "POST", "/api/v1/admin/lexicon/test", "alice", try, &tried); code != 200 ||
		tried["outbound"].Action != "block" || tried["inbound"].Result != "pay *** now" {
		t.Fatalf("test: %d %+v", code, tried)
	}
	if code := f.call(t, "GET", "/api/v1/admin/lexicon", "alice", nil, &rules); code != 200 || len(rules) != 1 {
		t.Fatalf("the test stored a rule: %+v", rules)
	}
	if code := f.call(t, "DELETE", "/api/v1/admin/lexicon/Card", "alice", nil, &rules); code != 200 || len(rules) != 0 {
		t.Fatalf("remove: %d %+v", code, rules)
	}
	if code := f.call(t, "DELETE", "/api/v1/admin/lexicon/card", "alice", nil, &e); code != 404 {
		t.Fatalf("remove again: %d %q", code, e.Error)
	}
}
