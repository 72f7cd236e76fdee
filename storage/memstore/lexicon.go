package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// lexiconKey is a rule's key: its company and its name in lower case, as the
// SQL schema's primary key.
type lexiconKey struct {
	company bridge.CompanyID
	name    string
}

// LexiconRules lists the company's rules, oldest first (then by name).
func (t *tx) LexiconRules(_ context.Context, company bridge.CompanyID) ([]bridge.LexiconRule, error) {
	var out []bridge.LexiconRule
	for k, r := range t.s.lexicon {
		if k.company == company {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b bridge.LexiconRule) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// InsertLexiconRule stores a new rule; a name in use (ignoring case) is ErrConstraint.
func (t *tx) InsertLexiconRule(_ context.Context, company bridge.CompanyID, r bridge.LexiconRule) error {
	k := lexiconKey{company, strings.ToLower(r.Name)}
	if _, ok := t.s.lexicon[k]; ok {
		return fmt.Errorf("%w: lexicon rule %q", ErrConstraint, r.Name)
	}
	put(t, t.s.lexicon, k, r)
	return nil
}

// DeleteLexiconRule removes the rule of this name, ignoring case.
func (t *tx) DeleteLexiconRule(_ context.Context, company bridge.CompanyID, name string) error {
	k := lexiconKey{company, strings.ToLower(name)}
	if _, ok := t.s.lexicon[k]; !ok {
		return fmt.Errorf("%w: lexicon rule %q", bridge.ErrNotFound, name)
	}
	del(t, t.s.lexicon, k)
	return nil
}
