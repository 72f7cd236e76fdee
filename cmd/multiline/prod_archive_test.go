package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/emltest"
	_ "github.com/multiline/multiline/storage" // the SQLite and PostgreSQL drivers
	"github.com/multiline/multiline/storage/pgtest"
)

// TestProductionArchive: `multiline serve` in production mode captures a
// conversation (a consumer on WeChat, an employee answering in Teams), the
// real `multiline archive verify` passes on its database while it runs,
// `multiline archive export` writes the day as EML and JSON Lines, and after
// someone with the database owner's rights edits one event, verify names it
// and exits non-zero. On SQLite and on PostgreSQL.
func TestProductionArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	buildBinary(t)
	run := newProdRun(t)
	for _, be := range []struct {
		name   string
		url    func(t *testing.T) string
		unlock []string
	}{
		{"sqlite", func(t *testing.T) string { return "" },
			[]string{`DROP TRIGGER archive_events_no_delete`, `DROP TRIGGER archive_events_no_update`}},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) },
			[]string{`DROP TRIGGER archive_events_append_only ON archive_events`}},
	} {
		t.Run(be.name, func(t *testing.T) {
			w := run.world(t, prodOptions{name: "archive-" + be.name, dbURL: be.url(t)})
			ann := w.install("ann", "Ann Lee", true)
			consumer := "wmArchive" + randHex(6)
			question := "Can I move my savings? " + randHex(3)
			answer := "Yes, let me explain. " + randHex(3)
			// Ann opens the tab: its SSO token names her UPN, which the
			// archive then addresses her by.
			w.apiJSON(w.sso(ann), "GET", "/api/v1/me", nil, 200, nil)
			w.consumerSends(consumer, question)
			w.waitChat(ann, prodSoon, question)
			w.say(ann, answer)
			w.waitInbox(consumer, prodSoon, answer)

			out := w.mustCLI("archive", "verify")
			if !strings.Contains(out, ": ok") || strings.Contains(out, "PROBLEM") {
				t.Fatalf("verify on a running deployment:\n%s", out)
			}

			day := time.Now().UTC().Format("2006-01-02")
			dir := t.TempDir()
			out = w.mustCLI("archive", "export", "--format", "eml", "--day", day, "--out", dir)
			emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
			if len(emls) != 1 {
				t.Fatalf("export wrote %q:\n%s", emls, out)
			}
			eml, err := os.ReadFile(emls[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Message-ID: <ml.", "X-MultiLine-WeChat-User: " + consumer, "X-MultiLine-Channel: wecom-kf",
				"X-MultiLine-WeChat-Corp: " + w.corpID, "Subject: "} {
				if !strings.Contains(string(eml), want) {
					t.Errorf("EML lacks %q:\n%s", want, eml)
				}
			}
			if from, to := emltest.Emails(t, eml, "From"), emltest.Emails(t, eml, "To"); !slices.Equal(from, []string{"wechat-" + consumer + "@wechat.invalid"}) || !slices.Equal(to, []string{ann.upn}) {
				t.Errorf("EML From %q To %q, want the consumer and %s (the UPN of Ann's token)", from, to, ann.upn)
			}
			w.mustCLI("archive", "export", "--format", "jsonl", "--from", day, "--to", day, "--out", dir)
			jsonl, err := os.ReadFile(filepath.Join(dir, "archive_"+day+"_"+day+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"kind":"message.in"`, `"kind":"message.out"`, `"kind":"notice.consumer"`, `"kind":"status"`} {
				if !strings.Contains(string(jsonl), want) {
					t.Errorf("JSON Lines lack %s:\n%s", want, jsonl)
				}
			}
			// One thread alone, all its days, as the admin page asks for it.
			thread := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(emls[0]), day+"_default_"), ".eml")
			one := t.TempDir()
			out = w.mustCLI("archive", "export", "--format", "jsonl", "--thread", thread, "--out", one)
			got, err := os.ReadFile(filepath.Join(one, "archive_"+day+"_"+day+"_"+thread+".jsonl"))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if lines := strings.Split(strings.TrimSpace(string(got)), "\n"); len(lines) < 4 || strings.Count(string(got), `"thread":"`+thread+`"`) != len(lines) {
				t.Errorf("the thread's export holds other chains:\n%s", got)
			}

			// Tamper: change what the employee wrote, as a DBA could.
			driver, dsn := "pgx", w.opts.dbURL
			if w.db != "" {
				driver, dsn = "sqlite", w.db
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range append(be.unlock, `UPDATE archive_events SET body = replace(body, 'Yes, let me', 'No, let me') WHERE kind = 'message.out'`) {
				if _, err := db.ExecContext(context.Background(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			out, err = w.cli("archive", "verify")
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("verify after tampering: %v\n%s", err, out)
			}
			if !strings.Contains(out, "PROBLEM default/") || !strings.Contains(out, "changed") || !strings.Contains(out, "FAILED") {
				t.Fatalf("verify after tampering printed:\n%s", out)
			}
		})
	}
}
