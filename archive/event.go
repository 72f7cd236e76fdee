package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// CompanyThread is the Thread of a company's own chain, which holds anchors, admin
// changes, purges and holds on consumers or employees. Thread ids of the bridge use
// only [0-9a-zA-Z], so the underscore keeps this name out of their way.
const CompanyThread = "_company"

// Event is one record of the archive, as it is stored and exported. Nothing in the
// product updates or deletes an event; retention only drops Body (see [Event.Purged]).
type Event struct {
	// Company is the tenant the event belongs to.
	Company string `json:"company"`
	// Thread is the conversation, or CompanyThread for the company chain.
	Thread string `json:"thread"`
	// Seq numbers the events of one chain from 1 without gaps.
	Seq int64 `json:"seq"`
	// Time is when the event happened, UTC, to the microsecond.
	Time time.Time `json:"time"`
	// Kind says what happened and how to read Body.
	Kind Kind `json:"kind"`
	// Body is the kind's details as canonical JSON (see CanonicalJSON); nil once
	// retention purged it.
	Body json.RawMessage `json:"body"`
	// BodyHash is SHA-256 of the canonical Body. It is what the chain covers, so it
	// outlives the body.
	BodyHash Hash `json:"body_sha256"`
	// Prev is the Hash of the chain's previous event, zero for Seq 1.
	Prev Hash `json:"prev"`
	// Hash is SHA-256(Prev ‖ CanonicalBytes).
	Hash Hash `json:"hash"`
}

// Chain names the chain an event belongs to.
func (e Event) Chain() ChainID { return ChainID{Company: e.Company, Thread: e.Thread} }

// Purged reports whether retention dropped the body; the hashes remain.
func (e Event) Purged() bool { return e.Body == nil }

// WithoutBody is the event as retention leaves it: the same hashes, no body.
// Storage writes this when it purges, so the chain still verifies.
func (e Event) WithoutBody() Event {
	e.Body = nil
	return e
}

// Decode unmarshals the body into v (one of the *Body types of this package).
// A purged event has nothing to decode and returns ErrPurged.
func (e Event) Decode(v any) error {
	if e.Body == nil {
		return ErrPurged
	}
	if err := json.Unmarshal(e.Body, v); err != nil {
		return fmt.Errorf("archive: %s event %s #%d: body: %w", e.Kind, e.Thread, e.Seq, err)
	}
	return nil
}

// ChainID names one chain: a thread of a company, or the company chain.
type ChainID struct {
	Company string `json:"company"` // the tenant
	Thread  string `json:"thread"`  // a thread id, or CompanyThread
}

// String is "company/thread", for messages to people.
func (c ChainID) String() string { return c.Company + "/" + c.Thread }

// Head is the last event of a chain, all a writer needs to append the next one.
// The zero Head is the head of an empty chain.
type Head struct {
	Seq  int64 `json:"seq"`  // the last event's Seq (0: empty)
	Hash Hash  `json:"hash"` // the last event's Hash (zero: empty)
}

// HeadOf is the head a chain has once e is its last event.
func HeadOf(e Event) Head { return Head{Seq: e.Seq, Hash: e.Hash} }
