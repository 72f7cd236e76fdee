package metrics

import (
	"context"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is what the database holds, as the state collector reports it. The
// values are totals over every company and replica: they come from the shared
// database, not from this process.
type State struct {
	Messages []MessageCount
	Outcomes []OutcomeCount
	Jobs     []JobState
}

// MessageCount is how many stored messages have one direction, kind and status.
type MessageCount struct {
	// Direction is inbound (a consumer wrote), outbound (to the consumer: an
	// employee's message or a notice) or internal (a note shown only in Teams).
	Direction string
	// Kind is text, image, voice, video, file or notice.
	Kind string
	// Status is the message's status (received, queued, sending, sent, failed,
	// not_queued, …).
	Status string
	N      int64
}

// OutcomeCount is how many employee messages the thread policy gave one outcome.
type OutcomeCount struct {
	// Outcome is sent, sending, queued, not_queued, failed or blocked.
	Outcome string
	// Reason says why a message was not queued, failed or was blocked (queue_full,
	// contact_left, window_closed, …); empty otherwise.
	Reason string
	N      int64
}

// JobState describes the live and dead jobs of one kind.
type JobState struct {
	Kind string
	// Due jobs may run now but no runner holds them; Running ones are held by a
	// runner (leased); Scheduled ones wait for their time (timers, backoff,
	// rate-limit waits). Dead ones ended without success and wait for an operator.
	Due, Scheduled, Running, Dead int64
	// OldestAge is the age of the kind's oldest live job (0 when there is none).
	// Timers live up to 48 h by design.
	OldestAge time.Duration
	// OldestDueWait is how long the kind's oldest claimable job (due, the first
	// of its lane, its lane held by no runner) has waited (0 when none waits).
	OldestDueWait time.Duration
}

// StateSource reads State from the database. Snapshot must be cheap (a few
// grouped queries) and honour ctx.
type StateSource interface {
	Snapshot(ctx context.Context) (State, error)
}

// StateOptions tune NewStateCollector.
type StateOptions struct {
	// Kinds are the job kinds reported even when they have no job (at 0), so
	// that an alert on a kind has a series to look at.
	Kinds []string
	// Outcomes are the policy outcomes reported even when no message has them.
	Outcomes []string
	// Timeout bounds one Snapshot (default 5 s).
	Timeout time.Duration
	// MaxAge is how long a snapshot answers scrapes before it is read again
	// (default 5 s): several Prometheus servers scraping often cost one read.
	MaxAge time.Duration
	// OnError is told when a snapshot fails (default: nothing).
	OnError func(error)
}

var (
	descMessages = prometheus.NewDesc("multiline_messages",
		"Stored messages by direction (inbound from a consumer, outbound to a consumer, internal: shown in Teams only), kind (text, image, voice, video, file, notice) and status.",
		[]string{"direction", "kind", "status"}, nil)
	descOutcomes = prometheus.NewDesc("multiline_policy_outcomes",
		"Employee messages by the thread policy's outcome (sent, sending, queued, not_queued, failed, blocked) and the reason for not_queued, failed and blocked.",
		[]string{"outcome", "reason"}, nil)
	descDepth = prometheus.NewDesc("multiline_job_queue_depth",
		"Live jobs by kind and state: due (their time has come; they run in their lane's order as workers free up), running (held by a runner) and scheduled (waiting for their time: timers, backoff, rate limits).",
		[]string{"kind", "state"}, nil)
	descOldest = prometheus.NewDesc("multiline_job_oldest_age_seconds",
		"Age of the oldest live job, by kind (0 when there is none). Timer jobs live up to 48 h by design.",
		[]string{"kind"}, nil)
	descDueWait = prometheus.NewDesc("multiline_job_oldest_due_wait_seconds",
		"How long the oldest claimable job (due, first of its lane, held by no runner) has waited to be claimed, by kind (0 when none waits).",
		[]string{"kind"}, nil)
	descDead = prometheus.NewDesc("multiline_dead_jobs",
		"Dead jobs kept for an operator (multiline admin jobs --dead), by kind.",
		[]string{"kind"}, nil)
	descUp = prometheus.NewDesc("multiline_state_up",
		"1 when the last read of the stored state (messages, jobs) succeeded, 0 when it failed.", nil, nil)
	descQuery = prometheus.NewDesc("multiline_state_query_seconds",
		"Time the last read of the stored state took.", nil, nil)
)

// NewStateCollector reports src's State at scrape time.
func NewStateCollector(src StateSource, o StateOptions) prometheus.Collector {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 5 * time.Second
	}
	return &stateCollector{src: src, o: o}
}

type stateCollector struct {
	src StateSource
	o   StateOptions

	mu   sync.Mutex
	at   time.Time // when last was read (zero: never)
	last State
	err  error
	took time.Duration
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descOutcomes, descDepth, descOldest, descDueWait, descDead, descUp, descQuery, descJournalPending, descJournalOldest} {
		ch <- d
	}
}

// snapshot returns a State no older than MaxAge, reading one if needed. Scrapes
// wait for each other here, so one read serves them all.
func (c *stateCollector) snapshot() (State, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.o.MaxAge {
		return c.last, c.took, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	began := time.Now()
	s, err := c.src.Snapshot(ctx)
	c.at, c.last, c.err, c.took = time.Now(), s, err, time.Since(began)
	if err != nil && c.o.OnError != nil {
		c.o.OnError(err)
	}
	return c.last, c.took, c.err
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s, took, err := c.snapshot()
	ch <- prometheus.MustNewConstMetric(descQuery, prometheus.GaugeValue, took.Seconds())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)

	// Label values come from the database: anything unexpected is folded into
	// "other", and series that fold together are summed (a registry refuses two
	// series with the same labels).
	msgs := map[[3]string]int64{}
	for _, m := range s.Messages {
		msgs[[3]string{label(m.Direction), label(m.Kind), label(m.Status)}] += m.N
	}
	for _, k := range sortedKeys(msgs) {
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(msgs[k]), k[0], k[1], k[2])
	}

	outcomes := map[[2]string]int64{}
	seen := map[string]bool{}
	for _, o := range s.Outcomes {
		reason := ""
		if o.Reason != "" {
			reason = label(o.Reason)
		}
		outcomes[[2]string{label(o.Outcome), reason}] += o.N
		seen[label(o.Outcome)] = true
	}
	for _, o := range c.o.Outcomes {
		if !seen[o] {
			outcomes[[2]string{o, ""}] += 0
		}
	}
	for _, k := range sortedKeys(outcomes) {
		ch <- prometheus.MustNewConstMetric(descOutcomes, prometheus.GaugeValue, float64(outcomes[k]), k[0], k[1])
	}

	jobs := map[[1]string]JobState{}
	for _, k := range c.o.Kinds {
		jobs[[1]string{label(k)}] = JobState{}
	}
	for _, j := range s.Jobs {
		k := [1]string{label(j.Kind)}
		a := jobs[k]
		a.Due += j.Due
		a.Scheduled += j.Scheduled
		a.Running += j.Running
		a.Dead += j.Dead
		a.OldestAge = max(a.OldestAge, j.OldestAge)
		a.OldestDueWait = max(a.OldestDueWait, j.OldestDueWait)
		jobs[k] = a
	}
	for _, k := range sortedKeys(jobs) {
		j, kind := jobs[k], k[0]
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(j.Due), kind, "due")
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(j.Running), kind, "running")
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(j.Scheduled), kind, "scheduled")
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, max(j.OldestAge, 0).Seconds(), kind)
		ch <- prometheus.MustNewConstMetric(descDueWait, prometheus.GaugeValue, max(j.OldestDueWait, 0).Seconds(), kind)
		ch <- prometheus.MustNewConstMetric(descDead, prometheus.GaugeValue, float64(j.Dead), kind)
	}
	collectJournal(ch, jobs)
}

// labelRE is what a label value read from the database may look like.
var labelRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,48}$`)

func label(v string) string {
	if labelRE.MatchString(v) {
		return v
	}
	return "other"
}

func sortedKeys[K [1]string | [2]string | [3]string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		for n := range len(a) {
			if a[n] != b[n] {
				return a[n] < b[n]
			}
		}
		return false
	})
	return keys
}
