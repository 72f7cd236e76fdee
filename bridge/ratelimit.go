package bridge

import "time"

// RateBucket is one GCRA bucket (generic cell rate algorithm) that a request
// must pass: a token every Interval, up to Burst at once. Buckets live where
// every replica sees them (storage keeps them in PostgreSQL), so that limits
// such as Teams' per-conversation and per-tenant rates hold for all replicas
// together, not for each one.
type RateBucket struct {
	// Key names the bucket (a conversation or a tenant, and the window).
	Key string
	// Interval is the time one token takes to come back.
	Interval time.Duration
	// Burst is how many tokens the bucket holds when full (at least 1).
	Burst int
}
