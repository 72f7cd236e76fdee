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

// TieredTokenCache keeps access tokens in memory in front of a shared cache
// (the database, NewSharedTokenCache), so that an API call reads no row: a
// replica reads the shared cache only when its memory has no fresh token (at
// start, near expiry) or after WeChat refused the token it had (40014, 42001,
// 40001: another replica may have fetched a newer one, which invalidated it).
// A token this replica fetches is written to both, so that the others find it
// on their next miss instead of fetching their own.
type TieredTokenCache struct {
	shared TokenCache
	now    func() time.Time
	mem    MemoryTokenCache
}

// NewTieredTokenCache returns a cache over shared; now is the clock that
// decides whether a token in memory is fresh (nil: time.Now).
func NewTieredTokenCache(shared TokenCache, now func() time.Time) *TieredTokenCache {
	if now == nil {
		now = time.Now
	}
	return &TieredTokenCache{shared: shared, now: now, mem: MemoryTokenCache{m: map[string]Token{}}}
}

// Get implements TokenCache: the token in memory while it is fresh, else the
// shared cache's (remembered in memory).
func (c *TieredTokenCache) Get(ctx context.Context, key string) (Token, bool, error) {
	if t, ok, _ := c.mem.Get(ctx, key); ok && c.now().Add(refreshMargin).Before(t.ExpiresAt) {
		return t, true, nil
	}
	t, ok, err := c.shared.Get(ctx, key)
	if err != nil || !ok {
		return Token{}, false, err
	}
	_ = c.mem.Put(ctx, key, t)
	return t, true, nil
}

// Put implements TokenCache: the shared cache first, so that memory never
// holds a token the other replicas cannot find.
func (c *TieredTokenCache) Put(ctx context.Context, key string, tok Token) error {
	if err := c.shared.Put(ctx, key, tok); err != nil {
		return err
	}
	return c.mem.Put(ctx, key, tok)
}

// Forget drops the token in memory if it is value (WeChat refused it), so
// that the next Get reads the shared cache.
func (c *TieredTokenCache) Forget(key, value string) {
	c.mem.mu.Lock()
	defer c.mem.mu.Unlock()
	if c.mem.m[key].Value == value {
		delete(c.mem.m, key)
	}
}

// tokenForgetter is a TokenCache that keeps tokens in front of another one,
// and must be told when WeChat refuses one (TieredTokenCache).
type tokenForgetter interface {
	Forget(key, value string)
}
