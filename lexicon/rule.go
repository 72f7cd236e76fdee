package lexicon

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Direction says which messages a rule looks at.
type Direction string

// Directions.
const (
	// Inbound: messages from the consumer (WeChat) to employees.
	Inbound Direction = "inbound"
	// Outbound: messages from employees to the consumer.
	Outbound Direction = "outbound"
	// Both: messages either way.
	Both Direction = "both"
)

// ParseDirection reads a direction as commands and the admin page give it.
func ParseDirection(s string) (Direction, error) {
	switch d := Direction(strings.ToLower(strings.TrimSpace(s))); d {
	case Inbound, Outbound, Both:
		return d, nil
	}
	return "", fmt.Errorf("direction must be inbound, outbound or both, not %q", s)
}

// applies reports whether a rule of direction d looks at a message going dir.
// A message of no known direction is looked at by every rule: when in doubt,
// the policy applies.
func (d Direction) applies(dir Direction) bool {
	return d == Both || dir == d || (dir != Inbound && dir != Outbound)
}

// Action is what a rule does to a message it matches.
type Action string

// Actions, weakest first. None is the action of a decision no rule matched.
const (
	None Action = ""
	// Flag delivers the message as is and marks it for a reviewer.
	Flag Action = "flag"
	// Redact replaces every match by Replacement in what the other side and
	// Teams see; the archive keeps the original.
	Redact Action = "redact"
	// Block does not deliver the message at all.
	Block Action = "block"
)

// ParseAction reads an action as commands and the admin page give it.
func ParseAction(s string) (Action, error) {
	switch a := Action(strings.ToLower(strings.TrimSpace(s))); a {
	case Block, Redact, Flag:
		return a, nil
	}
	return "", fmt.Errorf("action must be block, redact or flag, not %q", s)
}

// rank orders actions by strength: block > redact > flag > none.
func (a Action) rank() int {
	switch a {
	case Flag:
		return 1
	case Redact:
		return 2
	case Block:
		return 3
	}
	return 0
}

// Stronger reports whether a outranks b (block > redact > flag > none), so the
// strongest action of several matching rules decides.
func (a Action) Stronger(b Action) bool { return a.rank() > b.rank() }

// Replacement is what a redact rule puts in place of each match.
const Replacement = "***"

// Limits on a rule. A longer or more complex pattern is refused when saved, so
// that evaluating every message stays cheap.
const (
	// MaxNameLength is in characters; the name shows in statuses and alerts.
	MaxNameLength = 64
	// MaxPatternLength is in bytes of the pattern as written.
	MaxPatternLength = 1024
	// MaxProgramSize is in instructions of the compiled pattern: the work done
	// per byte of a message grows with it. "\d{4}( \d{4}){3}" takes about 30.
	MaxProgramSize = 4000
)

// Rule is one lexicon rule of a company.
type Rule struct {
	// Name identifies the rule to people: "blocked by policy: <Name>".
	Name string `json:"name"`
	// Pattern is a Go RE2 regular expression. Add (?i) to ignore case.
	Pattern string `json:"pattern"`
	// Direction says which messages the rule looks at.
	Direction Direction `json:"direction"`
	// Action says what the rule does to a message it matches.
	Action Action `json:"action"`
}

// Validate checks the rule as Compile would, and says what is wrong in words a
// compliance officer understands; the error is a *ValidationError.
func (r Rule) Validate() error {
	_, err := compileRule(r)
	return err
}

func validateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return &ValidationError{Field: "name", Message: "the rule needs a name"}
	case strings.TrimSpace(name) != name:
		return &ValidationError{Rule: name, Field: "name", Message: "the name must not start or end with a space"}
	case !utf8.ValidString(name):
		return &ValidationError{Rule: name, Field: "name", Message: "the name is not valid text (UTF-8)"}
	case utf8.RuneCountInString(name) > MaxNameLength:
		return &ValidationError{Rule: name, Field: "name",
			Message: fmt.Sprintf("the name has %d characters; the limit is %d", utf8.RuneCountInString(name), MaxNameLength)}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &ValidationError{Rule: name, Field: "name", Message: "the name must not contain control characters such as line breaks"}
	}
	return nil
}
