package archive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Source is what an export reads from a store: the events of a time range, a
// chain's events before a time (who was in a thread when a day began), and
// what the store knows of a conversation beyond its events. storage.DB
// implements it.
type Source interface {
	// ArchiveCompanies lists the companies that have events.
	ArchiveCompanies(ctx context.Context) ([]string, error)
	// ArchiveEvents calls fn with the company's events whose time is in
	// [from, to), chain by chain, in Seq order within a chain.
	ArchiveEvents(ctx context.Context, company string, from, to time.Time, fn func(Event) error) error
	// ArchiveChainBefore calls fn with the chain's events before t, in Seq order.
	ArchiveChainBefore(ctx context.Context, chain ChainID, t time.Time, fn func(Event) error) error
	// ArchiveConversation describes a thread: its consumer (WeChat id and
	// nickname) and the WeChat account; Channel, Corp and Employees may be empty.
	ArchiveConversation(ctx context.Context, company, thread string) (Conversation, error)
	// AddressSource gives the UPNs of employees whose events recorded none.
	AddressSource
}

// ExportOptions say what to export and how to label it.
type ExportOptions struct {
	From, To time.Time // UTC days, both included
	// Channel and Corp describe the deployment's WeChat side for the EML headers.
	Channel Channel
	Corp    string
	// MessageIDDomain overrides DefaultMessageIDDomain (keep it stable).
	MessageIDDomain string
}

// days lists the UTC days from o.From to o.To, inclusive.
func (o ExportOptions) days() ([]time.Time, error) {
	from, to := DayOf(o.From), DayOf(o.To)
	if o.From.IsZero() || o.To.IsZero() || to.Before(from) {
		return nil, fmt.Errorf("archive: export: the days run from %s to %s", from.Format(DayLayout), to.Format(DayLayout))
	}
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out, nil
}

// ExportJSONL writes every event of the days, of every company and chain
// (company chains included), as JSON Lines: the lossless export. It returns how
// many events it wrote.
func ExportJSONL(ctx context.Context, src Source, w io.Writer, o ExportOptions) (int, error) {
	days, err := o.days()
	if err != nil {
		return 0, err
	}
	companies, err := src.ArchiveCompanies(ctx)
	if err != nil {
		return 0, err
	}
	jw := NewJSONLWriter(w)
	n := 0
	from, to := days[0], days[len(days)-1].AddDate(0, 0, 1)
	for _, c := range companies {
		if err := src.ArchiveEvents(ctx, c, from, to, func(e Event) error {
			n++
			return jw.Write(e)
		}); err != nil {
			return n, err
		}
	}
	return n, jw.Flush()
}

// ExportEML writes one RFC 5322 message per conversation per UTC day into dir,
// named DAY_COMPANY_THREAD.eml, and returns the files' paths. A file written
// again for the same day has the same name and Message-ID, so a re-export
// replaces rather than adds.
func ExportEML(ctx context.Context, src Source, media MediaSource, dir string, o ExportOptions) ([]string, error) {
	days, err := o.days()
	if err != nil {
		return nil, err
	}
	companies, err := src.ArchiveCompanies(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("archive: export: %w", err)
	}
	var files []string
	for _, day := range days {
		for _, company := range companies {
			byThread := map[string][]Event{}
			var threads []string
			if err := src.ArchiveEvents(ctx, company, day, day.AddDate(0, 0, 1), func(e Event) error {
				if e.Thread == CompanyThread {
					return nil
				}
				if _, ok := byThread[e.Thread]; !ok {
					threads = append(threads, e.Thread)
				}
				byThread[e.Thread] = append(byThread[e.Thread], e)
				return nil
			}); err != nil {
				return files, err
			}
			slices.Sort(threads)
			for _, thread := range threads {
				path, err := exportDay(ctx, src, media, dir, o, company, thread, day, byThread[thread])
				if err != nil {
					return files, err
				}
				files = append(files, path)
			}
		}
	}
	return files, nil
}

func exportDay(ctx context.Context, src Source, media MediaSource, dir string, o ExportOptions, company, thread string, day time.Time, events []Event) (string, error) {
	c, err := DayConversation(ctx, src, company, thread, day, events)
	if err != nil {
		return "", err
	}
	if c.Channel == "" {
		c.Channel = o.Channel
	}
	if c.Corp == "" {
		c.Corp = o.Corp
	}
	if c.MessageIDDomain == "" {
		c.MessageIDDomain = o.MessageIDDomain
	}
	path := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.eml", day.Format(DayLayout), localPart(company), localPart(thread)))
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("archive: export: %w", err)
	}
	werr := WriteEML(ctx, f, c, day, events, media)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return "", fmt.Errorf("archive: export %s: %w", path, err)
	}
	return path, nil
}

// DayConversation is the Conversation of a thread's EML for one day: what the
// store knows of it, the employees who were in it when the day began (replayed
// from the chain's participant events), the consumer's nickname from the
// day's own messages when the store has none, and each employee's address on
// that day (see addresses.go).
func DayConversation(ctx context.Context, src Source, company, thread string, day time.Time, events []Event) (Conversation, error) {
	c, err := src.ArchiveConversation(ctx, company, thread)
	if err != nil {
		return c, err
	}
	c.Company, c.Thread = company, thread
	var roster []Party
	rec := recordedAddresses{}
	if err := src.ArchiveChainBefore(ctx, ChainID{Company: company, Thread: thread}, DayOf(day), func(e Event) error {
		roster = replayRoster(roster, e)
		rec.note(e)
		if c.Consumer.Name == "" {
			c.Consumer = consumerFrom(e, c.Consumer)
		}
		return nil
	}); err != nil {
		return c, err
	}
	if len(c.Employees) == 0 {
		c.Employees = roster
	}
	inOrder := slices.Clone(events)
	slices.SortStableFunc(inOrder, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range inOrder {
		rec.note(e)
		if c.Consumer.Name == "" {
			c.Consumer = consumerFrom(e, c.Consumer)
		}
	}
	if c.Addresses == nil {
		if c.Addresses, err = bookFor(ctx, src, company, rec, c.Employees, inOrder); err != nil {
			return c, fmt.Errorf("archive: addresses of thread %s: %w", thread, err)
		}
	}
	return c, nil
}

// replayRoster applies one participant event to the list of employees in a thread.
func replayRoster(roster []Party, e Event) []Party {
	switch e.Kind {
	case KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft:
	default:
		return roster
	}
	var b ParticipantBody
	if e.Decode(&b) != nil {
		return roster
	}
	roster = slices.DeleteFunc(roster, func(p Party) bool { return p.ID == b.Employee.ID })
	if e.Kind == KindParticipantAdded {
		roster = append(roster, b.Employee)
	}
	return roster
}

// consumerFrom takes the consumer's id and nickname from a message they wrote.
func consumerFrom(e Event, c Party) Party {
	if e.Kind != KindMessageIn {
		return c
	}
	var b MessageBody
	if e.Decode(&b) != nil || b.Author.Name == "" {
		return c
	}
	if c.ID == "" || c.ID == b.Author.ID {
		c.ID, c.Name = b.Author.ID, b.Author.Name
	}
	return c
}
