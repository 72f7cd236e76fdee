package lexicon

import (
	"fmt"
	"strings"
)

// Span is a match's place in the original text, in bytes [Start, End).
type Span struct {
	Start int `json:"start"` // first byte of the match
	End   int `json:"end"`   // byte after the match
}

// Match is one rule that matched, with where.
type Match struct {
	Rule   string `json:"rule"`   // the rule's name
	Action Action `json:"action"` // the rule's action
	Spans  []Span `json:"spans"`  // where it matched in the original
}

// Decision is what the lexicon made of one message: the archive keeps it whole
// (original, rules, action) and the bridge delivers Result unless Blocked.
type Decision struct {
	// Direction is the message's, as given to Evaluate.
	Direction Direction `json:"direction"`
	// Original is the text as written, always kept in the archive.
	Original string `json:"original"`
	// Result is what the other side (and Teams) sees: Original with redactions,
	// or "" when the message is blocked.
	Result string `json:"result"`
	// Action is the strongest action of the rules that matched (block > redact >
	// flag), None when no rule matched.
	Action Action `json:"action"`
	// Matches lists every rule that matched, in the set's order.
	Matches []Match `json:"matches,omitempty"`
	// Unredactable is set when redaction could not remove every match (a pattern
	// that matches across what it redacted), so the message was blocked instead:
	// a redact rule's match never reaches the other side.
	Unredactable bool `json:"unredactable,omitempty"`
}

// Blocked reports whether the message must not be delivered.
func (d Decision) Blocked() bool { return d.Action == Block }

// Redacted reports whether what is delivered differs from what was written.
func (d Decision) Redacted() bool { return !d.Blocked() && d.Result != d.Original }

// Flagged reports whether a reviewer must see the message: any flag rule
// matched, or it was blocked (reviewers get each block and flag).
func (d Decision) Flagged() bool {
	if d.Blocked() {
		return true
	}
	for _, m := range d.Matches {
		if m.Action == Flag {
			return true
		}
	}
	return false
}

// RuleNames are the names of the rules that matched, for statuses and the archive.
func (d Decision) RuleNames() []string {
	out := make([]string, len(d.Matches))
	for i, m := range d.Matches {
		out[i] = m.Rule
	}
	return out
}

// DecidingRules are the names of the rules whose action is the decision's, as in
// the status "blocked by policy: <rule>".
func (d Decision) DecidingRules() []string {
	var out []string
	for _, m := range d.Matches {
		if m.Action == d.Action {
			out = append(out, m.Rule)
		}
	}
	if len(out) == 0 && d.Unredactable {
		for _, m := range d.Matches {
			if m.Action == Redact {
				out = append(out, m.Rule)
			}
		}
	}
	return out
}

// Summary is one line for a person, as `multiline admin lexicon test` prints:
// what happens and what the other side sees.
func (d Decision) Summary() string {
	switch {
	case d.Action == None:
		return fmt.Sprintf("%s: no rule matches; delivered as is", d.Direction)
	case d.Blocked() && d.Unredactable:
		return fmt.Sprintf("%s: blocked, because redacting with %s left a match; not delivered",
			d.Direction, strings.Join(d.DecidingRules(), ", "))
	case d.Blocked():
		return fmt.Sprintf("%s: blocked by %s; not delivered", d.Direction, strings.Join(d.DecidingRules(), ", "))
	}
	s := fmt.Sprintf("%s: %s by %s; delivered as %q", d.Direction, d.Action, strings.Join(d.DecidingRules(), ", "), d.Result)
	if d.Action != Flag && d.Flagged() {
		s += "; flagged for review"
	}
	return s
}
