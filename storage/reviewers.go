package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// This file keeps the compliance reviewers the tab saw holding the
// Compliance.Review role (table compliance_reviewers, migration 0013), whom
// lexicon blocks and flags alert besides the configured ones.

// Reviewers lists the company's remembered reviewers by object id.
func (t *tx) Reviewers(ctx context.Context, company bridge.CompanyID) ([]bridge.Reviewer, error) {
	rows, err := t.query(ctx, `SELECT aad_object_id, name, seen_at FROM compliance_reviewers WHERE company = $1 ORDER BY aad_object_id`, company)
	if err != nil {
		return nil, fmt.Errorf("compliance reviewers of %s: %w", company, err)
	}
	defer rows.Close()
	var out []bridge.Reviewer
	for rows.Next() {
		var r bridge.Reviewer
		var seen int64
		if err := rows.Scan(&r.AADObjectID, &r.Name, &seen); err != nil {
			return nil, fmt.Errorf("compliance reviewers of %s: %w", company, err)
		}
		r.SeenAt = fromMicros(seen)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("compliance reviewers of %s: %w", company, err)
	}
	return out, nil
}

// SaveReviewer inserts or updates a reviewer (object ids are kept in lower case).
func (t *tx) SaveReviewer(ctx context.Context, company bridge.CompanyID, r bridge.Reviewer) error {
	_, err := t.exec(ctx, `INSERT INTO compliance_reviewers (company, aad_object_id, name, seen_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (company, aad_object_id) DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at`,
		company, strings.ToLower(r.AADObjectID), r.Name, micros(r.SeenAt))
	if err != nil {
		return fmt.Errorf("save compliance reviewer %s: %w", r.AADObjectID, err)
	}
	return nil
}

// DeleteReviewer forgets a reviewer; one not remembered is no error.
func (t *tx) DeleteReviewer(ctx context.Context, company bridge.CompanyID, objectID string) error {
	if _, err := t.exec(ctx, `DELETE FROM compliance_reviewers WHERE company = $1 AND aad_object_id = $2`, company, strings.ToLower(objectID)); err != nil {
		return fmt.Errorf("delete compliance reviewer %s: %w", objectID, err)
	}
	return nil
}
