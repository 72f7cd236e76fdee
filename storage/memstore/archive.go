package memstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// The archive in memory: real hash chains, sealed and appended like storage's,
// undone on rollback, so tests through memstore see the record production keeps.

var _ archive.Reader = (*Store)(nil)

// Archive implements bridge.Tx: it seals each draft onto its chain's head.
// The store's mutex serialises every transaction, so no lock is needed.
func (t *tx) Archive(_ context.Context, drafts ...archive.Draft) error {
	for _, d := range drafts {
		id := archive.ChainID{Company: d.Company, Thread: d.Thread}
		es := t.s.chains[id]
		var head archive.Head
		if len(es) > 0 {
			head = archive.HeadOf(es[len(es)-1])
		}
		e, err := archive.Seal(head, d)
		if err != nil {
			return fmt.Errorf("archive %s: %w", id, err)
		}
		if len(es) == 0 {
			order := t.s.chainOrder
			t.undo = append(t.undo, func() { t.s.chainOrder = order })
			t.s.chainOrder = append(slices.Clip(order), id)
		}
		// The slice is clipped so that an undo's old value is never overwritten
		// by a later append sharing its array.
		put(t, t.s.chains, id, append(slices.Clip(es), e))
	}
	return nil
}

// ArchiveHeads implements bridge.Tx: every thread chain's head of the company.
func (t *tx) ArchiveHeads(_ context.Context, company bridge.CompanyID) ([]archive.ThreadHead, error) {
	var out []archive.ThreadHead
	for _, id := range t.s.chainOrder {
		es := t.s.chains[id]
		if id.Company != string(company) || id.Thread == archive.CompanyThread || len(es) == 0 {
			continue
		}
		last := es[len(es)-1]
		out = append(out, archive.ThreadHead{Thread: id.Thread, Seq: last.Seq, Hash: last.Hash})
	}
	return out, nil
}

// MediaInfo implements bridge.Tx.
func (t *tx) MediaInfo(_ context.Context, ref string) (bridge.MediaInfo, error) {
	m, ok := t.s.media[ref]
	if !ok {
		return bridge.MediaInfo{}, fmt.Errorf("%w: media %s", bridge.ErrNotFound, ref)
	}
	return bridge.MediaInfo{ContentType: m.contentType, FileName: m.fileName, Size: int64(len(m.data)),
		SHA256: archive.Hash(sha256.Sum256(m.data))}, nil
}

// Chains implements archive.Reader.
func (s *Store) Chains(context.Context) ([]archive.ChainID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chainOrder), nil
}

// Events implements archive.Reader.
func (s *Store) Events(ctx context.Context, id archive.ChainID, fn func(archive.Event) error) error {
	s.mu.Lock()
	es := slices.Clone(s.chains[id])
	s.mu.Unlock()
	for _, e := range es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// ArchiveEvents returns every archive event held, chain by chain, for tests
// that look at what was captured.
func (s *Store) ArchiveEvents() []archive.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []archive.Event
	for _, id := range s.chainOrder {
		out = append(out, s.chains[id]...)
	}
	return out
}
