package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
	"github.com/multiline/multiline/storage"
)

// TestLexiconRules: a company's rules on SQLite and PostgreSQL are kept as
// written, listed in the order they were added, unique per company ignoring
// case, removed by name ignoring case, and apart from another company's.
func TestLexiconRules(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		block := bridge.LexiconRule{Rule: lexicon.Rule{Name: "Guarantee", Pattern: `(?i)guaranteed`, Direction: lexicon.Outbound, Action: lexicon.Block}, Enabled: true, CreatedAt: at.Add(time.Second)}
		redact := bridge.LexiconRule{Rule: lexicon.Rule{Name: "card", Pattern: `\d{16}`, Direction: lexicon.Both, Action: lexicon.Redact}, Enabled: false, CreatedAt: at}
		other := bridge.LexiconRule{Rule: lexicon.Rule{Name: "guarantee", Pattern: `x+`, Direction: lexicon.Inbound, Action: lexicon.Flag}, Enabled: true, CreatedAt: at}
		err := db.Tx(ctx, func(tx bridge.Tx) error {
			for _, r := range []bridge.LexiconRule{block, redact} {
				if err := tx.InsertLexiconRule(ctx, "acme", r); err != nil {
					return err
				}
			}
			return tx.InsertLexiconRule(ctx, "globex", other)
		})
		if err != nil {
			t.Fatal(err)
		}
		var dupErr error
		_ = db.Tx(ctx, func(tx bridge.Tx) error {
			dupErr = tx.InsertLexiconRule(ctx, "acme", other) // "guarantee" vs "Guarantee"
			return dupErr
		})
		if dupErr == nil {
			t.Fatal("a second rule named guarantee (ignoring case) was stored")
		}
		list := func(company bridge.CompanyID) []bridge.LexiconRule {
			t.Helper()
			var out []bridge.LexiconRule
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				var err error
				out, err = tx.LexiconRules(ctx, company)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := list("acme"); len(got) != 2 || got[0] != redact || got[1] != block {
			t.Fatalf("acme's rules %+v, want %+v then %+v", got, redact, block)
		}
		if err := db.Tx(ctx, func(tx bridge.Tx) error { return tx.DeleteLexiconRule(ctx, "acme", "GUARANTEE") }); err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx bridge.Tx) error { return tx.DeleteLexiconRule(ctx, "acme", "guarantee") })
		if !errors.Is(err, bridge.ErrNotFound) {
			t.Fatalf("deleting a missing rule: %v", err)
		}
		if got := list("acme"); len(got) != 1 || got[0] != redact {
			t.Fatalf("acme's rules after the removal %+v", got)
		}
		if got := list("globex"); len(got) != 1 || got[0] != other {
			t.Fatalf("globex's rules %+v", got)
		}
	})
}
