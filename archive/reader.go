package archive

import "context"

// Reader is what Verify needs from a store: the list of chains and each chain's
// events in order. Storage implements it for SQLite and PostgreSQL with two plain
// queries; Memory implements it for tests and for checking an export.
type Reader interface {
	// Chains lists every chain held, company chains included, in any order.
	Chains(ctx context.Context) ([]ChainID, error)
	// Events calls fn with each event of one chain in ascending Seq order (as
	// stored: ORDER BY seq), stopping at and returning fn's first error.
	Events(ctx context.Context, chain ChainID, fn func(Event) error) error
}
