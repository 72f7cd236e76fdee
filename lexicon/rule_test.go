package lexicon

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"testing"
)

func rule(name, pattern string, dir Direction, act Action) Rule {
	return Rule{Name: name, Pattern: pattern, Direction: dir, Action: act}
}

// TestValidate: each mistake a person makes gets a message that names the rule,
// the field, and what to do.
func TestValidate(t *testing.T) {
	ok := rule("card-number", `\d{4}( \d{4}){3}`, Both, Redact)
	cases := []struct {
		name string
		r    Rule
		want string // "" means valid
	}{
		{"valid", ok, ""},
		{"valid chinese", rule("内幕", `内幕(消息|交易)`, Outbound, Block), ""},
		{"valid case-insensitive", rule("guarantee", `(?i)guaranteed? returns?`, Outbound, Flag), ""},
		{"no name", rule("", "x", Both, Flag), "name: the rule needs a name"},
		{"spaced name", rule(" x", "x", Both, Flag), "must not start or end with a space"},
		{"long name", rule(strings.Repeat("名", MaxNameLength+1), "x", Both, Flag), "the limit is 64"},
		{"control in name", rule("a\nb", "x", Both, Flag), "control characters"},
		{"bad direction", rule("r", "x", "sideways", Flag), `direction: must be inbound, outbound or both, not "sideways"`},
		{"upper-case direction", rule("r", "x", "Inbound", Flag), "direction"},
		{"bad action", rule("r", "x", Both, "delete"), `action: must be block, redact or flag, not "delete"`},
		{"empty pattern", rule("r", "", Both, Flag), "the pattern is empty"},
		{"long pattern", rule("r", strings.Repeat("a", MaxPatternLength+1), Both, Flag), "the limit is 1024"},
		{"missing paren", rule("r", `(\d+`, Both, Flag), "a ( has no matching )"},
		{"extra paren", rule("r", `\d+)`, Both, Flag), "a ) has no matching ("},
		{"missing bracket", rule("r", `[a-z`, Both, Flag), "a [ has no matching ]"},
		{"lookahead", rule("r", `foo(?=bar)`, Both, Flag), "lookahead and lookbehind"},
		{"lookbehind", rule("r", `(?<!x)foo`, Both, Flag), "lookahead and lookbehind"},
		{"backreference", rule("r", `(a)\1`, Both, Flag), "backreferences"},
		{"bad escape", rule("r", `\q`, Both, Flag), "escape"},
		{"nothing to repeat", rule("r", `*x`, Both, Flag), "nothing before it to repeat"},
		{"double repeat", rule("r", `a**`, Both, Flag), "two repetition operators"},
		{"huge count", rule("r", `a{2000}`, Both, Flag), "larger than 1000"},
		{"backwards range", rule("r", `[z-a]`, Both, Flag), "runs backwards"},
		{"too complex", rule("r", `[a-z]{1000}|[0-9]{1000}|x{1000}|y{1000}|z{1000}`, Both, Flag), "too complex"},
		{"nested counts", rule("r", `(\w{1,100}\s){1,50}`, Both, Flag), "nested counts multiply"},
		{"matches empty", rule("r", `a*`, Both, Block), "can match empty text"},
		{"only a boundary", rule("r", `\b`, Both, Block), "can match empty text"},
		{"optional group", rule("r", `(foo)?`, Both, Flag), "can match empty text"},
		{"redact matches stars", rule("r", `\S+`, Both, Redact), `must not match "***"`},
		{"redact matches one star", rule("r", `[^a-z]`, Both, Redact), `must not match "***"`},
		{"flag may match stars", rule("r", `\*+`, Both, Flag), ""},
	}
	for _, c := range cases {
		err := c.r.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ve *ValidationError
		if err == nil || !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
			continue
		}
		if c.r.Name != "" && !strings.HasPrefix(err.Error(), fmt.Sprintf("rule %q", c.r.Name)) {
			t.Errorf("%s: %q does not name the rule", c.name, err)
		}
	}
	var se *syntax.Error
	if err := rule("r", `(x`, Both, Flag).Validate(); !errors.As(err, &se) || se.Code != syntax.ErrMissingParen {
		t.Errorf("the syntax error is not wrapped: %v", err)
	}
}

// TestCompileJoinsErrors: every bad rule is reported at once, and names must be unique.
func TestCompileJoinsErrors(t *testing.T) {
	_, err := Compile([]Rule{
		rule("a", "(", Both, Flag),
		rule("b", "x", Both, Flag),
		rule("B", "y", Both, Flag),
		rule("c", "z", "up", Flag),
	})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`rule "a": pattern`, `rule "B": name: another rule already has this name`, `rule "c": direction`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	s, err := Compile(nil)
	if err != nil || s.Len() != 0 {
		t.Fatalf("empty set: %v", err)
	}
}

// TestParse: the words commands accept.
func TestParse(t *testing.T) {
	if d, err := ParseDirection(" Both "); err != nil || d != Both {
		t.Errorf("ParseDirection: %v %v", d, err)
	}
	if _, err := ParseDirection("in"); err == nil {
		t.Error("ParseDirection(in) accepted")
	}
	if a, err := ParseAction("REDACT"); err != nil || a != Redact {
		t.Errorf("ParseAction: %v %v", a, err)
	}
	if _, err := ParseAction("warn"); err == nil {
		t.Error("ParseAction(warn) accepted")
	}
	if !Block.Stronger(Redact) || !Redact.Stronger(Flag) || !Flag.Stronger(None) || Flag.Stronger(Block) {
		t.Error("block > redact > flag > none")
	}
}
