package teamsapp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
)

// The company's lexicon rules in the in-memory bridge, validated by the
// lexicon package as the real bridge does, so that the admin page's Lexicon
// section works in the browser test.

var _ LexiconAdmin = (*memBridge)(nil)

func (b *memBridge) LexiconRules(context.Context) ([]bridge.LexiconRule, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.lexicon), nil
}

func (b *memBridge) AddLexiconRule(_ context.Context, r bridge.LexiconRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.lexicon {
		if strings.EqualFold(x.Name, r.Name) {
			return fmt.Errorf("%w: %q", bridge.ErrLexiconRuleExists, r.Name)
		}
	}
	b.lexicon = append(b.lexicon, r)
	return nil
}

func (b *memBridge) RemoveLexiconRule(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.lexicon)
	b.lexicon = slices.DeleteFunc(b.lexicon, func(x bridge.LexiconRule) bool { return strings.EqualFold(x.Name, name) })
	if len(b.lexicon) == n {
		return fmt.Errorf("%w: lexicon rule %q", bridge.ErrNotFound, name)
	}
	return nil
}

func (b *memBridge) TestLexicon(ctx context.Context, text string, try *lexicon.Rule) (lexicon.Decision, lexicon.Decision, error) {
	stored, _ := b.LexiconRules(ctx)
	var rules []lexicon.Rule
	for _, r := range stored {
		if r.Enabled {
			rules = append(rules, r.Rule)
		}
	}
	set, err := lexicon.Compile(rules)
	if err == nil && try != nil {
		set, err = set.With(*try)
	}
	if err != nil {
		return lexicon.Decision{}, lexicon.Decision{}, err
	}
	return lexicon.Evaluate(set, lexicon.Outbound, text), lexicon.Evaluate(set, lexicon.Inbound, text), nil
}
