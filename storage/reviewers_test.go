package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/storetest"
)

// TestComplianceReviewers: on SQLite and PostgreSQL the reviewers the tab saw
// are kept per company by object id (in lower case, so a token's casing does
// not make two), updated in place, listed in order, and forgotten; forgetting
// one never kept is no error.
func TestComplianceReviewers(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		do := func(fn func(tx bridge.Tx) error) {
			t.Helper()
			if err := db.Tx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		list := func(company bridge.CompanyID) (out []bridge.Reviewer) {
			t.Helper()
			do(func(tx bridge.Tx) (err error) { out, err = tx.Reviewers(ctx, company); return err })
			return out
		}
		do(func(tx bridge.Tx) error {
			for _, r := range []bridge.Reviewer{{AADObjectID: "OID-RITA", Name: "Rita", SeenAt: at}, {AADObjectID: "oid-otto", Name: "Otto", SeenAt: at}} {
				if err := tx.SaveReviewer(ctx, "acme", r); err != nil {
					return err
				}
			}
			if err := tx.SaveReviewer(ctx, "globex", bridge.Reviewer{AADObjectID: "oid-rita", Name: "Rita G", SeenAt: at}); err != nil {
				return err
			}
			return tx.SaveReviewer(ctx, "acme", bridge.Reviewer{AADObjectID: "oid-rita", Name: "Rita Review", SeenAt: at.Add(time.Hour)})
		})
		want := []bridge.Reviewer{{AADObjectID: "oid-otto", Name: "Otto", SeenAt: at}, {AADObjectID: "oid-rita", Name: "Rita Review", SeenAt: at.Add(time.Hour)}}
		if got := list("acme"); !slices.Equal(got, want) {
			t.Fatalf("acme's reviewers %+v, want %+v", got, want)
		}
		do(func(tx bridge.Tx) error {
			if err := tx.DeleteReviewer(ctx, "acme", "OID-OTTO"); err != nil {
				return err
			}
			return tx.DeleteReviewer(ctx, "acme", "oid-nobody")
		})
		if got := list("acme"); len(got) != 1 || got[0].AADObjectID != "oid-rita" {
			t.Fatalf("acme's reviewers after forgetting Otto: %+v", got)
		}
		if got := list("globex"); len(got) != 1 || got[0].Name != "Rita G" {
			t.Fatalf("globex's reviewers: %+v", got)
		}
	})
}

// onBothDatabases runs fn on a migrated SQLite database and on a PostgreSQL
// schema, as subtests.
func onBothDatabases(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	for _, be := range []struct {
		name    string
		factory func(testing.TB) func() storetest.Backend
	}{{"sqlite", sqliteFactory}, {"postgres", postgresFactory}} {
		t.Run(be.name, func(t *testing.T) { fn(t, be.factory(t)().(*storage.DB)) })
	}
}
