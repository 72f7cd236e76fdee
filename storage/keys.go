package storage

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// SharedKeySize is the length of the keys SharedKey makes: 32 bytes, the
// output size of SHA-256, the least RFC 2104 recommends for HMAC-SHA256.
const SharedKeySize = 32

// SharedKey returns the key named name, which every replica of the database
// shares (shared_keys, migration 0014): the first caller makes it, at random,
// and every later one, on any replica, reads that one. Two replicas starting
// together cannot make two: each offers its own with INSERT … ON CONFLICT DO
// NOTHING and then reads back whichever was stored first. The key never
// leaves the database and this call; a stored key of the wrong length is an
// error, not something to sign with.
func (db *DB) SharedKey(ctx context.Context, name string) ([]byte, error) {
	offer := make([]byte, SharedKeySize)
	_, _ = rand.Read(offer) // crypto/rand.Read never fails (Go 1.24+)
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO shared_keys (name, key, created_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO NOTHING`, name, offer, micros(time.Now())); err != nil {
		return nil, fmt.Errorf("store the %s key: %w", name, err)
	}
	var key []byte
	if err := db.sql.QueryRowContext(ctx, `SELECT key FROM shared_keys WHERE name = $1`, name).Scan(&key); err != nil {
		return nil, fmt.Errorf("read the %s key: %w", name, err)
	}
	if len(key) != SharedKeySize {
		return nil, fmt.Errorf("the stored %s key has %d bytes, want %d (delete its row in shared_keys to make a new one)", name, len(key), SharedKeySize)
	}
	return key, nil
}
