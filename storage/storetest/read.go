package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// runRead: a read-only transaction reads a thread that a writer holds locked,
// while the writer holds it (the tab's views never wait for the jobs' writes),
// sees what was committed before it began and nothing of the writer's
// uncommitted change, and refuses to write, changing nothing.
func runRead(t *testing.T, f Factory) {
	s := f(t)()
	rs, ok := s.(bridge.ReadStore)
	if !ok {
		// The Service reads through Tx then; the in-memory store has one lock.
		t.Skipf("%T has no read-only transactions", s)
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		if err := tx.SaveCompany(ctx, company("c1")); err != nil {
			return err
		}
		return tx.SaveThread(ctx, threadOf("c1", "t1", "wm1", t0, "e1"))
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a reader that waits on the writer fails here, not by hanging
	defer cancel()
	locked, read := make(chan struct{}), make(chan error, 1)
	writer := make(chan error, 1)
	go func() {
		writer <- s.Tx(ctx, func(tx bridge.Tx) error {
			rec, err := tx.LoadThread(ctx, "t1") // locks the thread (PostgreSQL) and holds the write lock (SQLite)
			if err != nil {
				return err
			}
			rec.Sends = 5
			if err := tx.SaveThread(ctx, rec); err != nil {
				return err
			}
			close(locked)
			select { // commit only once the reader is done
			case err := <-read:
				read <- err
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	select {
	case <-locked:
	case err := <-writer:
		t.Fatalf("writer: %v", err)
	}
	var sends int
	read <- rs.ReadTx(ctx, func(tx bridge.Tx) error {
		rec, err := tx.LoadThread(ctx, "t1")
		sends = rec.Sends
		return err
	})
	if err := <-writer; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if err := <-read; err != nil {
		t.Fatalf("read beside a writer: %v", err)
	}
	if sends != 2 {
		t.Errorf("read %d sends, want the committed 2 (not the writer's uncommitted 5)", sends)
	}

	err := rs.ReadTx(ctx, func(tx bridge.Tx) error {
		rec, err := tx.LoadThread(ctx, "t1")
		if err != nil {
			return err
		}
		rec.Sends = 9
		return tx.SaveThread(ctx, rec)
	})
	if err == nil {
		t.Fatal("a write in a read-only transaction succeeded")
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		rec, err := tx.LoadThread(ctx, "t1")
		if err != nil {
			return err
		}
		if rec.Sends != 5 {
			return errors.New("the read-only transaction's write changed the thread")
		}
		return nil
	})
}
