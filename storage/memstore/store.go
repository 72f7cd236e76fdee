// Package memstore is a bridge.Store in memory: maps under one mutex, a
// transaction holding the mutex for its whole life and undoing its writes on
// rollback, and the job queue with the semantics of package storage (lanes,
// leases, timers, backoff). It is the baseline of the storage benchmarks and a
// fast store for tests; it keeps nothing across restarts.
package memstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// ErrConstraint is returned for writes the SQL schema would refuse: a duplicate
// key or a reference to a missing row.
var ErrConstraint = errors.New("constraint violated")

// Store is an in-memory bridge.Store. The zero value is not usable; call New.
type Store struct {
	mu   sync.Mutex
	wake chan struct{}

	companies map[bridge.CompanyID]bridge.Company
	employees map[bridge.EmployeeID]bridge.Employee
	// turns counts each company's pool routings (the round robin's position).
	turns     map[bridge.CompanyID]int64
	consumers map[consumerKey]bridge.Consumer
	threads   map[bridge.ThreadID]bridge.ThreadRecord
	messages  map[bridge.MessageID]bridge.MessageRecord
	seqs      map[threadSeq]bridge.MessageID
	byThread  map[bridge.ThreadID][]bridge.MessageID // in insertion order
	inbound   map[consumerKey]struct{}
	cursors   map[consumerKey]string
	cards     map[cardKey]bridge.CardRecord
	cardMsgs  map[cardKey]string // (employee, message) → activity id
	audit     []bridge.AuditRecord
	lexicon   map[lexiconKey]bridge.LexiconRule
	reviewers map[reviewerKey]bridge.Reviewer
	reads     map[readKey]int64 // read marks: the seq read up to

	jobs      map[int64]job
	lanes     map[string][]int64 // each lane's job ids, ascending
	lastJobID int64

	tokens map[string]token
	media  map[string]media

	// chains holds the archive events of each chain, in seq order; chainOrder
	// lists the chains as they first appeared.
	chains     map[archive.ChainID][]archive.Event
	chainOrder []archive.ChainID
}

// consumerKey is a (company, name) pair: consumers, inbound msgids, cursors.
type consumerKey struct {
	company bridge.CompanyID
	id      string
}

type threadSeq struct {
	thread bridge.ThreadID
	seq    int64
}

// cardKey is (employee, activity id) for cards and (employee, message id) for cardMsgs.
type cardKey struct {
	employee bridge.EmployeeID
	id       string
}

type job struct {
	bridge.Job
	lockedBy    string
	lockedUntil time.Time
}

type token struct {
	value   string
	expires time.Time
}

type media struct {
	company, contentType, fileName string
	data                           []byte
}

// New returns an empty store.
func New() *Store {
	return &Store{
		wake:      make(chan struct{}, 1),
		companies: map[bridge.CompanyID]bridge.Company{},
		employees: map[bridge.EmployeeID]bridge.Employee{},
		turns:     map[bridge.CompanyID]int64{},
		consumers: map[consumerKey]bridge.Consumer{},
		threads:   map[bridge.ThreadID]bridge.ThreadRecord{},
		messages:  map[bridge.MessageID]bridge.MessageRecord{},
		seqs:      map[threadSeq]bridge.MessageID{},
		byThread:  map[bridge.ThreadID][]bridge.MessageID{},
		inbound:   map[consumerKey]struct{}{},
		cursors:   map[consumerKey]string{},
		cards:     map[cardKey]bridge.CardRecord{},
		cardMsgs:  map[cardKey]string{},
		reads:     map[readKey]int64{},
		jobs:      map[int64]job{},
		lanes:     map[string][]int64{},
		tokens:    map[string]token{},
		media:     map[string]media{},
		chains:    map[archive.ChainID][]archive.Event{},
		lexicon:   map[lexiconKey]bridge.LexiconRule{},
		reviewers: map[reviewerKey]bridge.Reviewer{},
	}
}

var _ bridge.Store = (*Store)(nil)

// Tx runs fn with the store locked; if fn fails or panics, its writes are undone.
func (s *Store) Tx(ctx context.Context, fn func(bridge.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{s: s}
	defer func() {
		if p := recover(); p != nil {
			t.rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

// Wake tells the store's job runners that jobs are due.
func (s *Store) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// tx is a transaction: the writes it made, as functions that undo them.
type tx struct {
	s    *Store
	undo []func()
}

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

// put sets m[k] = v, remembering how to undo it.
func put[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
	m[k] = v
}

// del deletes m[k], remembering how to undo it.
func del[K comparable, V any](t *tx, m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	t.undo = append(t.undo, func() { m[k] = old })
	delete(m, k)
}
