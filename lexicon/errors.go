package lexicon

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
)

// ValidationError says which rule and which field is wrong, and why, in plain
// words: the admin page and `multiline admin lexicon add` show Error() as is.
type ValidationError struct {
	// Rule is the rule's name (empty when the name itself is missing).
	Rule string
	// Field is name, pattern, direction or action.
	Field string
	// Message is the explanation.
	Message string
	// Err is the underlying error, such as a *syntax.Error, if any.
	Err error
}

// Error reads like: rule "card": pattern: a ( has no matching ) (near "(\d+").
func (e *ValidationError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return fmt.Sprintf("rule %q: %s: %s", e.Rule, e.Field, e.Message)
}

// Unwrap gives the underlying error to errors.Is and errors.As.
func (e *ValidationError) Unwrap() error { return e.Err }

// explainSyntax turns RE2's parser errors into sentences.
func explainSyntax(err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	near := ""
	if se.Expr != "" {
		near = fmt.Sprintf(" (near %q)", se.Expr)
	}
	var msg string
	switch {
	case strings.HasPrefix(se.Expr, "(?=") || strings.HasPrefix(se.Expr, "(?!") ||
		strings.HasPrefix(se.Expr, "(?<=") || strings.HasPrefix(se.Expr, "(?<!"):
		// Go reads (?<… as a named group, so lookbehind comes back as a bad name.
		return "lookahead and lookbehind, (?=…) (?!…) (?<=…) (?<!…), are not supported (RE2 syntax)" + near
	}
	switch se.Code {
	case syntax.ErrMissingParen:
		msg = "a ( has no matching )"
	case syntax.ErrUnexpectedParen:
		msg = "a ) has no matching ("
	case syntax.ErrMissingBracket:
		msg = "a [ has no matching ]"
	case syntax.ErrInvalidEscape:
		if len(se.Expr) == 2 && se.Expr[1] >= '1' && se.Expr[1] <= '9' {
			msg = "backreferences such as \\1 are not supported (RE2 syntax); repeat the group instead"
		} else {
			msg = "this escape is not one RE2 knows; write \\\\ for a backslash, or see the RE2 syntax"
		}
	case syntax.ErrInvalidPerlOp:
		msg = "this (? group is not one RE2 knows"
	case syntax.ErrInvalidRepeatSize:
		msg = "a repetition count {n,m} is larger than 1000 (nested counts multiply), or its minimum exceeds its maximum"
	case syntax.ErrMissingRepeatArgument:
		msg = "*, +, ? or {n} has nothing before it to repeat (write \\* for a literal star)"
	case syntax.ErrInvalidRepeatOp:
		msg = "two repetition operators follow each other, such as ** or +*"
	case syntax.ErrInvalidCharRange:
		msg = "a character range such as z-a runs backwards"
	case syntax.ErrInvalidCharClass:
		msg = "this character class is not one RE2 knows"
	case syntax.ErrTrailingBackslash:
		msg = "the pattern ends with a lone \\"
	case syntax.ErrInvalidNamedCapture:
		msg = "a named group (?P<name>…) has an invalid or repeated name"
	case syntax.ErrInvalidUTF8:
		msg = "the pattern is not valid text (UTF-8)"
	case syntax.ErrNestingDepth, syntax.ErrLarge:
		msg = "the pattern is nested too deeply or is too large"
	default:
		msg = se.Code.String()
	}
	return msg + near
}
