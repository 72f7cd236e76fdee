package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Draft is an event before it joins its chain: what the bridge knows when it
// records something. Seal turns it into an Event.
type Draft struct {
	Company string    // the tenant
	Thread  string    // the thread, or CompanyThread
	Time    time.Time // when it happened (kept to the microsecond)
	Kind    Kind      // what happened
	// Body is one of the *Body types (or any value that marshals to a JSON
	// object, or a json.RawMessage holding one).
	Body any
}

// Seal appends d to the chain whose current head is head: the event gets Seq
// head.Seq+1, Prev head.Hash, its body in canonical JSON and its hashes. Storage
// calls it in the same transaction as the change it records, with the head it
// read in that transaction, and keeps (company, thread, seq) unique so that two
// writers cannot both append seq n.
func Seal(head Head, d Draft) (Event, error) {
	if d.Company == "" {
		return Event{}, errors.New("archive: an event needs a company")
	}
	if d.Thread == "" {
		return Event{}, errors.New("archive: an event needs a thread (CompanyThread for the company chain)")
	}
	if !d.Kind.Known() {
		return Event{}, fmt.Errorf("archive: unknown event kind %q", d.Kind)
	}
	if d.Kind.CompanyWide() && d.Thread != CompanyThread {
		return Event{}, fmt.Errorf("archive: %s events belong on the company chain, not thread %q", d.Kind, d.Thread)
	}
	if d.Time.IsZero() {
		return Event{}, fmt.Errorf("archive: %s event has no time", d.Kind)
	}
	if head.Seq < 0 || (head.Seq == 0) != head.Hash.IsZero() {
		return Event{}, fmt.Errorf("archive: head %d/%s is not a chain's head", head.Seq, head.Hash)
	}
	body, err := encodeBody(d.Body)
	if err != nil {
		return Event{}, fmt.Errorf("archive: %s event: %w", d.Kind, err)
	}
	e := Event{
		Company:  d.Company,
		Thread:   d.Thread,
		Seq:      head.Seq + 1,
		Time:     d.Time.UTC().Truncate(time.Microsecond),
		Kind:     d.Kind,
		Body:     body,
		BodyHash: Sum(body),
		Prev:     head.Hash,
	}
	e.Hash = ChainHash(e.Prev, e)
	return e, nil
}

// SealAll seals drafts one after the other onto head, for a change that records
// several events at once (a message, its lexicon decision and its status). It
// returns the events and the new head.
func SealAll(head Head, drafts ...Draft) ([]Event, Head, error) {
	out := make([]Event, 0, len(drafts))
	for _, d := range drafts {
		e, err := Seal(head, d)
		if err != nil {
			return nil, head, err
		}
		out = append(out, e)
		head = HeadOf(e)
	}
	return out, head, nil
}

func encodeBody(v any) (json.RawMessage, error) {
	var raw []byte
	switch b := v.(type) {
	case nil:
		raw = []byte("{}")
	case json.RawMessage:
		raw = b
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	c, err := CanonicalJSON(raw)
	if err != nil {
		return nil, err
	}
	if len(c) == 0 || c[0] != '{' {
		return nil, errors.New("body is not a JSON object")
	}
	return c, nil
}
