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

// ExportJSONL writes every event of the days as JSON Lines, the lossless
// export: of every company and chain (company chains included), or of
// o.Company only, or of o.Thread's chain only. It returns how many events it
// wrote. The events are written as they are read, so an export of any size
// holds no more than one event in memory.
func ExportJSONL(ctx context.Context, src Source, w io.Writer, o ExportOptions) (int, error) {
	days, err := o.days()
	if err != nil {
		return 0, err
	}
	companies, err := o.companies(ctx, src)
	if err != nil {
		return 0, err
	}
	jw := NewJSONLWriter(w)
	n := 0
	from, to := days[0], days[len(days)-1].AddDate(0, 0, 1)
	for _, c := range companies {
		if err := src.ArchiveEvents(ctx, c, from, to, func(e Event) error {
			if o.Thread != "" && e.Thread != o.Thread {
				return nil
			}
			n++
			return jw.Write(e)
		}); err != nil {
			return n, err
		}
	}
	return n, jw.Flush()
}

// ExportEML writes one RFC 5322 message per conversation per UTC day into dir,
// named as EMLName says, and returns the files' paths. A file written again
// for the same day has the same name and Message-ID, so a re-export replaces
// rather than adds.
func ExportEML(ctx context.Context, src Source, media MediaSource, dir string, o ExportOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("archive: export: %w", err)
	}
	names, err := ExportEMLTo(ctx, src, media, dirFiles(dir), o)
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(dir, n)
	}
	return paths, err
}

// ExportEMLTo renders one RFC 5322 message per conversation per UTC day of
// the export (o.Company's, o.Thread's, or every company's) into files, day by
// day, and returns the names it wrote, in order. One company-day's events are
// held in memory at a time, and each message is written whole before the next.
func ExportEMLTo(ctx context.Context, src Source, media MediaSource, files EMLFiles, o ExportOptions) ([]string, error) {
	days, err := o.days()
	if err != nil {
		return nil, err
	}
	companies, err := o.companies(ctx, src)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, day := range days {
		for _, company := range companies {
			byThread := map[string][]Event{}
			var threads []string
			if err := src.ArchiveEvents(ctx, company, day, day.AddDate(0, 0, 1), func(e Event) error {
				if e.Thread == CompanyThread || o.Thread != "" && e.Thread != o.Thread {
					return nil
				}
				if _, ok := byThread[e.Thread]; !ok {
					threads = append(threads, e.Thread)
				}
				byThread[e.Thread] = append(byThread[e.Thread], e)
				return nil
			}); err != nil {
				return names, err
			}
			slices.Sort(threads)
			for _, thread := range threads {
				name := EMLName(day, company, thread)
				if err := exportDay(ctx, src, media, files, name, o, company, thread, day, byThread[thread]); err != nil {
					return names, err
				}
				names = append(names, name)
			}
		}
	}
	return names, nil
}

func exportDay(ctx context.Context, src Source, media MediaSource, files EMLFiles, name string, o ExportOptions, company, thread string, day time.Time, events []Event) error {
	c, err := DayConversation(ctx, src, company, thread, day, events)
	if err != nil {
		return err
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
	f, err := files.Create(name, day)
	if err != nil {
		return fmt.Errorf("archive: export %s: %w", name, err)
	}
	werr := WriteEML(ctx, f, c, day, events, media)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("archive: export %s: %w", name, err)
	}
	return nil
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
