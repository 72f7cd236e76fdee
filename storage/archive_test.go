package storage_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/pgtest"
)

var archiveBackends = []struct {
	name string
	url  func(*testing.T) string
	// unlock drops the append-only triggers, as someone with the database
	// owner's rights could, to tamper.
	unlock []string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "a.db") },
		[]string{`DROP TRIGGER archive_events_no_delete`, `DROP TRIGGER archive_events_no_update`}},
	{"postgres", func(t *testing.T) string { return pgtest.Schema(t) },
		[]string{`DROP TRIGGER archive_events_append_only ON archive_events`}},
}

var archiveT0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// appendEvents appends n message events to each thread, in transactions of
// two, then an anchor of every thread's head on the company chain.
func appendEvents(t *testing.T, db *storage.DB, threads []string, n int) {
	t.Helper()
	ctx := context.Background()
	for _, th := range threads {
		for i := 0; i < n; i += 2 {
			err := db.Tx(ctx, func(tx bridge.Tx) error {
				var ds []archive.Draft
				for j := i; j < min(i+2, n); j++ {
					ds = append(ds, archive.Draft{Company: "acme", Thread: th, Time: archiveT0.Add(time.Duration(j) * time.Minute),
						Kind: archive.KindMessageIn, Body: archive.MessageBody{MessageID: th + "-" + string(rune('a'+j)),
							Author: archive.Party{Role: archive.RoleConsumer, ID: "wm1"}, Text: "hello"}})
				}
				return tx.Archive(ctx, ds...)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	anchor(t, db)
}

func anchor(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		heads, err := tx.ArchiveHeads(ctx, "acme")
		if err != nil {
			return err
		}
		return tx.Archive(ctx, archive.NewAnchor("acme", archiveT0, archiveT0.Add(time.Hour), heads))
	}); err != nil {
		t.Fatal(err)
	}
}

// TestArchiveTamperingCaught: whoever edits, deletes or reorders archive rows
// in the database (after dropping the triggers that refuse it) is caught by
// archive.Verify on the store, the check `multiline archive verify` runs, at
// the first event concerned; and without dropping them the database refuses.
func TestArchiveTamperingCaught(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		sql    []string
		kind   archive.ProblemKind
		thread string
		seq    int64
	}{
		{"edit a body", []string{`UPDATE archive_events SET body = replace(body, 'hello', 'HELLO') WHERE thread = 'T1' AND seq = 2`},
			archive.ProblemChanged, "T1", 2},
		{"edit a time", []string{`UPDATE archive_events SET at = at + 1000000 WHERE thread = 'T1' AND seq = 3`},
			archive.ProblemChanged, "T1", 3},
		{"edit a kind", []string{`UPDATE archive_events SET kind = 'message.out' WHERE thread = 'T2' AND seq = 1`},
			archive.ProblemChanged, "T2", 1},
		{"delete an event", []string{`DELETE FROM archive_events WHERE thread = 'T1' AND seq = 3`},
			archive.ProblemRemoved, "T1", 3},
		{"delete an event and renumber", []string{`DELETE FROM archive_events WHERE thread = 'T1' AND seq = 2`,
			`UPDATE archive_events SET seq = seq - 1 WHERE thread = 'T1' AND seq > 2`},
			archive.ProblemRemoved, "T1", 2},
		{"delete the last events", []string{`DELETE FROM archive_events WHERE thread = 'T2' AND seq >= 3`},
			archive.ProblemRemoved, "T2", 3},
		{"delete a whole thread", []string{`DELETE FROM archive_events WHERE thread = 'T2'`},
			archive.ProblemThreadRemoved, "T2", 1},
		{"swap two events", []string{`UPDATE archive_events SET seq = -2 WHERE thread = 'T1' AND seq = 2`,
			`UPDATE archive_events SET seq = 2 WHERE thread = 'T1' AND seq = 3`,
			`UPDATE archive_events SET seq = 3 WHERE thread = 'T1' AND seq = -2`},
			archive.ProblemReordered, "T1", 2},
		{"drop a body without a purge", []string{`UPDATE archive_events SET body = NULL WHERE thread = 'T1' AND seq = 1`},
			archive.ProblemBodyMissing, "T1", 1},
		{"delete an anchor", []string{`DELETE FROM archive_events WHERE thread = '_company' AND seq = 1`},
			archive.ProblemRemoved, "_company", 1},
	}
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fresh := func(t *testing.T) *storage.DB {
				db := openDB(t, be.url(t))
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				appendEvents(t, db, []string{"T1", "T2"}, 4)
				// Another anchor, so that deleting the company chain's last
				// event is not the whole story.
				appendEvents(t, db, []string{"T3"}, 1)
				return db
			}

			t.Run("untouched", func(t *testing.T) {
				db := fresh(t)
				rep, err := archive.Verify(ctx, db)
				if err != nil || !rep.OK() || rep.Chains != 4 || rep.Anchors != 2 || rep.Events != 4+4+1+2 {
					t.Fatalf("verify: %+v, %v", rep, err)
				}
				// The triggers keep the product's own SQL append-only.
				for _, q := range []string{`UPDATE archive_events SET body = '{}' WHERE thread = 'T1' AND seq = 1`,
					`DELETE FROM archive_events WHERE thread = 'T1' AND seq = 4`,
					`UPDATE archive_events SET seq = 9 WHERE thread = 'T1' AND seq = 4`} {
					if _, err := db.SQLForTest().ExecContext(ctx, q); err == nil {
						t.Errorf("%s: allowed", q)
					}
				}
				// Retention's change, dropping a body, is allowed (and then
				// reported, since no purge event covers it).
				if _, err := db.SQLForTest().ExecContext(ctx, `UPDATE archive_events SET body = NULL WHERE thread = 'T1' AND seq = 1`); err != nil {
					t.Errorf("dropping a body: %v", err)
				}
			})
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					db := fresh(t)
					for _, q := range append(be.unlock, c.sql...) {
						if _, err := db.SQLForTest().ExecContext(ctx, q); err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					rep, err := archive.Verify(ctx, db)
					if err != nil {
						t.Fatal(err)
					}
					p := rep.First()
					if p == nil || len(rep.Problems) != 1 || p.Kind != c.kind || p.Chain.Thread != c.thread || p.Seq != c.seq {
						t.Fatalf("verify found %+v, want %s at %s #%d", rep.Problems, c.kind, c.thread, c.seq)
					}
					if rep.Err() == nil {
						t.Fatal("a failed verification must be an error")
					}
				})
			}
		})
	}
}

// TestArchiveOneTransactionManyChains: a transaction that appends to several
// chains at once, interleaved (a page of consumer messages, a policy change on
// the company chain), writes them together when it ends, each continuing its
// own chain, and a chain new to the database starts at 1; the chains verify.
func TestArchiveOneTransactionManyChains(t *testing.T) {
	t.Parallel()
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := storage.Open(ctx, be.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			appendEvents(t, db, []string{"T1", "T2"}, 3)
			msg := func(th string, j int) archive.Draft {
				return archive.Draft{Company: "acme", Thread: th, Time: archiveT0.Add(time.Duration(10+j) * time.Minute),
					Kind: archive.KindMessageIn, Body: archive.MessageBody{MessageID: th + "-page-" + string(rune('a'+j)),
						Author: archive.Party{Role: archive.RoleConsumer, ID: "wm1"}, Text: "page"}}
			}
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				for j := range 3 {
					if err := tx.Archive(ctx, msg("T1", j), msg("T2", j), msg("T3", j)); err != nil {
						return err
					}
				}
				return tx.Archive(ctx, archive.Draft{Company: "acme", Thread: archive.CompanyThread, Time: archiveT0.Add(time.Hour),
					Kind: archive.KindAdminChange, Body: archive.AdminBody{Object: "policy", Change: "set", Key: "window"}})
			}); err != nil {
				t.Fatal(err)
			}
			rep, err := archive.Verify(ctx, db)
			if err != nil || !rep.OK() || rep.Chains != 4 || rep.Events != 3+3+1+3+3+3+1 {
				t.Fatalf("verify: %+v, %v", rep, err)
			}
			for th, want := range map[string]int64{"T1": 6, "T2": 6, "T3": 3, archive.CompanyThread: 2} {
				var last int64
				if err := db.Events(ctx, archive.ChainID{Company: "acme", Thread: th}, func(e archive.Event) error {
					if e.Seq != last+1 {
						t.Errorf("%s: event %d after %d", th, e.Seq, last)
					}
					last = e.Seq
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if last != want {
					t.Errorf("%s: head %d, want %d", th, last, want)
				}
			}
		})
	}
}

// TestArchiveAddresses: the UPNs of the employees the record names, by Entra
// object id or (for one without) by the bridge's id, of that company only;
// employees without a UPN and unknown ids are left out.
func TestArchiveAddresses(t *testing.T) {
	for _, be := range archiveBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			db := migratedDB(t, be.url(t))
			if err := db.Tx(ctx, func(tx bridge.Tx) error {
				for _, c := range []bridge.CompanyID{"acme", "other"} {
					if err := tx.SaveCompany(ctx, bridge.Company{ID: c, Name: string(c), Policy: bridge.DefaultPolicy()}); err != nil {
						return err
					}
				}
				for _, e := range []bridge.Employee{
					{ID: "e1", Company: "acme", AADObjectID: "oid-ann", UPN: "ann@acme.example"},
					{ID: "e2", Company: "acme", UPN: "ben@acme.example"}, // no object id: the record names them e2
					{ID: "e3", Company: "acme", AADObjectID: "oid-cal"},  // no UPN learnt
					{ID: "e4", Company: "other", AADObjectID: "oid-dan", UPN: "dan@other.example"},
				} {
					if err := tx.SaveEmployee(ctx, e); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := db.ArchiveAddresses(ctx, "acme", []string{"oid-ann", "e2", "oid-cal", "oid-dan", "nobody"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"oid-ann": "ann@acme.example", "e2": "ben@acme.example"}
			if len(got) != len(want) || got["oid-ann"] != want["oid-ann"] || got["e2"] != want["e2"] {
				t.Fatalf("addresses = %v, want %v", got, want)
			}
		})
	}
}
