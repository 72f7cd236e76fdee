// Package metrics owns the service's Prometheus families: what an operator sees
// on /metrics (served on MULTILINE_METRICS_ADDR, never on the public listener).
//
// The families that describe stored state (messages by direction, kind and
// status; queue depth and the oldest job's age; dead jobs) are read from the
// database at scrape time by a Collector (see NewStateCollector), so every
// replica reports the same truth. The families that describe events in this
// process (job runs, rate-limit waits, API answers, transactions) are counters
// and histograms that the packages doing the work update through the functions
// below. Label values never carry a secret, an id of a person, or a URL.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry holds every family of the service, and the Go runtime's and the
// process's metrics. cmd/multiline serves it.
var Registry = prometheus.NewRegistry()

var (
	jobRuns = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "multiline_job_run_seconds",
		Help:    "Time a job handler ran, by job kind and outcome (done, retry, deferred, dead).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	}, []string{"kind", "outcome"})
	jobStartDelay = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "multiline_job_start_delay_seconds",
		Help:    "Time from a job being due (enqueued, or the time it was rescheduled for) to its handler starting, by kind: the queue's latency.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
	}, []string{"kind"})
	jobClaims = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "multiline_job_claim_seconds",
		Help:    "Time of one claim of due jobs (a database transaction of the runner).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	})
	jobRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_job_retries_total",
		Help: "Failed job attempts that will be retried with backoff, by kind.",
	}, []string{"kind"})
	jobWaits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_job_rate_limit_waits_total",
		Help: "Jobs deferred to wait for a rate limit (Teams 429, WeChat frequency limits, our own limiter), by kind.",
	}, []string{"kind"})
	jobsDied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_jobs_dead_total",
		Help: "Jobs that ended dead in this process (a permanent error or their limits reached), by kind.",
	}, []string{"kind"})
	wechatErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_wechat_api_errors_total",
		Help: "WeChat API calls answered with a non-zero errcode (or a transport error, errcode \"transport\"), by API and errcode.",
	}, []string{"api", "errcode"})
	httpResponses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_http_client_responses_total",
		Help: "Responses of outside services (service: botconnector, graph, wechat, entra) by HTTP status (\"error\" when none came).",
	}, []string{"service", "status"})
	callbackToPost = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "multiline_callback_to_teams_post_seconds",
		Help:    "Time from storing a consumer's message (the WeChat callback or pull) to posting it in Teams.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
	})
	txTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "multiline_db_transaction_seconds",
		Help:    "Database transaction time, by outcome (commit, rollback).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	}, []string{"outcome"})
	txConflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_db_conflicts_total",
		Help: "Transactions that hit a deadlock or a serialization failure (and were retried), by kind.",
	}, []string{"kind"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		jobRuns, jobStartDelay, jobClaims, jobRetries, jobWaits, jobsDied, wechatErrors, httpResponses, callbackToPost, txTime, txConflicts,
	)
	// The series an alert looks at exist from the start, at 0: a rate over a
	// series that appears only with its first event misses that event.
	for _, k := range []string{"deadlock", "serialization"} {
		txConflicts.WithLabelValues(k)
	}
	for _, o := range []string{"commit", "rollback"} {
		txTime.WithLabelValues(o)
	}
}

// KnownJobKinds creates the per-kind series of the job families at 0 (retries,
// rate-limit waits, dead jobs), so that they are there before the first event.
func KnownJobKinds(kinds ...string) {
	for _, k := range kinds {
		jobRetries.WithLabelValues(k)
		jobWaits.WithLabelValues(k)
		jobsDied.WithLabelValues(k)
	}
}

// JobStarted records how long a job of kind waited, from being due to its
// handler starting.
func JobStarted(kind string, delay time.Duration) {
	jobStartDelay.WithLabelValues(kind).Observe(max(delay, 0).Seconds())
}

// JobsClaimed records the time one claim of due jobs took.
func JobsClaimed(took time.Duration) { jobClaims.Observe(took.Seconds()) }

// Job outcomes, as JobRan records them.
const (
	JobDone     = "done"
	JobRetry    = "retry"
	JobDeferred = "deferred" // waits for a rate limit or an unreachable employee
	JobDead     = "dead"
)

// JobRan records one run of a job handler of kind and what became of the job.
func JobRan(kind, outcome string, took time.Duration) {
	jobRuns.WithLabelValues(kind, outcome).Observe(took.Seconds())
	switch outcome {
	case JobRetry:
		jobRetries.WithLabelValues(kind).Inc()
	case JobDeferred:
		jobWaits.WithLabelValues(kind).Inc()
	case JobDead:
		jobsDied.WithLabelValues(kind).Inc()
	}
	if isJournal(kind) {
		journalRan(outcome)
	}
}

// WeChatError records a WeChat API answer with a non-zero errcode; api is the
// path without the base and query (e.g. "kf/send_msg").
func WeChatError(api string, errcode int) {
	wechatErrors.WithLabelValues(api, strconv.Itoa(errcode)).Inc()
}

// WeChatTransportError records a WeChat API call that got no answer.
func WeChatTransportError(api string) { wechatErrors.WithLabelValues(api, "transport").Inc() }

// Response records an outside service's HTTP answer; status 0 means none came.
func Response(service string, status int) {
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	httpResponses.WithLabelValues(service, s).Inc()
}

// PostedToTeams records how long a consumer's message took from being stored to
// being posted in Teams.
func PostedToTeams(since time.Duration) { callbackToPost.Observe(since.Seconds()) }

// Transaction records one database transaction.
func Transaction(took time.Duration, committed bool) {
	o := "commit"
	if !committed {
		o = "rollback"
	}
	txTime.WithLabelValues(o).Observe(took.Seconds())
}

// Conflict records a deadlock ("deadlock") or serialization failure
// ("serialization") that a transaction hit.
func Conflict(kind string) { txConflicts.WithLabelValues(kind).Inc() }
