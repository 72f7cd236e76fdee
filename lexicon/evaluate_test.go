package lexicon

import (
	"reflect"
	"strings"
	"testing"
)

var testRules = MustCompile(
	rule("card-number", `\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}`, Both, Redact),
	rule("phone-cn", `1[3-9]\d{9}`, Outbound, Redact),
	rule("insider", `(?i)insider (tip|trading)|内幕(消息|交易)`, Outbound, Block),
	rule("guarantee", `(?i)guaranteed|保证(收益|回报)`, Both, Flag),
	rule("account", `账户\d+`, Inbound, Redact),
	rule("digits", `\d{6,}`, Inbound, Redact),
)

// TestEvaluate: what the other side sees, the rules that matched and the
// strongest action, in English and Chinese, with overlapping matches.
func TestEvaluate(t *testing.T) {
	cases := []struct {
		name    string
		dir     Direction
		text    string
		result  string
		action  Action
		rules   []string
		flagged bool
	}{
		{"nothing matches", Outbound, "Hello, how can I help?", "Hello, how can I help?", None, nil, false},
		{"redact a card", Outbound, "my card is 1234 5678 9012 3456.", "my card is ***.", Redact, []string{"card-number"}, false},
		{"redact two cards", Inbound, "1234567890123456 and 1111-2222-3333-4444", "*** and ***", Redact, []string{"card-number", "digits"}, false},
		{"block outbound insider", Outbound, "Here is an INSIDER TIP for you", "", Block, []string{"insider"}, true},
		{"insider inbound is not blocked", Inbound, "insider trading?", "insider trading?", None, nil, false},
		{"block in Chinese", Outbound, "我有内幕消息，明天涨停", "", Block, []string{"insider"}, true},
		{"flag in Chinese", Inbound, "你们能保证收益吗？", "你们能保证收益吗？", Flag, []string{"guarantee"}, true},
		{"redact a Chinese phone", Outbound, "请打我电话13812345678谢谢", "请打我电话***谢谢", Redact, []string{"phone-cn"}, false},
		{"phone rule is outbound only", Inbound, "电话13812345678", "电话***", Redact, []string{"digits"}, false},
		{"overlapping rules merge", Inbound, "我的账户12345678请查", "我的***请查", Redact, []string{"account", "digits"}, false},
		{"block beats redact and flag", Outbound, "guaranteed: insider tip, card 1234 5678 9012 3456", "", Block,
			[]string{"card-number", "insider", "guarantee"}, true},
		{"redact beats flag, still flagged", Outbound, "保证回报 1234-5678-9012-3456", "保证回报 ***", Redact,
			[]string{"card-number", "guarantee"}, true},
		{"adjacent matches become one", Inbound, "账户1账户2", "***", Redact, []string{"account"}, false},
		{"unknown direction applies every rule", "", "内幕交易 13812345678", "", Block, []string{"insider", "digits", "phone-cn"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Evaluate(testRules, c.dir, c.text)
			if d.Original != c.text || d.Result != c.result || d.Action != c.action {
				t.Fatalf("got %q %s, want %q %s", d.Result, d.Action, c.result, c.action)
			}
			got, want := append([]string(nil), d.RuleNames()...), append([]string(nil), c.rules...)
			sortStrings(got)
			sortStrings(want)
			if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("rules %q, want %q", got, want)
			}
			if d.Flagged() != c.flagged || d.Blocked() != (c.action == Block) {
				t.Fatalf("flagged %v blocked %v", d.Flagged(), d.Blocked())
			}
			for _, m := range d.Matches {
				for _, s := range m.Spans {
					if s.Start >= s.End || s.End > len(c.text) {
						t.Fatalf("bad span %+v", s)
					}
				}
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestEvaluateSpans: spans are byte offsets into the original, also in Chinese.
func TestEvaluateSpans(t *testing.T) {
	d := Evaluate(testRules, Inbound, "账户42 和 账户7")
	if len(d.Matches) != 1 || !reflect.DeepEqual(d.Matches[0].Spans, []Span{{0, 8}, {13, 20}}) {
		t.Fatalf("%+v", d.Matches)
	}
	if d.Original[13:20] != "账户7" {
		t.Fatalf("span text %q", d.Original[13:20])
	}
}

// TestEvaluateUnredactable: a redact rule that matches across what it redacted
// makes the message blocked, never delivered with a match.
func TestEvaluateUnredactable(t *testing.T) {
	s := MustCompile(rule("a-star", `a\*`, Both, Redact), rule("digit", `\d`, Both, Redact))
	d := Evaluate(s, Outbound, "aaaaaaaaaaaaaaaaaaaaaaaa1")
	if !d.Blocked() || !d.Unredactable || d.Result != "" || !strings.Contains(d.Summary(), "left a match") {
		t.Fatalf("%+v %s", d, d.Summary())
	}
	// aa1 → aa*** → a***** → *******: each pass consumes an "a", so it settles.
	d = Evaluate(s, Outbound, "aa1")
	if d.Blocked() || d.Result != "*******" {
		t.Fatalf("%+v", d)
	}
}

// TestSummary: what `lexicon test` prints.
func TestSummary(t *testing.T) {
	for text, want := range map[string]string{
		"hi":                       `outbound: no rule matches; delivered as is`,
		"insider tip":              `outbound: blocked by insider; not delivered`,
		"card 1234567890123456":    `outbound: redact by card-number; delivered as "card ***"`,
		"guaranteed":               `outbound: flag by guarantee; delivered as "guaranteed"`,
		"guaranteed 13812345678 x": `outbound: redact by phone-cn; delivered as "guaranteed *** x"; flagged for review`,
	} {
		if got := Evaluate(testRules, Outbound, text).Summary(); got != want {
			t.Errorf("%q: got %q, want %q", text, got, want)
		}
	}
}

// TestWith: trying a rule before saving it replaces a rule of the same name.
func TestWith(t *testing.T) {
	s, err := testRules.With(rule("INSIDER", `secret`, Outbound, Flag))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != testRules.Len() || Evaluate(s, Outbound, "insider tip").Action != None || Evaluate(s, Outbound, "secret").Action != Flag {
		t.Fatal("With did not replace the rule")
	}
	if _, err := testRules.With(rule("x", "(", Both, Flag)); err == nil {
		t.Fatal("With accepted a bad rule")
	}
	if Evaluate(nil, Inbound, "x").Result != "x" {
		t.Fatal("a nil set changes text")
	}
}
