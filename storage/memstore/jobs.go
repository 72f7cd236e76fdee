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
// order; pending means alive and not claimed by a runner. A dead job stays in
// s.jobs but leaves s.lanes, so nothing that works on lanes sees it.

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
	j.Created, j.LastError, j.Dead = norm(time.Now()), "", false
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

// HasJobs reports whether the lane has a live job; buried jobs leave their lane.
func (t *tx) HasJobs(_ context.Context, lane string) (bool, error) {
	return len(t.s.lanes[lane]) > 0, nil
}

func (t *tx) CancelLanes(_ context.Context, lanes ...string) error {
	if len(lanes) == 0 || slices.Contains(lanes, "") {
		return fmt.Errorf("cancel lanes %q: %w", lanes, jobs.ErrEmptyLane)
	}
	for _, lane := range lanes {
		t.deletePending(lane)
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
	if !j.Dead {
		t.leaveLane(j.Lane, id)
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

func (q queue) Claim(_ context.Context, owner string, now, until time.Time, wants []jobs.Want) ([]bridge.Job, error) {
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
	var out []bridge.Job
	taken := map[int64]bool{}
	for _, w := range wants {
		n := 0
		for _, j := range due {
			if n >= w.Limit {
				break
			}
			if taken[j.ID] || !w.Matches(j.Kind) {
				continue
			}
			taken[j.ID] = true
			n++
			r := s.jobs[j.ID]
			r.lockedBy, r.lockedUntil = owner, until
			s.jobs[j.ID] = r
			j.Payload = rawClone(j.Payload)
			out = append(out, j)
		}
	}
	return out, nil
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
	j.RunAt, j.Attempts, j.LastError = norm(runAt), attempts, jobs.RedactError(lastErr)
	j.lockedBy, j.lockedUntil = "", time.Time{}
	s.jobs[id] = j
	return nil
}

func (q queue) Bury(_ context.Context, owner string, id int64, attempts int, lastErr string) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.lockedBy != owner || j.Dead {
		return nil
	}
	t := &tx{s: s}
	return t.BuryJob(context.Background(), id, attempts, lastErr)
}

func (q queue) Extend(_ context.Context, owner string, ids []int64, until time.Time) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if j, ok := s.jobs[id]; ok && j.lockedBy == owner {
			j.lockedUntil = until
			s.jobs[id] = j
		}
	}
	return nil
}

// PendingJobs lists the live jobs whose lane starts with lanePrefix, in id order,
// like storage.DB.PendingJobs.
func (s *Store) PendingJobs(_ context.Context, lanePrefix string) ([]bridge.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bridge.Job
	for _, j := range s.jobs {
		if !j.Dead && strings.HasPrefix(j.Lane, lanePrefix) {
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

// BuryJob ends a job dead: it leaves its lane (so the lane's next job can run) but
// stays in the store, with its attempts and last error, for an operator.
func (t *tx) BuryJob(_ context.Context, id int64, attempts int, lastErr string) error {
	j, ok := t.s.jobs[id]
	if !ok {
		return fmt.Errorf("%w: job %d", bridge.ErrNotFound, id)
	}
	if !j.Dead {
		t.leaveLane(j.Lane, id)
	}
	j.Dead, j.Attempts, j.LastError = true, attempts, jobs.RedactError(lastErr)
	j.lockedBy, j.lockedUntil = "", time.Time{}
	put(t, t.s.jobs, id, j)
	return nil
}

// leaveLane takes id out of its lane's list.
func (t *tx) leaveLane(lane string, id int64) {
	ids := slices.DeleteFunc(slices.Clone(t.s.lanes[lane]), func(x int64) bool { return x == id })
	if len(ids) == 0 {
		del(t, t.s.lanes, lane)
	} else {
		put(t, t.s.lanes, lane, ids)
	}
}

// Jobs lists jobs for an operator, newest first, like storage.DB.Jobs.
func (s *Store) Jobs(_ context.Context, f jobs.Filter) ([]bridge.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bridge.Job
	for _, j := range s.jobs {
		if j.Dead || !f.Dead {
			j.Payload = rawClone(j.Payload)
			out = append(out, j.Job)
		}
	}
	slices.SortFunc(out, func(a, b bridge.Job) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(len(out), f.EffectiveLimit())], nil
}

// RetryJob brings a dead job back for a new life, like storage.DB.RetryJob: it
// rejoins its lane in id order, due now, with no attempts and its age counted
// from now.
func (s *Store) RetryJob(_ context.Context, id int64) error {
	s.mu.Lock()
	j, err := s.deadJob("retry", id)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	j.Dead, j.Attempts, j.RunAt, j.Created = false, 0, time.Time{}, norm(time.Now())
	s.jobs[id] = j
	ids := s.lanes[j.Lane]
	at, _ := slices.BinarySearch(ids, id)
	s.lanes[j.Lane] = slices.Insert(slices.Clone(ids), at, id)
	s.mu.Unlock()
	s.Wake()
	return nil
}

// DiscardJob deletes a dead job, like storage.DB.DiscardJob.
func (s *Store) DiscardJob(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.deadJob("discard", id); err != nil {
		return err
	}
	delete(s.jobs, id)
	return nil
}

// deadJob returns dead job id, or the error RetryJob and DiscardJob give for it.
func (s *Store) deadJob(verb string, id int64) (job, error) {
	j, ok := s.jobs[id]
	switch {
	case !ok:
		return job{}, fmt.Errorf("%s job %d: %w", verb, id, bridge.ErrNotFound)
	case !j.Dead:
		return job{}, fmt.Errorf("%s job %d: %w", verb, id, jobs.ErrJobAlive)
	}
	return j, nil
}
