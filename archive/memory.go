package archive

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Memory is an in-memory Reader: for tests, and for verifying an export read back
// with ReadJSONL. It returns each chain's events in the order they were added,
// as a table scan would, so a test can store them out of order on purpose.
type Memory struct {
	mu     sync.Mutex
	order  []ChainID
	chains map[ChainID][]Event
}

// NewMemory holds the given events.
func NewMemory(events ...Event) *Memory {
	m := &Memory{}
	m.Add(events...)
	return m
}

// Add stores events as they are, without checking them: Verify does that.
func (m *Memory) Add(events ...Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.chains == nil {
		m.chains = map[ChainID][]Event{}
	}
	for _, e := range events {
		id := e.Chain()
		if _, ok := m.chains[id]; !ok {
			m.order = append(m.order, id)
		}
		m.chains[id] = append(m.chains[id], e)
	}
}

// Append seals d onto the head of its chain and stores it, as storage would in
// a transaction; tests and the local mode build chains with it.
func (m *Memory) Append(d Draft) (Event, error) {
	m.mu.Lock()
	var head Head
	if es := m.chains[ChainID{Company: d.Company, Thread: d.Thread}]; len(es) > 0 {
		head = HeadOf(es[len(es)-1])
	}
	m.mu.Unlock()
	e, err := Seal(head, d)
	if err != nil {
		return Event{}, err
	}
	m.Add(e)
	return e, nil
}

// Head is the last event's head of a chain (zero when empty).
func (m *Memory) Head(id ChainID) Head {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.chains[id]
	if len(es) == 0 {
		return Head{}
	}
	return HeadOf(es[len(es)-1])
}

// ThreadHeads are the heads of every thread chain of a company, what an anchor records.
func (m *Memory) ThreadHeads(company string) []ThreadHead {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ThreadHead
	for _, id := range m.order {
		es := m.chains[id]
		if id.Company != company || id.Thread == CompanyThread || len(es) == 0 {
			continue
		}
		last := es[len(es)-1]
		out = append(out, ThreadHead{Thread: id.Thread, Seq: last.Seq, Hash: last.Hash})
	}
	return out
}

// Chain is a copy of one chain's events, for a test to alter and put back with Replace.
func (m *Memory) Chain(id ChainID) []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.chains[id])
}

// Replace puts a chain's events back (altered by a test); nil removes the chain.
func (m *Memory) Replace(id ChainID, events []Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if events == nil {
		delete(m.chains, id)
		m.order = slices.DeleteFunc(m.order, func(x ChainID) bool { return x == id })
		return
	}
	if _, ok := m.chains[id]; !ok {
		m.order = append(m.order, id)
	}
	m.chains[id] = slices.Clone(events)
}

// All is every event, chain by chain in the order chains appeared.
func (m *Memory) All() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, id := range m.order {
		out = append(out, m.chains[id]...)
	}
	return out
}

// Chains implements Reader.
func (m *Memory) Chains(ctx context.Context) ([]ChainID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.order), nil
}

// Events implements Reader.
func (m *Memory) Events(ctx context.Context, id ChainID, fn func(Event) error) error {
	m.mu.Lock()
	es, ok := m.chains[id]
	es = slices.Clone(es)
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("archive: no chain %s", id)
	}
	for _, e := range es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
