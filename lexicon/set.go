package lexicon

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// compiled is a rule with its regular expression.
type compiled struct {
	Rule
	re *regexp.Regexp
}

// Set is a validated, compiled list of rules. It never changes once made, so it
// is safe to share between goroutines and to swap atomically when rules change.
type Set struct {
	rules []compiled
}

// Compile validates every rule and compiles them into a Set. The error joins one
// *ValidationError per problem (errors.Join), so a person sees all of them at once.
func Compile(rules []Rule) (*Set, error) {
	s := &Set{}
	var errs []error
	seen := map[string]bool{}
	for _, r := range rules {
		c, err := compileRule(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := strings.ToLower(r.Name)
		if seen[key] {
			errs = append(errs, &ValidationError{Rule: r.Name, Field: "name", Message: "another rule already has this name"})
			continue
		}
		seen[key] = true
		s.rules = append(s.rules, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// MustCompile is Compile for rules known to be valid (tests, built-in defaults);
// it panics otherwise.
func MustCompile(rules ...Rule) *Set {
	s, err := Compile(rules)
	if err != nil {
		panic(err)
	}
	return s
}

// Rules is a copy of the set's rules, in their order.
func (s *Set) Rules() []Rule {
	if s == nil {
		return nil
	}
	out := make([]Rule, len(s.rules))
	for i, c := range s.rules {
		out[i] = c.Rule
	}
	return out
}

// Len is the number of rules.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// With is a new set with r added (or replacing the rule of the same name), for
// trying a rule on sample text before saving it (`multiline admin lexicon test`).
func (s *Set) With(r Rule) (*Set, error) {
	rules := slices.DeleteFunc(s.Rules(), func(x Rule) bool { return strings.EqualFold(x.Name, r.Name) })
	return Compile(append(rules, r))
}

func compileRule(r Rule) (compiled, error) {
	if err := validateName(r.Name); err != nil {
		return compiled{}, err
	}
	bad := func(field, msg string, err error) (compiled, error) {
		return compiled{}, &ValidationError{Rule: r.Name, Field: field, Message: msg, Err: err}
	}
	if _, err := ParseDirection(string(r.Direction)); err != nil || r.Direction != Direction(strings.ToLower(string(r.Direction))) {
		return bad("direction", fmt.Sprintf("must be inbound, outbound or both, not %q", r.Direction), err)
	}
	if _, err := ParseAction(string(r.Action)); err != nil || r.Action != Action(strings.ToLower(string(r.Action))) {
		return bad("action", fmt.Sprintf("must be block, redact or flag, not %q", r.Action), err)
	}
	switch {
	case r.Pattern == "":
		return bad("pattern", "the pattern is empty", nil)
	case len(r.Pattern) > MaxPatternLength:
		return bad("pattern", fmt.Sprintf("the pattern is %d bytes long; the limit is %d", len(r.Pattern), MaxPatternLength), nil)
	}
	parsed, err := syntax.Parse(r.Pattern, syntax.Perl)
	if err != nil {
		return bad("pattern", "not a valid RE2 pattern: "+explainSyntax(err), err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return bad("pattern", "not a valid RE2 pattern: "+explainSyntax(err), err)
	}
	if n := len(prog.Inst); n > MaxProgramSize {
		return bad("pattern", fmt.Sprintf("the pattern is too complex (%d steps; the limit is %d): shorten it or lower repetition counts such as {1,500}", n, MaxProgramSize), nil)
	}
	if matchesEmpty(parsed) {
		return bad("pattern", "the pattern can match empty text (as a* or \\b can), so it would match every message; make it require at least one character, e.g. a+ instead of a*", nil)
	}
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		return bad("pattern", "not a valid RE2 pattern: "+explainSyntax(err), err)
	}
	if r.Action == Redact {
		for _, stars := range []string{"*", "**", Replacement} {
			if re.MatchString(stars) {
				return bad("pattern", fmt.Sprintf("a redact rule must not match %q, the text that replaces what it redacts (this one matches %q); leave * out of it, e.g. [^*\\s]+ instead of \\S+", Replacement, stars), nil)
			}
		}
	}
	return compiled{Rule: r, re: re}, nil
}

// matchesEmpty reports whether re can match a string of no characters anywhere
// in a text (anchors and word boundaries match without consuming anything).
func matchesEmpty(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpPlus, syntax.OpCapture:
		return matchesEmpty(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || matchesEmpty(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !matchesEmpty(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if matchesEmpty(s) {
				return true
			}
		}
		return false
	}
	// OpEmptyMatch, line and text anchors, word boundaries.
	return true
}
