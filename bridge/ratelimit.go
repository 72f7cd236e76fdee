package bridge

import "time"

// RateLimit is what one key (a conversation, a tenant) lets through: at most
// N requests in any span of Per, for each of its windows at once. Limits live
// where every replica sees them (storage keeps each key's recent grants in
// PostgreSQL), so that Teams' per-conversation and per-tenant limits hold for
// all replicas together, not for each one.
type RateLimit struct {
	// Key names what is limited.
	Key string
	// Windows are the sliding windows that all hold for Key.
	Windows []RateWindow
}

// RateWindow allows at most N requests in any span of Per.
type RateWindow struct {
	Per time.Duration
	N   int
}
