// Package lexicon holds a company's lexicon (DLP) rules and decides what each
// message becomes under them: delivered as is, delivered with matches replaced by
// "***", delivered and flagged for review, or not delivered at all.
//
// Patterns are Go regular expressions (RE2 syntax, package regexp), which match
// in time linear in the text: no pattern, however written, can hang the bridge.
// Patterns are further bounded in length and in compiled size, so that one rule
// cannot make every message slow either.
//
// A Set is compiled once from the rules and is safe for concurrent use; it is a
// value that never changes, so a service swaps in a new Set when rules change
// (for example through an atomic.Pointer) and every message sees either the old
// rules or the new ones.
package lexicon
