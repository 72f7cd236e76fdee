// Package jobs is the job runner shared by the SQLite/PostgreSQL store and the
// in-memory store: it claims due head-of-lane jobs from a Queue, runs their
// handlers on pools of workers, and reschedules failures.
//
// The queue decides which jobs are claimable (only the oldest job of a lane, and
// only when no job of that lane is held by a live lease); this package decides
// when to ask, how many at a time, and what a handler's result means.
//
// # Worker pools
//
// Every job kind runs on the workers of one pool (Options.Pools; DefaultPools
// by default), and a pool claims only its own kinds, up to its free workers.
// So the two sides never wait for each other's workers: however many Teams
// deliveries are due or slow, a send to a consumer, a thread timer or a pull
// finds a worker of its own pool. Within a pool, jobs run first due first.
//
// Why pools and not priorities or one shared FIFO: with one set of workers
// claimed first in, first out, a burst that enqueues thousands of Teams
// deliveries (paced at Teams' limits) ahead of the consumers' welcomes made the
// welcomes wait for the deliveries' pace, and a new consumer message was not
// pulled for minutes. Priorities would still let a long-running low-priority
// job hold the workers it had claimed; fixed per-pool capacity cannot be taken
// by another pool's work, and a pool's size can follow its outside service's
// limit (WeCom's ~166 calls/s per API, Teams' 50 requests/s per app and
// tenant). Waiting for a rate limit costs no worker either: a handler that must
// wait returns a *bridge.RetryAfterError with the limiter's "not before" time,
// and the job is rescheduled for then (not counted as an attempt), so its
// worker runs the next due job, of another lane, at once.
//
// The pull (wechat.pull) has a pool of its own ("pull"), so a new callback's
// pull waits neither for the backlog it queued before, nor for the sends it
// will cause, nor for Teams: a pull lane runs one pull at a time, and the pool
// keeps workers for it that nothing else can take. What consumers sent is
// applied on the "inbound" pool (wechat.apply_pulled, wechat.receive).
//
// A kind goes to the pool that names it exactly, else to the pool with the
// longest matching prefix ("teams.*"), else to the "*" pool; a runner without a
// "*" pool leaves other kinds to other runners (a replica may run one side
// only). Options.Workers without Pools is one pool for every kind, the runner
// as it was before pools.
//
// # Claims
//
// One claim serves every pool that has free workers and may have due jobs:
// Queue.Claim takes one Want per such pool (its kinds and its free workers)
// and answers them all in one transaction, each with one statement over the due
// jobs of the pool's kinds (storage names the kinds literally and indexes
// (kind, run_at), so a pool with nothing due costs a fraction of a
// millisecond). A pool is asked again when its own jobs end done or dead
// (their lanes may have their next jobs due: the claim asks for that many, and
// finds them first, since they have waited longest), and with all its free
// workers after a wake-up or a poll (how rescheduled jobs are found when they
// are due); but a pool whose last claim came back short waits shortClaimGap (50 ms, or 20 times that claim's duration if
// longer) before a wake-up makes it ask again, since the service wakes the
// runner after every commit and an empty claim still reads every due job of
// its kinds. Handlers that end together are booked before the next claim, so
// one claim serves them all.
//
// A job rescheduled for a time ("not before T", a backoff) is found by the poll
// after T. The runner does not set an alarm for T: retried at exactly T, a
// Teams delivery could be deferred by the bot's limiter again and again.
//
// Every guarantee of a single pool holds per job: one job per lane at a time
// and lanes in order (the queue's rule, whatever pool asks), leases renewed for
// running jobs, dead jobs after their limits, and on shutdown the handlers in
// flight finish before Run returns.
//
// # Metrics
//
// Every handler run is recorded with metrics.JobRan: its kind, its time, and
// its outcome (done; retry, also for a job released by a shutdown; deferred,
// a *bridge.RetryAfterError; dead).
package jobs
