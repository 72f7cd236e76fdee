package wechat_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/wechat"
)

// countingTokens counts the reads of the shared token store.
type countingTokens struct {
	db    wechat.TokenStore
	reads atomic.Int32
}

func (c *countingTokens) Token(ctx context.Context, key string) (string, time.Time, error) {
	c.reads.Add(1)
	return c.db.Token(ctx, key)
}

func (c *countingTokens) PutToken(ctx context.Context, key, token string, expires time.Time) error {
	return c.db.PutToken(ctx, key, token, expires)
}

// Two replicas on one database: each keeps the access token in memory and
// reads the database only on a miss or after WeChat refused its token, and a
// token one replica fetched is found by the other instead of fetching its own
// (which would invalidate the first's, on the real WeChat).
func TestTokensInMemoryWithTheDatabaseShared(t *testing.T) {
	e := newKfEnv(t)
	ctx := context.Background()
	u := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	open := func() *storage.DB {
		db, err := storage.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	first := open()
	if err := first.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	replica := func(db *storage.DB) (*wechat.KfClient, *countingTokens) {
		ct := &countingTokens{db: db}
		return wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: e.apiURL,
			Tokens: wechat.NewTieredTokenCache(wechat.NewSharedTokenCache(ct), nil)}), ct
	}
	a, aReads := replica(first)
	b, bReads := replica(open())
	n := 0
	send := func(c *wechat.KfClient, who string) {
		t.Helper()
		n++
		_, _ = e.fake.ConsumerSends(ctx, "wmCONSUMER", "hi") // a window for the send
		if _, err := c.SendMsg(ctx, text(who+string(rune('a'+n)), "hello")); err != nil {
			t.Fatalf("%s sends: %v", who, err)
		}
	}
	send(a, "A")
	readsAfterFirst := aReads.reads.Load()
	for range 3 {
		send(a, "A")
	}
	if got := aReads.reads.Load(); got != readsAfterFirst {
		t.Errorf("replica A read the token store %d times for 3 more calls, want none", got-readsAfterFirst)
	}
	send(b, "B")
	send(b, "B")
	if got := bReads.reads.Load(); got != 1 {
		t.Errorf("replica B read the token store %d times, want 1 (its first call)", got)
	}
	if got := e.tokenHits.Load(); got != 1 {
		t.Fatalf("gettoken called %d times by two replicas, want 1", got)
	}

	// The token expires early at WeChat (42001), while both replicas still
	// think it fresh: A fetches a new one, and B, refused too, finds A's.
	e.fake.Advance(3 * time.Hour)
	send(a, "A")
	send(b, "B")
	if got := e.tokenHits.Load(); got != 2 {
		t.Fatalf("gettoken called %d times, want 2: B should have read A's new token", got)
	}
	if got := bReads.reads.Load(); got != 2 {
		t.Errorf("replica B read the token store %d times, want 2", got)
	}
	if got := len(e.fake.Inbox("wmCONSUMER")); got != n {
		t.Errorf("the consumer got %d messages, want %d", got, n)
	}
}
