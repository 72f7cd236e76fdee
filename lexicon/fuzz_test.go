package lexicon

import (
	"errors"
	"regexp"
	"strings"
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

// FuzzRule: any rule an admin writes (on the admin page or with `multiline
// admin lexicon add`) is either refused with a *ValidationError that says
// why, or is one Compile takes and that keeps its promises: the pattern is
// within the size limits, never matches empty text anywhere in a message,
// and, for a redact rule, never matches what it puts in place of a match.
func FuzzRule(f *testing.F) {
	for _, r := range []Rule{
		{Name: "phone", Pattern: `1[3-9]\d{9}`, Direction: Inbound, Action: Redact},
		{Name: "card", Pattern: `\d{4}( ?\d{4}){3}`, Direction: Both, Action: Block},
		{Name: "guarantee", Pattern: `(?i)guarantee[ds]?`, Direction: Outbound, Action: Flag},
		{Name: "银行账户", Pattern: `账户\d+`, Direction: Both, Action: Redact},
		{Name: "empty", Pattern: `a*`, Direction: Both, Action: Flag},
		{Name: "boundary", Pattern: `\b`, Direction: Both, Action: Flag},
		{Name: "stars", Pattern: `\S+`, Direction: Both, Action: Redact},
		{Name: "huge", Pattern: `(x{100}){100}`, Direction: Both, Action: Block},
		{Name: "backref", Pattern: `(a)\1`, Direction: Both, Action: Block},
		{Name: " spaced", Pattern: `x`, Direction: Both, Action: Block},
		{Name: "dir", Pattern: `x`, Direction: "Both", Action: Block},
	} {
		f.Add(r.Name, r.Pattern, string(r.Direction), string(r.Action), "call 13800138000 or card 4111 1111 1111 1111, guaranteed ***")
	}
	f.Fuzz(func(t *testing.T, name, pattern, direction, action, text string) {
		r := Rule{Name: name, Pattern: pattern, Direction: Direction(direction), Action: Action(action)}
		err := r.Validate()
		set, cerr := Compile([]Rule{r})
		if (err == nil) != (cerr == nil) {
			t.Fatalf("Validate says %v, Compile says %v", err, cerr)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Message == "" || ve.Field == "" {
				t.Fatalf("refusal without a reason: %#v", err)
			}
			return
		}
		if len(pattern) > MaxPatternLength || name == "" || strings.TrimSpace(name) != name {
			t.Fatalf("accepted %+v", r)
		}
		re := regexp.MustCompile(pattern)
		for _, s := range []string{text, "", " ", "\n", text + "\n" + text} {
			for _, m := range re.FindAllStringIndex(s, -1) {
				if m[0] == m[1] {
					t.Fatalf("rule %q matches empty text at %d of %q", pattern, m[0], s)
				}
			}
		}
		if r.Action == Redact && re.MatchString(Replacement) {
			t.Fatalf("redact rule %q matches its own replacement", pattern)
		}
		if d := Evaluate(set, r.Direction, text); d.Original != text {
			t.Fatalf("evaluate changed the original: %q", d.Original)
		}
	})
}
