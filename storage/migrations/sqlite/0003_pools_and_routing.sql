-- +goose Up
-- Employee rows carry a version: a transaction that changes an employee it read
-- checks it (see storage/doc.go, "Locks"). On SQLite the write transaction holds
-- the database, so the check always passes; the column keeps one schema for both.
ALTER TABLE employees ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- The pool's round robin: one counter per company. SQLite's write transaction
-- holds the whole database anyway, so a counter row costs no extra waiting.
CREATE TABLE route_counters (
    company TEXT PRIMARY KEY,
    n       INTEGER NOT NULL
);

-- The runner claims per pool of job kinds (package jobs): each pool's claim
-- reads the due jobs of its own kinds.
CREATE INDEX jobs_kind_due ON jobs (kind, run_at, id) WHERE dead_at = 0;

-- +goose Down
DROP INDEX jobs_kind_due;
DROP TABLE route_counters;
ALTER TABLE employees DROP COLUMN version;
