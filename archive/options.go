package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// What an export covers and how it is labelled, as `multiline archive export`
// and the tab's admin page both ask for it: the same parsing, the same names.

// ExportOptions say what to export and how to label it.
type ExportOptions struct {
	From, To time.Time // UTC days, both included
	// Company, when set, limits the export to that company's record; Thread
	// (which needs Company) to that one thread's chain.
	Company, Thread string
	// Channel and Corp describe the deployment's WeChat side for the EML headers.
	Channel Channel
	Corp    string
	// MessageIDDomain overrides DefaultMessageIDDomain (keep it stable).
	MessageIDDomain string
}

// Format is an export's format.
type Format string

// The export formats: one EML per conversation per day, or every event as
// JSON Lines.
const (
	FormatEML   Format = "eml"
	FormatJSONL Format = "jsonl"
)

// BadExportError is an export request the asker must fix (a format, a
// date, a range); Reason says what, in words for them.
type BadExportError struct{ Reason string }

func (e *BadExportError) Error() string { return "archive: export: " + e.Reason }

func badExport(format string, args ...any) error {
	return &BadExportError{Reason: fmt.Sprintf(format, args...)}
}

// ErrNoRecord says the thread to export has no event in the archive.
var ErrNoRecord = errors.New("archive: the archive has no record of that thread")

// ParseFormat reads eml or jsonl.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatEML, FormatJSONL:
		return f, nil
	}
	return "", badExport("the format must be eml or jsonl, not %q", s)
}

// ParseDays reads an export's days, YYYY-MM-DD in UTC, both included; an
// empty to is the day from.
func ParseDays(from, to string) (time.Time, time.Time, error) {
	if to == "" {
		to = from
	}
	f, err := time.Parse(DayLayout, strings.TrimSpace(from))
	if err != nil {
		return time.Time{}, time.Time{}, badExport("from must be a date, YYYY-MM-DD, not %q", from)
	}
	t, err := time.Parse(DayLayout, strings.TrimSpace(to))
	if err != nil {
		return time.Time{}, time.Time{}, badExport("to must be a date, YYYY-MM-DD, not %q", to)
	}
	if t.Before(f) {
		return time.Time{}, time.Time{}, badExport("to (%s) is before from (%s)", to, from)
	}
	return f, t, nil
}

// ForDeployment labels the exports of a deployment in WECHAT_MODE mode:
// official-account, or else wecom-kf with its corp id.
func ForDeployment(mode, corp string) ExportOptions {
	if strings.TrimSpace(mode) == string(ChannelOfficialAccount) {
		return ExportOptions{Channel: ChannelOfficialAccount}
	}
	return ExportOptions{Channel: ChannelWeComKF, Corp: corp}
}

// endOfTime is after every event: a chain read "before" it is read whole.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Resolve completes the export of one thread: the thread must have a record
// (ErrNoRecord otherwise), and days left out are those of its first and last
// events. An export of days needs nothing more; a thread needs a company.
func (o *ExportOptions) Resolve(ctx context.Context, src Source) error {
	if o.Thread == "" {
		return nil
	}
	if o.Company == "" {
		return badExport("a thread's export needs its company")
	}
	var first, last time.Time
	if err := src.ArchiveChainBefore(ctx, ChainID{Company: o.Company, Thread: o.Thread}, endOfTime, func(e Event) error {
		if first.IsZero() || e.Time.Before(first) {
			first = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
		return nil
	}); err != nil {
		return err
	}
	if first.IsZero() {
		return fmt.Errorf("%w: %s", ErrNoRecord, o.Thread)
	}
	if o.From.IsZero() {
		o.From = DayOf(first)
	}
	if o.To.IsZero() {
		o.To = DayOf(last)
	}
	return nil
}

// days lists the UTC days from o.From to o.To, inclusive.
func (o ExportOptions) days() ([]time.Time, error) {
	from, to := DayOf(o.From), DayOf(o.To)
	if o.From.IsZero() || o.To.IsZero() || to.Before(from) {
		return nil, badExport("the days run from %s to %s", from.Format(DayLayout), to.Format(DayLayout))
	}
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out, nil
}

// companies are the companies the export covers.
func (o ExportOptions) companies(ctx context.Context, src Source) ([]string, error) {
	if o.Company != "" {
		return []string{o.Company}, nil
	}
	if o.Thread != "" {
		return nil, badExport("a thread's export needs its company")
	}
	return src.ArchiveCompanies(ctx)
}

// EMLName is the file name of a conversation-day's EML: DAY_COMPANY_THREAD.eml.
func EMLName(day time.Time, company, thread string) string {
	return fmt.Sprintf("%s_%s_%s.eml", DayOf(day).Format(DayLayout), localPart(company), localPart(thread))
}

// FileName is the name of the export's one file: archive_FROM_TO.jsonl for
// JSON Lines, archive_FROM_TO.zip for EML in a zip; a thread's export has the
// thread after the days.
func (o ExportOptions) FileName(f Format) string {
	name := fmt.Sprintf("archive_%s_%s", DayOf(o.From).Format(DayLayout), DayOf(o.To).Format(DayLayout))
	if o.Thread != "" {
		name += "_" + localPart(o.Thread)
	}
	if f == FormatJSONL {
		return name + ".jsonl"
	}
	return name + ".zip"
}
