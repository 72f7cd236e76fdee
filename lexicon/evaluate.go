package lexicon

import (
	"slices"
	"strings"
)

// maxRedactPasses bounds how often redaction re-checks its own output. Rules
// that cannot match the replacement settle in one or two passes.
const maxRedactPasses = 8

// Evaluate applies the rules that look at direction dir to text and says what
// the other side sees. Rules of direction both always apply; a dir other than
// inbound or outbound applies every rule. A nil Set has no rules.
//
// Block, redact and flag rules are all matched against the original. When no
// rule blocks, the matches of every redact rule are replaced by Replacement
// (overlapping and adjacent matches become one), and the result is checked
// again until no redact rule (of this direction, matched before or not) matches; if that does not settle, the message is
// blocked rather than delivered with a match left in it.
func Evaluate(rules *Set, dir Direction, text string) Decision {
	d := Decision{Direction: dir, Original: text, Result: text}
	if rules == nil {
		return d
	}
	var redactors []compiled
	var spans []Span
	for _, r := range rules.rules {
		if !r.Direction.applies(dir) {
			continue
		}
		if r.Action == Redact {
			redactors = append(redactors, r)
		}
		found := r.re.FindAllStringIndex(text, -1)
		if len(found) == 0 {
			continue
		}
		m := Match{Rule: r.Name, Action: r.Action, Spans: make([]Span, len(found))}
		for i, f := range found {
			m.Spans[i] = Span{Start: f[0], End: f[1]}
		}
		d.Matches = append(d.Matches, m)
		if r.Action.Stronger(d.Action) {
			d.Action = r.Action
		}
		if r.Action == Redact {
			spans = append(spans, m.Spans...)
		}
	}
	switch d.Action {
	case Block:
		d.Result = ""
		return d
	case None, Flag:
		return d
	}
	result := redact(text, spans)
	for pass := 1; ; pass++ {
		spans = spans[:0]
		for _, r := range redactors {
			for _, f := range r.re.FindAllStringIndex(result, -1) {
				spans = append(spans, Span{Start: f[0], End: f[1]})
			}
		}
		if len(spans) == 0 {
			d.Result = result
			return d
		}
		if pass == maxRedactPasses {
			d.Action, d.Result, d.Unredactable = Block, "", true
			return d
		}
		result = redact(result, spans)
	}
}

// redact replaces the union of spans in text by one Replacement per run.
func redact(text string, spans []Span) string {
	if len(spans) == 0 {
		return text
	}
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].Start, spans[i].End
		for i++; i < len(spans) && spans[i].Start <= end; i++ {
			end = max(end, spans[i].End)
		}
		b.WriteString(text[pos:start])
		b.WriteString(Replacement)
		pos = end
	}
	b.WriteString(text[pos:])
	return b.String()
}
