package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/multiline/multiline/bridge"
)

// reviewerKey is a remembered reviewer's key: company and object id in lower
// case, as the SQL schema's primary key.
type reviewerKey struct {
	company bridge.CompanyID
	id      string
}

// Reviewers lists the company's remembered reviewers by object id.
func (t *tx) Reviewers(_ context.Context, company bridge.CompanyID) ([]bridge.Reviewer, error) {
	var out []bridge.Reviewer
	for k, r := range t.s.reviewers {
		if k.company == company {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b bridge.Reviewer) int { return strings.Compare(a.AADObjectID, b.AADObjectID) })
	return out, nil
}

// SaveReviewer inserts or updates a reviewer.
func (t *tx) SaveReviewer(_ context.Context, company bridge.CompanyID, r bridge.Reviewer) error {
	r.AADObjectID = strings.ToLower(r.AADObjectID)
	put(t, t.s.reviewers, reviewerKey{company, r.AADObjectID}, r)
	return nil
}

// DeleteReviewer forgets a reviewer; one not remembered is no error.
func (t *tx) DeleteReviewer(_ context.Context, company bridge.CompanyID, objectID string) error {
	del(t, t.s.reviewers, reviewerKey{company, strings.ToLower(objectID)})
	return nil
}
