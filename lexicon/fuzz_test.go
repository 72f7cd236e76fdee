package lexicon

import (
	"regexp"
	"testing"
)

// FuzzEvaluate: whatever the rules and the text, Evaluate never panics, keeps the
// original, blocks with an empty result, and never lets a match of a redact rule
// through to the other side.
func FuzzEvaluate(f *testing.F) {
	f.Add(`\d{4}`, `(?i)secret`, "my pin 1234 and SECRET 5678", uint8(0))
	f.Add(`账户\d+`, `\d+`, "账户123456 电话13800000000", uint8(1))
	f.Add(`a\*`, `a`, "aaaa*", uint8(2))
	f.Add(`(ab|ba)+`, `b`, "abababa", uint8(3))
	f.Add(`[^\x00-\x7f]+`, `.`, "\xff\xfe混合 text", uint8(4))
	f.Fuzz(func(t *testing.T, p1, p2, text string, mode uint8) {
		actions := []Action{Redact, Block, Flag}
		r1 := Rule{Name: "one", Pattern: p1, Direction: Both, Action: Redact}
		r2 := Rule{Name: "two", Pattern: p2, Direction: Outbound, Action: actions[mode%3]}
		set, err := Compile([]Rule{r1, r2})
		if err != nil {
			set, err = Compile([]Rule{r1})
			if err != nil {
				return
			}
		}
		dirs := []Direction{Inbound, Outbound, Both}
		d := Evaluate(set, dirs[int(mode/3)%3], text)
		if d.Original != text {
			t.Fatalf("original changed: %q", d.Original)
		}
		if d.Blocked() {
			if d.Result != "" {
				t.Fatalf("blocked but result %q", d.Result)
			}
			return
		}
		for _, r := range set.Rules() {
			if r.Action != Redact || !r.Direction.applies(d.Direction) {
				continue
			}
			if loc := regexp.MustCompile(r.Pattern).FindStringIndex(d.Result); loc != nil {
				t.Fatalf("rule %q (%q) still matches %q in %q (from %q)", r.Name, r.Pattern, d.Result[loc[0]:loc[1]], d.Result, text)
			}
		}
		if d.Action == None && d.Result != text {
			t.Fatalf("no rule matched, yet %q became %q", text, d.Result)
		}
	})
}
