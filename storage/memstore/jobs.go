package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/jobs"
)

// Jobs follow package storage's rules: a lane's jobs run one at a time in id
// order; pending means not claimed by a runner.

func (t *tx) Enqueue(_ context.Context, j bridge.Job) error {
	if j.Lane == "" || j.Kind == "" {
		return fmt.Errorf("enqueue: %w", jobs.ErrJobIncomplete)
	}
	s := t.s
	last := s.lastJobID
	t.undo = append(t.undo, func() { s.lastJobID = last })
	s.lastJobID++
	j.ID = s.lastJobID
	j.RunAt = norm(j.RunAt)
	if len(j.Payload) == 0 {
		j.Payload = json.RawMessage("null")
	} else {
		j.Payload = rawClone(j.Payload)
	}
	put(t, s.jobs, j.ID, job{Job: j})
	put(t, s.lanes, j.Lane, append(s.lanes[j.Lane], j.ID))
	return nil
}

// deletePending removes the unclaimed jobs of a lane.
func (t *tx) deletePending(lane string) {
	ids := t.s.lanes[lane]
	keep := make([]int64, 0, len(ids))
	for _, id := range ids {
		if t.s.jobs[id].lockedBy != "" {
			keep = append(keep, id)
			continue
		}
		del(t, t.s.jobs, id)
	}
	if len(keep) == len(ids) {
		return
	}
	if len(keep) == 0 {
		del(t, t.s.lanes, lane)
		return
	}
	put(t, t.s.lanes, lane, keep)
}

func (t *tx) SetTimer(ctx context.Context, j bridge.Job) error {
	t.deletePending(j.Lane)
	return t.Enqueue(ctx, j)
}

func (t *tx) CancelLanes(_ context.Context, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("cancel lanes: %w", jobs.ErrEmptyLanePrefix)
	}
	for lane := range t.s.lanes {
		if strings.HasPrefix(lane, prefix) {
			t.deletePending(lane)
		}
	}
	return nil
}

func (t *tx) WakeLane(_ context.Context, lane string) error {
	for _, id := range t.s.lanes[lane] {
		j := t.s.jobs[id]
		if j.lockedBy == "" && !j.RunAt.IsZero() {
			j.RunAt = time.Time{}
			put(t, t.s.jobs, id, j)
		}
	}
	return nil
}

func (t *tx) CompleteJob(_ context.Context, id int64) error {
	j, ok := t.s.jobs[id]
	if !ok {
		return fmt.Errorf("%w: job %d", bridge.ErrNotFound, id)
	}
	del(t, t.s.jobs, id)
	ids := slices.DeleteFunc(slices.Clone(t.s.lanes[j.Lane]), func(x int64) bool { return x == id })
	if len(ids) == 0 {
		del(t, t.s.lanes, j.Lane)
	} else {
		put(t, t.s.lanes, j.Lane, ids)
	}
	return nil
}

// RunJobs runs the handlers for due jobs until ctx is cancelled, like
// storage.DB.RunJobs.
func (s *Store) RunJobs(ctx context.Context, handlers map[string]bridge.JobHandler, opts jobs.Options) error {
	return jobs.Run(ctx, queue{s}, s.wake, handlers, opts)
}

// queue is the runner's view of the store's jobs.
type queue struct{ s *Store }

func (q queue) Claim(_ context.Context, owner string, now, until time.Time, limit int) ([]bridge.Job, error) {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []bridge.Job
	for _, ids := range s.lanes {
		busy := false
		for _, id := range ids {
			if s.jobs[id].lockedUntil.After(now) {
				busy = true
				break
			}
		}
		head := s.jobs[ids[0]]
		if busy || head.RunAt.After(now) {
			continue
		}
		due = append(due, head.Job)
	}
	slices.SortFunc(due, func(a, b bridge.Job) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
	due = due[:min(limit, len(due))]
	for i, j := range due {
		r := s.jobs[j.ID]
		r.lockedBy, r.lockedUntil = owner, until
		s.jobs[j.ID] = r
		due[i].Payload = rawClone(j.Payload)
	}
	return due, nil
}

func (q queue) Complete(_ context.Context, owner string, id int64) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[id].lockedBy != owner {
		return nil // completed in the handler's transaction, or taken over
	}
	t := &tx{s: s}
	return t.CompleteJob(context.Background(), id)
}

func (q queue) Retry(_ context.Context, owner string, id int64, runAt time.Time, attempts int, lastErr string) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.lockedBy != owner {
		return nil
	}
	j.RunAt, j.Attempts, j.lastError = norm(runAt), attempts, lastErr
	j.lockedBy, j.lockedUntil = "", time.Time{}
	s.jobs[id] = j
	return nil
}

func (q queue) Extend(_ context.Context, owner string, until time.Time) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, j := range s.jobs {
		if j.lockedBy == owner {
			j.lockedUntil = until
			s.jobs[id] = j
		}
	}
	return nil
}

// PendingJobs lists the jobs whose lane starts with lanePrefix, in id order.
func (s *Store) PendingJobs(_ context.Context, lanePrefix string) ([]bridge.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bridge.Job
	for _, j := range s.jobs {
		if strings.HasPrefix(j.Lane, lanePrefix) {
			j.Payload = rawClone(j.Payload)
			out = append(out, j.Job)
		}
	}
	slices.SortFunc(out, func(a, b bridge.Job) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Token reads a cached access token; bridge.ErrNotFound if none was stored.
func (s *Store) Token(_ context.Context, key string) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[key]
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: token %s", bridge.ErrNotFound, key)
	}
	return tok.value, tok.expires, nil
}

// PutToken stores an access token until expires.
func (s *Store) PutToken(_ context.Context, key, value string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[key] = token{value: value, expires: norm(expires)}
	return nil
}

// PutMedia stores an attachment and returns its new ref.
func (s *Store) PutMedia(_ context.Context, company, contentType, fileName string, data []byte) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ref := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[ref] = media{company: company, contentType: contentType, fileName: fileName, data: slices.Clone(data)}
	return ref, nil
}

// Media reads an attachment; bridge.ErrNotFound if there is none.
func (s *Store) Media(_ context.Context, ref string) (contentType, fileName string, data []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[ref]
	if !ok {
		return "", "", nil, fmt.Errorf("%w: media %s", bridge.ErrNotFound, ref)
	}
	return m.contentType, m.fileName, slices.Clone(m.data), nil
}
