package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/multiline/multiline/lexicon"
)

// This file is the company's lexicon (DLP) rules as the admins manage them: the
// admin page and `multiline admin lexicon` list, add and remove rules, and every
// change is an admin change on the company's archive chain, in the transaction
// that makes it. Rules are read from the store in the transaction of each message
// (see lexicon.go), so a change applies at once on every replica.

// LexiconRule is a lexicon rule as a company stores it: the rule, whether it is
// in force, and when it was added (rules are listed and evaluated in that order).
type LexiconRule struct {
	lexicon.Rule
	// Enabled rules are in force; a disabled one is kept but matches nothing.
	Enabled bool `json:"enabled"`
	// CreatedAt is when the rule was added.
	CreatedAt time.Time `json:"created_at"`
}

// LexiconTx is the part of a Tx that keeps a company's lexicon rules. It is a
// separate interface so that the rules' storage reads as one concept.
type LexiconTx interface {
	// LexiconRules lists the company's rules, enabled or not, oldest first.
	LexiconRules(ctx context.Context, company CompanyID) ([]LexiconRule, error)
	// InsertLexiconRule stores a new rule; its name (ignoring case) must be new.
	InsertLexiconRule(ctx context.Context, company CompanyID, r LexiconRule) error
	// DeleteLexiconRule removes the rule of this name (ignoring case); an error
	// wrapping ErrNotFound if there is none.
	DeleteLexiconRule(ctx context.Context, company CompanyID, name string) error
}

// ErrLexiconRuleExists is returned by AddLexiconRule for a name already in use
// (names are compared ignoring case): a status names one rule.
var ErrLexiconRuleExists = errors.New("a lexicon rule with this name exists")

// LexiconRules lists the company's rules, oldest first.
func (s *Service) LexiconRules(ctx context.Context) ([]LexiconRule, error) {
	var out []LexiconRule
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		out, err = tx.LexiconRules(ctx, s.company)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: lexicon rules: %w", err)
	}
	return out, nil
}

// AddLexiconRule validates r with the lexicon's compiler and stores it, with
// the admin change recorded on the company chain. A bad pattern returns a
// *lexicon.ValidationError (its text is for the admin) and stores nothing.
func (s *Service) AddLexiconRule(ctx context.Context, r LexiconRule) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("bridge: add lexicon rule: %w", err)
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		rules, err := tx.LexiconRules(ctx, s.company)
		if err != nil {
			return err
		}
		r.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
		for _, x := range rules {
			if strings.EqualFold(x.Name, r.Name) {
				return fmt.Errorf("%w: %q", ErrLexiconRuleExists, x.Name)
			}
			if !r.CreatedAt.After(x.CreatedAt) {
				// Rules are listed by when they were added: keep that order
				// strict even when the clock has not moved on.
				r.CreatedAt = x.CreatedAt.Add(time.Microsecond)
			}
		}
		if err := tx.InsertLexiconRule(ctx, s.company, r); err != nil {
			return err
		}
		return s.captureAdmin(ctx, tx, "lexicon", "add", r.Name, nil, r)
	})
	if err != nil {
		return fmt.Errorf("bridge: add lexicon rule %q: %w", r.Name, err)
	}
	return nil
}

// RemoveLexiconRule deletes the rule of this name (ignoring case), with the
// admin change recorded; an error wrapping ErrNotFound if there is none.
func (s *Service) RemoveLexiconRule(ctx context.Context, name string) error {
	err := s.store.Tx(ctx, func(tx Tx) error {
		rules, err := tx.LexiconRules(ctx, s.company)
		if err != nil {
			return err
		}
		for _, x := range rules {
			if strings.EqualFold(x.Name, name) {
				if err := tx.DeleteLexiconRule(ctx, s.company, x.Name); err != nil {
					return err
				}
				return s.captureAdmin(ctx, tx, "lexicon", "remove", x.Name, x, nil)
			}
		}
		return fmt.Errorf("%w: no lexicon rule is named %q", ErrNotFound, name)
	})
	if err != nil {
		return fmt.Errorf("bridge: remove lexicon rule %q: %w", name, err)
	}
	return nil
}

// TestLexicon says what text would become, outbound and inbound, under the
// stored rules plus try (when it is not nil: a rule not saved yet, replacing a
// stored one of its name). Nothing is stored or recorded: it is the admin's
// test box and `multiline admin lexicon test`.
func (s *Service) TestLexicon(ctx context.Context, text string, try *lexicon.Rule) (outbound, inbound lexicon.Decision, err error) {
	var set *lexicon.Set
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		set, err = s.lexiconSet(ctx, tx, s.company)
		return err
	})
	if err == nil && try != nil {
		set, err = set.With(*try)
	}
	if err != nil {
		return outbound, inbound, fmt.Errorf("bridge: test lexicon: %w", err)
	}
	return lexicon.Evaluate(set, lexicon.Outbound, text), lexicon.Evaluate(set, lexicon.Inbound, text), nil
}

// lexiconCache keeps the compiled set of the rules last read, so a message
// whose rules did not change is not compiled again; the rules themselves are
// read in each transaction, which is what makes a change apply at once.
type lexiconCache struct {
	mu    sync.Mutex
	rules []lexicon.Rule
	set   *lexicon.Set
}

// lexiconSet compiles the company's enabled rules, as stored in tx.
func (s *Service) lexiconSet(ctx context.Context, tx Tx, company CompanyID) (*lexicon.Set, error) {
	stored, err := tx.LexiconRules(ctx, company)
	if err != nil {
		return nil, fmt.Errorf("read lexicon rules: %w", err)
	}
	var rules []lexicon.Rule
	for _, r := range stored {
		if r.Enabled {
			rules = append(rules, r.Rule)
		}
	}
	s.lexCache.mu.Lock()
	defer s.lexCache.mu.Unlock()
	if s.lexCache.set != nil && equalRules(s.lexCache.rules, rules) {
		return s.lexCache.set, nil
	}
	set, err := lexicon.Compile(rules)
	if err != nil {
		// Stored rules were validated when added; a rule this binary refuses
		// (an older binary's limits) must not silently stop the policy.
		return nil, fmt.Errorf("compile stored lexicon rules: %w", err)
	}
	s.lexCache.rules, s.lexCache.set = rules, set
	return set, nil
}

func equalRules(a, b []lexicon.Rule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
