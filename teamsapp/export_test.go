package teamsapp

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/emltest"
	"github.com/multiline/multiline/storage"
)

var exportDay1 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// exportFixture is the tab (alice an admin, bob not) with the archive of
// SQLite holding two threads: T1 on two days, T2 on the first.
func exportFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	consumer := archive.Party{Role: archive.RoleConsumer, ID: "wmEmil", Name: "Emiliano"}
	ann := archive.Party{Role: archive.RoleEmployee, ID: "oid-ann", Name: "Ann", Address: "ann@contoso.example"}
	msg := func(thread string, at time.Time, k archive.Kind, who archive.Party, text string) archive.Draft {
		return archive.Draft{Company: "default", Thread: thread, Time: at, Kind: k,
			Body: archive.MessageBody{MessageID: thread + at.Format("150405"), Author: who, Text: text}}
	}
	day2 := exportDay1.AddDate(0, 0, 1)
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		return tx.Archive(ctx,
			msg("T1", exportDay1.Add(9*time.Hour), archive.KindMessageIn, consumer, "Is the fund open?"),
			msg("T1", exportDay1.Add(10*time.Hour), archive.KindMessageOut, ann, "Yes, it is."),
			msg("T2", exportDay1.Add(11*time.Hour), archive.KindMessageIn, archive.Party{Role: archive.RoleConsumer, ID: "wmLi", Name: "Li"}, "hello"),
			msg("T1", day2.Add(8*time.Hour), archive.KindMessageIn, consumer, "Thanks"),
		)
	}); err != nil {
		t.Fatal(err)
	}
	return newFixtureWith(t, false, func(c *Config) {
		c.Archive = db
		c.ArchiveLabels = archive.ForDeployment("wecom-kf", "wwCorp")
	})
}

// download GETs path as token's holder and returns the status, headers and body.
func (f *fixture) download(t *testing.T, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, body
}

// unzipEML reads an export's zip: each entry's name, with its Message-ID,
// From and To as net/mail parses them.
func unzipEML(t *testing.T, body []byte) (names []string, ids, from, to map[string]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	ids, from, to = map[string]string{}, map[string]string{}, map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		names = append(names, zf.Name)
		ids[zf.Name] = m.Header.Get("Message-ID")
		from[zf.Name] = strings.Join(emltest.Emails(t, raw, "From"), ", ")
		to[zf.Name] = strings.Join(emltest.Emails(t, raw, "To"), ", ")
	}
	return names, ids, from, to
}

// TestAdminExportEML: an admin downloads the days' EML as a zip that parses,
// one message per conversation per day, with the Message-ID the journal
// uses; one thread alone exports all its days.
func TestAdminExportEML(t *testing.T) {
	f := exportFixture(t)
	code, h, body := f.download(t, "/api/v1/admin/archive/export?format=eml&from=2026-03-02&to=2026-03-03", "alice")
	if code != 200 || h.Get("Content-Type") != "application/zip" {
		t.Fatalf("export = %d %s: %s", code, h.Get("Content-Type"), body)
	}
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err != nil || p["filename"] != "archive_2026-03-02_2026-03-03.zip" {
		t.Errorf("Content-Disposition %q (%v)", h.Get("Content-Disposition"), err)
	}
	names, ids, from, to := unzipEML(t, body)
	want := []string{"2026-03-02_default_T1.eml", "2026-03-02_default_T2.eml", "2026-03-03_default_T1.eml"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	if id := "<" + archive.DayMessageID("default", "T1", exportDay1, "") + ">"; ids[want[0]] != id {
		t.Errorf("Message-ID %q, want %q", ids[want[0]], id)
	}
	if from[want[0]] != "wechat-wmEmil@wechat.invalid" || to[want[0]] != "ann@contoso.example" {
		t.Errorf("From %q To %q", from[want[0]], to[want[0]])
	}

	code, h, body = f.download(t, "/api/v1/admin/archive/export?format=eml&thread=T1", "alice")
	if code != 200 {
		t.Fatalf("thread export = %d: %s", code, body)
	}
	if _, p, _ := mime.ParseMediaType(h.Get("Content-Disposition")); p["filename"] != "archive_2026-03-02_2026-03-03_T1.zip" {
		t.Errorf("Content-Disposition %q", h.Get("Content-Disposition"))
	}
	if names, _, _, _ := unzipEML(t, body); !slices.Equal(names, []string{want[0], want[2]}) {
		t.Errorf("thread T1's entries %q", names)
	}
}

// TestAdminExportJSONL: JSON Lines is one file of every event of the days,
// lossless: it reads back and verifies.
func TestAdminExportJSONL(t *testing.T) {
	f := exportFixture(t)
	code, h, body := f.download(t, "/api/v1/admin/archive/export?format=jsonl&from=2026-03-02", "alice")
	if code != 200 || h.Get("Content-Type") != "application/jsonl" {
		t.Fatalf("export = %d %s: %s", code, h.Get("Content-Type"), body)
	}
	var kinds []string
	if err := archive.ReadJSONL(bytes.NewReader(body), func(e archive.Event) error {
		kinds = append(kinds, e.Thread+" "+string(e.Kind))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"T1 message.in", "T1 message.out", "T2 message.in"}; !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q (the first day only)", kinds, want)
	}
}

// TestAdminExportRefuses: only admins export (403 for others); days that are
// not dates, a range backwards or too long, an unknown format, nothing
// asked for are 400 with a JSON error; a thread without a record is 404; and
// a server without the archive says so (501).
func TestAdminExportRefuses(t *testing.T) {
	f := exportFixture(t)
	for _, tc := range []struct {
		token, query string
		code         int
		says         string
	}{
		{"bob", "format=eml&from=2026-03-02", 403, msgNotAdmin},
		{"alice", "format=eml&from=2026-02-30", 400, "from must be a date"},
		{"alice", "format=eml&from=2026-03-02&to=3rd", 400, "to must be a date"},
		{"alice", "format=eml&from=2026-03-03&to=2026-03-02", 400, "before"},
		{"alice", "format=eml&from=0001-01-01&to=9999-12-31", 400, "at most"},
		{"alice", "format=eml&to=2026-03-02", 400, "from is needed"},
		{"alice", "format=pdf&from=2026-03-02", 400, "eml or jsonl"},
		{"alice", "format=eml", 400, "or a thread"},
		{"alice", "format=eml&thread=nope", 404, "no record"},
	} {
		code, h, body := f.download(t, "/api/v1/admin/archive/export?"+tc.query, tc.token)
		var e apiError
		if err := json.Unmarshal(body, &e); err != nil || code != tc.code || !strings.Contains(e.Error, tc.says) ||
			!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s = %d %q, want %d with %q", tc.token, tc.query, code, body, tc.code, tc.says)
		}
	}
	plain := newFixture(t, false)
	var e apiError
	if code := plain.call(t, "GET", "/api/v1/admin/archive/export?format=eml&from=2026-03-02", "alice", nil, &e); code != 501 {
		t.Errorf("without an archive = %d %q", code, e.Error)
	}
}
