package wechat

import (
	"context"
	"sync"
	"time"
)

// Token is a cached access token.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// TokenCache stores access tokens by key (one per corp+secret or app). Back it with
// the database to share one token across replicas: WeChat invalidates older tokens
// when too many are fetched.
type TokenCache interface {
	// Get returns the cached token; ok is false when there is none.
	Get(ctx context.Context, key string) (tok Token, ok bool, err error)
	// Put stores a freshly fetched token, replacing any previous one.
	Put(ctx context.Context, key string, tok Token) error
}

// MemoryTokenCache is a TokenCache for one process.
type MemoryTokenCache struct {
	mu sync.Mutex
	m  map[string]Token
}

// NewMemoryTokenCache returns an empty in-memory cache.
func NewMemoryTokenCache() *MemoryTokenCache { return &MemoryTokenCache{m: map[string]Token{}} }

// Get implements TokenCache.
func (c *MemoryTokenCache) Get(_ context.Context, key string) (Token, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	return t, ok, nil
}

// Put implements TokenCache.
func (c *MemoryTokenCache) Put(_ context.Context, key string, tok Token) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = tok
	return nil
}

// refreshMargin renews a token this long before WeChat's expiry, so a call never
// starts with a token about to lapse in flight.
const refreshMargin = 5 * time.Minute
