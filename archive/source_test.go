package archive

import (
	"context"
	"slices"
	"time"
)

// memSource is a Source over a Memory, as storage.DB is one over the database:
// for export tests that need no database.
type memSource struct {
	mem   *Memory
	convs map[string]Conversation // by thread
	upns  map[string]string       // what the store knows now, by party id
}

func (s memSource) ArchiveCompanies(ctx context.Context) ([]string, error) {
	var out []string
	for _, e := range s.mem.All() {
		if !slices.Contains(out, e.Company) {
			out = append(out, e.Company)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s memSource) ArchiveEvents(ctx context.Context, company string, from, to time.Time, fn func(Event) error) error {
	chains, _ := s.mem.Chains(ctx)
	slices.SortFunc(chains, func(a, b ChainID) int { return compareStrings(a.Thread, b.Thread) })
	for _, id := range chains {
		if id.Company != company {
			continue
		}
		for _, e := range s.mem.Chain(id) {
			if !e.Time.Before(from) && e.Time.Before(to) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s memSource) ArchiveChainBefore(ctx context.Context, id ChainID, t time.Time, fn func(Event) error) error {
	for _, e := range s.mem.Chain(id) {
		if e.Time.Before(t) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s memSource) ArchiveConversation(ctx context.Context, company, thread string) (Conversation, error) {
	c := s.convs[thread]
	c.Company, c.Thread = company, thread
	return c, nil
}

func (s memSource) ArchiveAddresses(ctx context.Context, company string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if a, ok := s.upns[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
