-- +goose Up
-- Employee rows are read without a row lock (see storage/doc.go, "Locks"): a
-- transaction that changes an employee it read checks that nobody changed the
-- row in between, by its version, and is run again if somebody did.
ALTER TABLE employees ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- The pool's round robin: a ticket per routing, drawn without a lock and
-- without waiting (a sequence is not transactional), so that a page of new
-- consumers locks no employee row and no counter row until it commits.
CREATE SEQUENCE route_seq;

-- The runner claims per pool of job kinds (package jobs): each pool's claim
-- reads the due jobs of its own kinds.
CREATE INDEX jobs_kind_due ON jobs (kind, run_at, id) WHERE dead_at = 0;

-- +goose Down
DROP INDEX jobs_kind_due;
DROP SEQUENCE route_seq;
ALTER TABLE employees DROP COLUMN version;
