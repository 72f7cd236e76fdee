package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
)

// This file keeps a company's lexicon rules (table lexicon_rules, migration
// 0009). The bridge validates a rule before it stores it and reads the rules in
// the transaction of every message, so this is plain rows: names unique per
// company ignoring case (name_key), listed in the order they were added.

// LexiconRules lists the company's rules, oldest first.
func (t *tx) LexiconRules(ctx context.Context, company bridge.CompanyID) ([]bridge.LexiconRule, error) {
	rows, err := t.query(ctx, `SELECT name, pattern, action, direction, enabled, created_at FROM lexicon_rules
WHERE company = $1 ORDER BY created_at, name_key`, company)
	if err != nil {
		return nil, fmt.Errorf("lexicon rules of %s: %w", company, err)
	}
	defer rows.Close()
	var out []bridge.LexiconRule
	for rows.Next() {
		var r bridge.LexiconRule
		var action, direction string
		var created int64
		if err := rows.Scan(&r.Name, &r.Pattern, &action, &direction, &r.Enabled, &created); err != nil {
			return nil, fmt.Errorf("lexicon rules of %s: %w", company, err)
		}
		r.Action, r.Direction, r.CreatedAt = lexicon.Action(action), lexicon.Direction(direction), fromMicros(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lexicon rules of %s: %w", company, err)
	}
	return out, nil
}

// InsertLexiconRule stores a new rule; a name in use (ignoring case) is refused
// by the primary key.
func (t *tx) InsertLexiconRule(ctx context.Context, company bridge.CompanyID, r bridge.LexiconRule) error {
	_, err := t.exec(ctx, `INSERT INTO lexicon_rules (company, name_key, name, pattern, action, direction, enabled, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		company, strings.ToLower(r.Name), r.Name, r.Pattern, string(r.Action), string(r.Direction), r.Enabled, micros(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert lexicon rule %q: %w", r.Name, err)
	}
	return nil
}

// DeleteLexiconRule removes the rule of this name, ignoring case.
func (t *tx) DeleteLexiconRule(ctx context.Context, company bridge.CompanyID, name string) error {
	res, err := t.exec(ctx, `DELETE FROM lexicon_rules WHERE company = $1 AND name_key = $2`, company, strings.ToLower(name))
	return affected(res, err, bridge.ErrNotFound, "lexicon rule "+name)
}
