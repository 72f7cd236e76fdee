package bridge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
)

// lexiconRules are the company's rules in the tests below: one of each action,
// each on the direction its name says.
var lexiconRules = []bridge.LexiconRule{
	{Rule: lexicon.Rule{Name: "guarantee", Pattern: `(?i)guaranteed returns?`, Direction: lexicon.Outbound, Action: lexicon.Block}, Enabled: true},
	{Rule: lexicon.Rule{Name: "card-number", Pattern: `\b\d{4}( ?\d{4}){3}\b`, Direction: lexicon.Both, Action: lexicon.Redact}, Enabled: true},
	{Rule: lexicon.Rule{Name: "insider", Pattern: `(?i)\binsider\b`, Direction: lexicon.Both, Action: lexicon.Flag}, Enabled: true},
	{Rule: lexicon.Rule{Name: "threat", Pattern: `(?i)\bkill\b`, Direction: lexicon.Inbound, Action: lexicon.Block}, Enabled: true},
	{Rule: lexicon.Rule{Name: "off", Pattern: `(?i)hello`, Direction: lexicon.Both, Action: lexicon.Block}, Enabled: false},
}

// TestLexiconEnforced: each action in each direction, as the people on both
// sides and the archive see it: what the consumer received, what the employee
// sees (status, text, notice), and the lexicon event with the original.
func TestLexiconEnforced(t *testing.T) {
	// outbound: the employee writes (else the consumer does); consumer: what the
	// consumer received ("" nothing); shown: what employees see; action: the
	// lexicon event's ("" no event); notice: the author got "not sent";
	// archShown: the archive's message event's Shown.
	tests := []lexiconCase{
		{name: "outbound block", outbound: true, text: "Guaranteed returns of 20%!", shown: "Guaranteed returns of 20%!",
			status: bridge.StatusBlocked, reason: "Blocked by policy: guarantee", action: "block", rules: []string{"guarantee"}, notice: true},
		{name: "outbound redact", outbound: true, text: "Your card 4111 1111 1111 1111 is linked", consumer: "Your card *** is linked",
			shown: "Your card *** is linked", status: bridge.StatusSent, action: "redact", rules: []string{"card-number"}, archShown: ptr("Your card *** is linked")},
		{name: "outbound flag", outbound: true, text: "No insider tips, sorry", consumer: "No insider tips, sorry",
			shown: "No insider tips, sorry", status: bridge.StatusSent, action: "flag", rules: []string{"insider"}},
		{name: "outbound clean", outbound: true, text: "Hello there", consumer: "Hello there", shown: "Hello there", status: bridge.StatusSent},
		{name: "inbound redact", text: "my card is 4111111111111111", shown: "my card is ***", status: bridge.StatusReceived,
			action: "redact", rules: []string{"card-number"}, archShown: ptr("my card is ***")},
		{name: "inbound flag", text: "I have insider news", shown: "I have insider news", status: bridge.StatusReceived,
			action: "flag", rules: []string{"insider"}},
		{name: "inbound block", text: "I will kill the deal", shown: "***", status: bridge.StatusReceived,
			action: "block", rules: []string{"threat"}, archShown: ptr("***")},
		{name: "outbound rule ignores inbound", text: "guaranteed returns?", shown: "guaranteed returns?", status: bridge.StatusReceived},
	}
	for _, be := range captureBackends {
		for _, tc := range tests {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				testLexiconCase(t, newFixtureOn(t, openStore(t, be.url(t))), tc)
			})
		}
	}
}

// lexiconCase is one row of TestLexiconEnforced.
type lexiconCase struct {
	name      string
	outbound  bool
	text      string
	consumer  string
	shown     string
	status    bridge.MessageStatus
	reason    string
	action    string
	rules     []string
	notice    bool
	archShown *string
}

// testLexiconCase plays one row on f: rules added, a thread, the message, and
// what each side and the archive got.
func testLexiconCase(t *testing.T, f *fixture, tc lexiconCase) {
	ctx := context.Background()
	alice := f.employee("Alice")
	for _, r := range lexiconRules {
		if err := f.svc.AddLexiconRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	f.consumerWrites("c1", "m1", "Hi")
	f.drain()
	th := f.onlyThread(alice)
	before := len(f.wechat.inbox("c1")) // the welcome notice
	if tc.outbound {
		v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		if tc.status == bridge.StatusBlocked && (v.Status != bridge.StatusBlocked || v.Reason != tc.reason) {
			t.Errorf("Send returned %s %q, want %s %q", v.Status, v.Reason, tc.status, tc.reason)
		}
	} else {
		f.consumerWrites("c1", "m2", tc.text)
	}
	f.drain()

	got := f.wechat.inbox("c1")[before:]
	if want := slices.DeleteFunc([]string{tc.consumer}, func(s string) bool { return s == "" }); !slices.Equal(got, want) {
		t.Errorf("the consumer received %q, want %q", got, want)
	}
	full, err := f.svc.Thread(ctx, alice, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	var m bridge.MessageView
	for _, x := range full.Messages {
		if x.From == bridge.FromEmployee || x.From == bridge.FromConsumer {
			m = x // the last one written
		}
	}
	if m.Text != tc.shown || m.Status != tc.status || m.Reason != tc.reason {
		t.Errorf("Alice sees %q %s %q, want %q %s %q", m.Text, m.Status, m.Reason, tc.shown, tc.status, tc.reason)
	}
	if tc.outbound && tc.action == "redact" && m.Original != tc.text {
		t.Errorf("Alice's original is %q, want %q", m.Original, tc.text)
	}
	if !tc.outbound && m.Original != "" {
		t.Errorf("a consumer's original is shown to employees: %q", m.Original)
	}
	if n := slices.Contains(f.teams.notices(alice), bridge.NoticeLexiconBlocked); n != tc.notice {
		t.Errorf("Alice got the blocked notice: %v, want %v", n, tc.notice)
	}

	events := chainOf(t, f.db, "default", string(th.ID))
	var lex []archive.LexiconBody
	var msg archive.MessageBody
	for _, e := range events {
		switch e.Kind {
		case archive.KindLexicon:
			var b archive.LexiconBody
			mustDecode(t, e, &b)
			lex = append(lex, b)
		case archive.KindMessageIn, archive.KindMessageOut:
			mustDecode(t, e, &msg)
		}
	}
	if msg.Text != tc.text || (msg.Shown == nil) != (tc.archShown == nil) || (msg.Shown != nil && *msg.Shown != *tc.archShown) {
		t.Errorf("archive message %q shown %v, want %q shown %v", msg.Text, msg.Shown, tc.text, tc.archShown)
	}
	if tc.action == "" {
		if len(lex) != 0 {
			t.Errorf("lexicon events %+v, want none", lex)
		}
	} else if len(lex) != 1 || lex[0].Action != tc.action || !slices.Equal(lex[0].Rules, tc.rules) ||
		lex[0].Original != tc.text || lex[0].MessageID != string(m.ID) {
		t.Errorf("lexicon events %+v, want one %s by %v on %s", lex, tc.action, tc.rules, m.ID)
	}
	if rep, err := archive.Verify(ctx, f.db); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestLexiconBlockIsNotASend: blocked messages do not use the window's sends
// nor the employee's streak, so the next clean messages still go out.
func TestLexiconBlockIsNotASend(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	alice := f.employee("Alice")
	if err := f.svc.AddLexiconRule(ctx, lexiconRules[0]); err != nil {
		t.Fatal(err)
	}
	f.consumerWrites("c1", "m1", "Hi")
	f.drain()
	th := f.onlyThread(alice)
	before := len(f.wechat.inbox("c1"))
	for range 5 {
		if _, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: "guaranteed return"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, text := range []string{"one", "two", "three"} {
		v, err := f.svc.Send(ctx, alice, th.ID, bridge.Content{Text: text})
		if err != nil || v.Status == bridge.StatusQueued || v.Status == bridge.StatusNotQueued {
			t.Fatalf("after blocks, %q is %s (%v)", text, v.Status, err)
		}
	}
	f.drain()
	if got := f.wechat.inbox("c1")[before:]; !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("the consumer received %q", got)
	}
}

// TestLexiconRulesManaged: rules are validated before anything is stored, names
// are unique ignoring case, a disabled rule is kept but not applied, a change
// applies to the next message, and every change is an admin event on the
// company chain.
func TestLexiconRulesManaged(t *testing.T) {
	ctx := bridge.WithAdmin(context.Background(), archive.Party{ID: "oid-ada", Name: "Ada"})
	f := newFixture(t)
	bad := bridge.LexiconRule{Rule: lexicon.Rule{Name: "broken", Pattern: `(\d+`, Direction: lexicon.Both, Action: lexicon.Block}, Enabled: true}
	err := f.svc.AddLexiconRule(ctx, bad)
	var ve *lexicon.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "a ( has no matching )") {
		t.Fatalf("bad pattern: %v", err)
	}
	for _, r := range lexiconRules {
		if err := f.svc.AddLexiconRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	dup := lexiconRules[0]
	dup.Name = "GUARANTEE"
	if err := f.svc.AddLexiconRule(ctx, dup); !errors.Is(err, bridge.ErrLexiconRuleExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	rules, err := f.svc.LexiconRules(ctx)
	if err != nil || len(rules) != len(lexiconRules) || rules[0].Name != "guarantee" || rules[4].Enabled {
		t.Fatalf("rules %+v %v", rules, err)
	}
	out, in, err := f.svc.TestLexicon(ctx, "guaranteed returns, hello", nil)
	if err != nil || !out.Blocked() || in.Action != lexicon.None {
		t.Fatalf("test: %s / %s %v", out.Summary(), in.Summary(), err)
	}
	try := lexicon.Rule{Name: "hello", Pattern: "hello", Direction: lexicon.Inbound, Action: lexicon.Redact}
	if _, in, err = f.svc.TestLexicon(ctx, "guaranteed returns, hello", &try); err != nil || in.Result != "guaranteed returns, ***" {
		t.Fatalf("test with a rule: %+v %v", in, err)
	}
	if err := f.svc.RemoveLexiconRule(ctx, "Guarantee"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveLexiconRule(ctx, "guarantee"); !errors.Is(err, bridge.ErrNotFound) {
		t.Fatalf("removing it again: %v", err)
	}
	if out, _, _ = f.svc.TestLexicon(ctx, "guaranteed returns", nil); out.Action != lexicon.None {
		t.Errorf("a removed rule still applies: %s", out.Summary())
	}

	var changes []string
	for _, e := range chainOf(t, f.db, "default", archive.CompanyThread) {
		if e.Kind != archive.KindAdminChange {
			continue
		}
		var b archive.AdminBody
		mustDecode(t, e, &b)
		if b.Object == "lexicon" {
			changes = append(changes, b.Change+" "+b.Key+" by "+b.Admin.Name)
		}
	}
	want := []string{"add guarantee by Ada", "add card-number by Ada", "add insider by Ada", "add threat by Ada", "add off by Ada", "remove guarantee by Ada"}
	if !slices.Equal(changes, want) {
		t.Errorf("admin changes %q, want %q", changes, want)
	}
}

func ptr[T any](v T) *T { return &v }
