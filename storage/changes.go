package storage

import (
	"encoding/json"
	"slices"

	"github.com/multiline/multiline/bridge"
)

// A transaction notes what it changed that someone else waits for: new or
// re-timed jobs (the job runners of every replica) and threads (the tab's live
// updates of their employees). On PostgreSQL the notes travel as NOTIFY payloads
// sent inside the transaction, so they are delivered when it commits and never
// when it rolls back (listen.go receives them); on SQLite, one process, they are
// handed to this process's runners and tabs after the commit.

// changeSet is what one transaction changed.
type changeSet struct {
	// jobs says a job was enqueued or made due sooner.
	jobs bool
	// threads are the threads written, with every employee the transaction saw
	// in each (before and after a change of participants, so that an employee
	// removed from a thread hears of it too).
	threads map[bridge.ThreadID]*threadChange
}

// threadChange is one thread's entry in a NOTIFY payload. It carries ids only,
// never content or credentials: payloads are visible to every session that
// listens on the database.
type threadChange struct {
	Company   bridge.CompanyID    `json:"c,omitempty"`
	Thread    bridge.ThreadID     `json:"t"`
	Employees []bridge.EmployeeID `json:"e,omitempty"`
}

// notice is one NOTIFY payload: a wake-up for the job runners and/or threads
// that changed.
type notice struct {
	Jobs    bool           `json:"j,omitempty"`
	Threads []threadChange `json:"t,omitempty"`
	// All means "anything may have changed" (sent by nobody; the listener makes
	// one up after a reconnect, when notices may have been missed).
	All bool `json:"-"`
}

// maxNoticeBytes keeps each payload under PostgreSQL's 8,000-byte limit.
const maxNoticeBytes = 7000

func (c *changeSet) empty() bool { return c == nil || !c.jobs && len(c.threads) == 0 }

// thread notes thread id of company as changed for the employees listed.
func (c *changeSet) thread(company bridge.CompanyID, id bridge.ThreadID, employees ...bridge.EmployeeID) {
	if c.threads == nil {
		c.threads = map[bridge.ThreadID]*threadChange{}
	}
	tc := c.threads[id]
	if tc == nil {
		tc = &threadChange{Thread: id}
		c.threads[id] = tc
	}
	if company != "" {
		tc.Company = company
	}
	for _, e := range employees {
		if !slices.Contains(tc.Employees, e) {
			tc.Employees = append(tc.Employees, e)
		}
	}
}

// list returns the changed threads, in id order.
func (c *changeSet) list() []threadChange {
	ids := make([]bridge.ThreadID, 0, len(c.threads))
	for id := range c.threads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]threadChange, len(ids))
	for i, id := range ids {
		out[i] = *c.threads[id]
	}
	return out
}

// payloads encodes the set as NOTIFY payloads, each under maxNoticeBytes.
func (c *changeSet) payloads() []string {
	if c.empty() {
		return nil
	}
	var out []string
	cur := notice{Jobs: c.jobs}
	size := 0
	flush := func() {
		b, _ := json.Marshal(cur) // ids and booleans: cannot fail
		out = append(out, string(b))
		cur, size = notice{}, 0
	}
	for _, tc := range c.list() {
		b, _ := json.Marshal(tc)
		if size > 0 && size+len(b) > maxNoticeBytes {
			flush()
		}
		cur.Threads = append(cur.Threads, tc)
		size += len(b) + 1
	}
	if cur.Jobs || len(cur.Threads) > 0 {
		flush()
	}
	return out
}
