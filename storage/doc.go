// Package storage is the bridge's database: SQLite (the default, pure Go through
// modernc.org/sqlite) or PostgreSQL (through pgx), one schema and one set of SQL
// statements for both, and the durable job queue the bridge's side effects run on.
//
// # Backends
//
// Open takes "sqlite:PATH" or "postgres://…". Both go through database/sql: the
// SQL is shared (placeholders are $1-style, which both drivers accept; times are
// BIGINT unix microseconds; JSON is TEXT), so a behaviour tested on one is the
// behaviour of the other. For PostgreSQL, pgx's database/sql driver (pgx/v5/stdlib)
// was chosen over pgxpool for that reason; it keeps pgx's per-connection statement
// cache, and the pool holds PostgresMaxConns connections. SQLite runs with WAL,
// synchronous=NORMAL, a busy timeout, foreign keys, immediate write transactions,
// and one connection, the settings measured fastest (the throughput facts measured on this kind of machine before the project started).
// Prepared statements are cached per DB, since modernc's driver has none.
//
// # Migrations
//
// migrations/sqlite and migrations/postgres hold numbered SQL files embedded in
// the binary, applied by Migrate with pressly/goose's Provider (an fs.FS, no
// global state; on PostgreSQL an advisory lock keeps two replicas from migrating at
// once). goose fits: plain SQL files per dialect, a version table, nothing to run
// outside the binary. Open and Migrate refuse a database whose version is newer
// than the newest migration here (SchemaTooNewError), since an older binary could
// misread or damage its data.
//
// # Jobs: our own transactional outbox, not River
//
// Side effects (WeChat sends, Teams deliveries, timers, pulls) are rows of the jobs
// table, inserted by Tx.Enqueue in the same transaction as the state change that
// caused them, so a crash loses none and a rolled-back change sends nothing.
//
// We do not use River. On this machine River was measured at 650 jobs/s on SQLite
// against 10,900 plain transactions/s, costing about 1–1.5 ms of CPU per job; and
// its open-source edition has no per-key ordering (sequences are River Pro), while
// a thread's messages must reach WeChat in order. The queue here is small:
//
//   - Lanes. Every job has a lane ("send:<thread>", "teams:<employee>",
//     "timer:<thread>:24h"…). Only the oldest job of a lane may run, and only while
//     no other job of the lane is leased; lanes run in parallel. That is the
//     per-thread and per-employee order.
//   - Timers are jobs with a future run_at on their own lane; SetTimer replaces the
//     lane's pending job. CancelLanes and WakeLane act on pending (unclaimed) jobs.
//   - A transaction's new jobs wait in its outbox and are written in one
//     statement when it ends (outbox.go); SetTimer and CancelLanes delete a
//     lane's rows once per transaction, so a page that reschedules a thread's
//     timers for each of its messages writes them once. A job its handler
//     deleted in its own transaction (CompleteJob) is not deleted again by
//     the runner.
//   - RunJobs (package jobs) claims due heads of lanes in batches with a lease,
//     runs the handlers on pools of workers (one pool per side: a kind runs only
//     on its pool's workers, so WeChat work never waits for Teams' and the pull
//     has workers of its own; see package jobs), renews the leases of running
//     jobs, and then deletes the job, or reschedules it: after a
//     *bridge.RetryAfterError's wait (the worker is free meanwhile), or with
//     exponential backoff and jitter. A dead runner's jobs become
//     claimable when its lease runs out, so a replica that dies mid-job loses
//     nothing (the job runs again: handlers are idempotent, sends by message ID).
//   - Bounded lives. A failing job ends dead at once on a permanent error
//     (bridge.ErrPermanent), or when its kind's bridge.JobLimits are reached:
//     MaxAttempts failed attempts (a RetryAfterError is a deferral and does not
//     count) or MaxAge since it was enqueued. The runner hands it to
//     Options.OnDead (the service's JobDied, which settles the outcome and calls
//     Tx.BuryJob in one transaction), or buries it itself. A dead job keeps its
//     row (dead_at > 0) with attempts and last error, but the claim query and the
//     lane operations ignore it, so its lane moves on. Operators list, retry and
//     discard dead jobs (Jobs, RetryJob, DiscardJob; `multiline admin jobs`).
//     Last errors are stored through jobs.RedactError, so a credential that slips
//     into an error's text does not reach the operators' views.
//   - On PostgreSQL, claims take a transaction-scoped advisory lock and
//     FOR UPDATE SKIP LOCKED, so several replicas share the queue and a lane never
//     runs twice at once.
//   - Wake (after a commit that enqueued) starts local runners at once instead of
//     at the next poll. On PostgreSQL a transaction that enqueued (or changed a
//     thread) also sends a NOTIFY as its last statement, which PostgreSQL
//     delivers at commit to every replica's listener (listen.go, one dedicated
//     pgx connection that reconnects with backoff): other replicas' runners,
//     and the tab streams of the thread's employees (WatchEmployee), wake at
//     once. Polling stays as the fallback, every PostgresPollInterval (5 s);
//     jobs a runner rescheduled are checked for every RecheckInterval.
//
// # Locks: one order, kept by every transaction
//
// On PostgreSQL a row a transaction locks stays locked until the transaction
// ends, and two transactions that take two locks in opposite orders deadlock.
// So every transaction takes its locks in this order:
//
//  1. companies (written by the admin's policy changes, alone in their
//     transaction);
//  2. inbound message ids (MarkInbound inserts one), then consumers
//     (SaveConsumer);
//  3. threads: LoadThread locks the row (SELECT … FOR UPDATE), SaveThread writes
//     it, and what belongs to a thread is written after it: its participants,
//     messages, and audit records;
//  4. employees: written (SaveEmployee), never locked by a read;
//     then the company's archive chain: Tx.Archive on archive.CompanyThread
//     takes a transaction-scoped advisory lock (PostgreSQL) for its head, and
//     the transactions that hold it (admin changes, the daily anchor) take no
//     thread lock after it; a thread's own chain needs no lock of its own, the
//     thread's row lock serialises its appends (a new thread is invisible to
//     others until it commits), and (company, thread, seq) is unique anyway;
//  5. jobs, last: Enqueue inserts; SetTimer, CancelLanes and WakeLane change the
//     pending jobs of lanes that belong to a thread or an employee the
//     transaction holds already; CompleteJob and BuryJob end the transaction's own
//     job as its last statement.
//
// What keeps it:
//
//   - Employee reads take no lock (Employee, EmployeeByTeamsUser, EmployeeByAAD,
//     EmployeeByScene, Employees, EmployeesByID). They did, and that was the
//     deadlock of the burst: a delivery read (so locked) its employee, then
//     locked the thread; a page locked threads, then read employees to route new
//     consumers and to name them in notices; a tab reply read the employee, then
//     locked the thread. A transaction that writes an employee it read checks
//     the row's version and is run again if another changed it meanwhile, so
//     that a new focus and an unreachable mark do not overwrite each other. The
//     transactions that write employees lock no thread after it: the bot's
//     focus, unreachable, conversation and interaction updates (employee, then
//     the employee's lane of jobs), installs, and disabling an employee, which
//     leaves their threads first (threads, then the employee, then jobs).
//   - Routing (NextPoolEmployee) locks nothing: the pool's turn is a sequence
//     on PostgreSQL (nextval neither waits nor holds a lock until commit) and
//     the employee is only read. A page that routes a thousand new consumers
//     holds consumer and thread rows only. (On SQLite the turn is a counter row:
//     the write transaction holds the database anyway.)
//   - No foreign key points at employees or consumers, so writing a thread or a
//     participant takes no hidden lock on them. Threads, messages and audit rows
//     reference what the transaction holds already; the key-share lock a row
//     takes on its company does not conflict with a company's update.
//   - Rows of one table that a statement sequence writes together go in key
//     order (a card's messages); cursors are written by the pull lane only,
//     which runs one page of an account at a time; tokens and media outside any
//     transaction.
//   - The runner's claim locks only jobs, passes over rows locked by others (SKIP
//     LOCKED) and never waits for them; its advisory lock is taken by claims
//     alone. Complete, Retry, Bury and Extend are single statements on jobs the
//     runner holds.
//
// What no order can rule out is a transaction that locks several threads in
// an order it cannot choose: a page locks them in the order WeChat delivered
// the messages, disabling an employee in the order of their threads. Two such
// transactions on the same threads can still deadlock; the pages of one
// account cannot (their pull lane runs one at a time), so it takes two
// accounts' pages with the same consumers, or an admin disabling an employee
// during a page. PostgreSQL then ends one of them, and Tx runs that one again
// (up to maxTxRuns times, counted in multiline_db_conflicts_total); it does the
// same for serialization failures. TestPostgresNoDeadlocks runs pages, receive
// jobs, tab replies and deliveries at once on a database of its own and checks
// that pg_stat_database.deadlocks does not move.
//
// On SQLite a write transaction holds the whole database from BEGIN IMMEDIATE,
// so none of this can deadlock; the order is the same, with one set of SQL.
//
// # Throughput
//
// BenchmarkInbound (go test -run '^$' -bench Inbound -benchtime 3000x ./storage)
// measures the storage work of one inbound message: lock and read the thread,
// insert the message, save the thread, enqueue one job; 4 producers. On the
// shared 2-core machine (load average 5 during the run) it gave, in msgs/s:
// memstore 78k (1 per tx) and 154k (100 per tx); SQLite 1,600–1,900 and 7,800;
// PostgreSQL 770 and 1,800. Each backend also reports mem_ratio, its rate over
// memstore's on the same work measured right after it, since absolute figures on
// these machines move with the neighbours' load.
//
// Package memstore is the same Store in memory, with the same job semantics, for
// fast tests and as the benchmark baseline; package storetest is the suite all
// three backends pass.
package storage
