package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// SMTP journaling sends each closed conversation-day to the archive's mailbox
// by a durable job of one kind (bridge.JobJournal). Its runs are counted by
// what became of them, from the runner's own outcome (JobRan), so a delivery
// that failed and will be tried again is told apart from one that failed for
// good; how many conversation-days still wait, and since when, comes from the
// stored jobs at scrape time (the state collector), the same on every replica.

// Journal delivery outcomes, the values of the outcome label.
const (
	JournalSent    = "sent"    // the mailbox accepted it
	JournalRetried = "retried" // it failed and will be tried again
	JournalDead    = "dead"    // it failed for good (a 5xx refusal, or its limits reached)
)

var (
	journalDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "multiline_archive_journal_deliveries_total",
		Help: "Deliveries of conversation-days to the archive's journaling mailbox (SMTP) by this process, by outcome: sent, retried (failed, to be tried again) or dead (failed for good).",
	}, []string{"outcome"})
	descJournalPending = prometheus.NewDesc("multiline_archive_journal_pending",
		"Conversation-days waiting to be journaled: their delivery job is due, running, or waiting to retry (dead ones are in multiline_dead_jobs).",
		nil, nil)
	descJournalOldest = prometheus.NewDesc("multiline_archive_journal_oldest_pending_seconds",
		"Age of the oldest conversation-day waiting to be journaled, from its delivery job's creation (0 when none waits).",
		nil, nil)
)

// journalKind is the job kind of one journal delivery (JournalKind sets it).
var journalKind atomic.Pointer[string]

func init() {
	Registry.MustRegister(journalDeliveries)
	for _, o := range []string{JournalSent, JournalRetried, JournalDead} {
		journalDeliveries.WithLabelValues(o)
	}
}

// JournalKind names the job kind of one journal delivery (bridge.JobJournal:
// this package imports no domain package), so that JobRan counts its runs in
// multiline_archive_journal_deliveries_total and the state collector reports
// its waiting jobs. The service sets it at start-up.
func JournalKind(kind string) { journalKind.Store(&kind) }

// isJournal reports whether kind is the journal delivery's.
func isJournal(kind string) bool {
	k := journalKind.Load()
	return k != nil && *k == kind
}

// journalRan counts one run of a journal delivery by what became of it.
func journalRan(outcome string) {
	switch outcome {
	case JobDone:
		journalDeliveries.WithLabelValues(JournalSent).Inc()
	case JobRetry, JobDeferred:
		journalDeliveries.WithLabelValues(JournalRetried).Inc()
	case JobDead:
		journalDeliveries.WithLabelValues(JournalDead).Inc()
	}
}

// collectJournal reports the waiting journal deliveries among jobs (by kind).
func collectJournal(ch chan<- prometheus.Metric, jobs map[[1]string]JobState) {
	var j JobState
	if k := journalKind.Load(); k != nil {
		j = jobs[[1]string{label(*k)}]
	}
	ch <- prometheus.MustNewConstMetric(descJournalPending, prometheus.GaugeValue, float64(j.Due+j.Scheduled+j.Running))
	ch <- prometheus.MustNewConstMetric(descJournalOldest, prometheus.GaugeValue, max(j.OldestAge, 0).Seconds())
}
