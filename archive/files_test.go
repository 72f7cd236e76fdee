package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestExportZip: the EML export as a zip stream has one entry per
// conversation per day, each the message WriteEML renders; the same days
// give the same bytes; one thread alone gives its days only; and an export
// that fails half-way leaves no zip a reader would take for a whole one.
func TestExportZip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	src := memSource{mem: f.mem, convs: map[string]Conversation{"T1": {Consumer: zhang, Account: "wkKF0001"}}}
	o := ExportOptions{From: day1, To: day2, Channel: ChannelWeComKF, Corp: "ww1234567890"}
	var a, b bytes.Buffer
	n, err := ExportZip(ctx, src, f.media, &a, o)
	if err != nil || n != 4 {
		t.Fatalf("ExportZip = %d, %v", n, err)
	}
	if _, err := ExportZip(ctx, src, f.media, &b, o); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("a second export differs (%v)", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	want := []string{"2026-11-24_acme_T1.eml", "2026-11-24_acme_T2.eml", "2026-11-25_acme_T1.eml", "2026-11-25_acme_T2.eml"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(rc)
	rc.Close()
	c, err := DayConversation(ctx, src, "acme", "T1", day1, f.t1Day1)
	if err != nil {
		t.Fatal(err)
	}
	c.Channel, c.Corp = o.Channel, o.Corp
	if direct := renderEML(t, c, day1, f.t1Day1, f.media); !bytes.Equal(got.Bytes(), direct) {
		t.Error("the zip's entry is not the message WriteEML renders")
	}

	one := o
	one.Company, one.Thread = "acme", "T2"
	var c2 bytes.Buffer
	if n, err := ExportZip(ctx, src, f.media, &c2, one); err != nil || n != 2 {
		t.Fatalf("thread T2: %d, %v", n, err)
	}

	var broken bytes.Buffer
	failing := failAfter{memSource: src, after: day2}
	if _, err := ExportZip(ctx, failing, f.media, &broken, o); !errors.Is(err, errStore) {
		t.Fatalf("a failing store: %v", err)
	}
	if _, err := zip.NewReader(bytes.NewReader(broken.Bytes()), int64(broken.Len())); err == nil {
		t.Fatal("a failed export reads as a whole zip")
	}
}

var errStore = errors.New("the store went away")

// failAfter is a Source that fails to read events from a day on.
type failAfter struct {
	memSource
	after time.Time
}

func (s failAfter) ArchiveEvents(ctx context.Context, company string, from, to time.Time, fn func(Event) error) error {
	if !from.Before(s.after) {
		return errStore
	}
	return s.memSource.ArchiveEvents(ctx, company, from, to, fn)
}

// TestExportRequest: what the CLI and the admin page both parse.
func TestExportRequest(t *testing.T) {
	from, to, err := ParseDays("2026-11-24", "")
	if err != nil || !from.Equal(day1) || !to.Equal(day1) {
		t.Fatalf("one day: %v %v %v", from, to, err)
	}
	for _, bad := range [][2]string{{"", ""}, {"2026-11-31", ""}, {"2026-11-25", "2026-11-24"}, {"24/11/2026", ""}} {
		var be *BadExportError
		if _, _, err := ParseDays(bad[0], bad[1]); !errors.As(err, &be) || be.Reason == "" {
			t.Errorf("ParseDays(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
	if f, err := ParseFormat(" JSONL "); err != nil || f != FormatJSONL {
		t.Errorf("ParseFormat: %q %v", f, err)
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("pdf accepted")
	}
	f := newFixture(t)
	src := memSource{mem: f.mem}
	o := ExportOptions{Company: "acme", Thread: "T1"}
	if err := o.Resolve(context.Background(), src); err != nil || !o.From.Equal(day1) || !o.To.Equal(day2) {
		t.Fatalf("Resolve: %v..%v %v", o.From, o.To, err)
	}
	if got := o.FileName(FormatJSONL); got != "archive_2026-11-24_2026-11-25_T1.jsonl" {
		t.Errorf("FileName = %q", got)
	}
	none := ExportOptions{Company: "acme", Thread: "T9"}
	if err := none.Resolve(context.Background(), src); !errors.Is(err, ErrNoRecord) {
		t.Errorf("Resolve of a thread without events: %v", err)
	}
	if d := ForDeployment("official-account", "ww1"); d.Channel != ChannelOfficialAccount || d.Corp != "" {
		t.Errorf("ForDeployment(official-account) = %+v", d)
	}
}
