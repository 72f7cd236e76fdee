package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL's LISTEN/NOTIFY makes replicas one system: a transaction that
// enqueues a job or changes a thread sends a notice on the database's channel
// (in the transaction, so it goes out at commit), and every replica's listener
// wakes its job runners and its tab streams at once, instead of at their next
// poll. The listener holds one dedicated connection (pgx's native connection,
// outside the pool, since a pooled connection cannot wait for notifications),
// and reconnects with backoff when it drops; after every (re)connection it
// wakes everything once, because notices sent meanwhile are lost. Polling
// stays as the fallback, at a long interval (PostgresPollInterval).

// ListenerApplicationName is the application_name of the listener's connection,
// by which operators (and the tests that cut it) find it in pg_stat_activity.
const ListenerApplicationName = "multiline-listen"

// PostgresPollInterval is how often the job runners of a PostgreSQL database
// look for due jobs without a wake-up: new jobs of every replica arrive by
// NOTIFY, so the poll only finds timers that came due and what a lost
// connection hid.
const PostgresPollInterval = 5 * time.Second

// Listener backoff between reconnection attempts.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// channelFor is the notification channel of a schema: channels are per
// database, so each schema (tests run one per test) has its own.
func channelFor(schema string) string {
	if schema == "" || schema == "public" {
		return "multiline"
	}
	return "multiline_" + schema
}

// listen starts the listener once, on PostgreSQL; Close stops it.
func (db *DB) listen() {
	if db.dialect != dialectPostgres {
		return
	}
	db.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		db.listenStop = cancel
		db.listenDone = make(chan struct{})
		go func() {
			defer close(db.listenDone)
			db.listenLoop(ctx)
		}()
	})
}

// stopListening ends the listener and waits for it.
func (db *DB) stopListening() {
	if db.listenStop == nil {
		return
	}
	db.listenStop()
	<-db.listenDone
}

func (db *DB) listenLoop(ctx context.Context) {
	backoff := listenBackoffMin
	for ctx.Err() == nil {
		err := db.listenOnceConnected(ctx, func() { backoff = listenBackoffMin })
		if ctx.Err() != nil {
			return
		}
		db.log().Warn("database listener: connection lost, reconnecting", "in", backoff, "err", err)
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenOnceConnected connects, listens, and delivers notices until the
// connection fails or ctx ends. connected is called once LISTEN took effect.
func (db *DB) listenOnceConnected(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(db.url)
	if err != nil {
		return fmt.Errorf("listener: parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("listener: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listener: listen: %w", err)
	}
	connected()
	// Anything sent before LISTEN took effect was missed: look once.
	db.deliver(ctx, notice{All: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listener: wait: %w", err)
		}
		var nt notice
		if err := json.Unmarshal([]byte(n.Payload), &nt); err != nil {
			db.log().Warn("database listener: undecodable notice", "err", err)
			continue
		}
		db.deliver(ctx, nt)
	}
}

// log is where the listener reports.
func (db *DB) log() *slog.Logger { return slog.Default().With("component", "storage") }
