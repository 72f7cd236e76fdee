-- +goose Up
-- A dead job ended without success (a permanent error, or its kind's attempt or age
-- limit reached). It stays, with its attempts and last error, for an operator to
-- retry or discard, but it no longer holds up its lane: dead_at is when it died
-- (unix microseconds), 0 while it is alive.
ALTER TABLE jobs ADD COLUMN dead_at BIGINT NOT NULL DEFAULT 0;

-- The runner's queries only look at live jobs; partial indexes keep dead ones out
-- of their way, however many pile up.
DROP INDEX jobs_lane;
DROP INDEX jobs_lane_locked;
DROP INDEX jobs_due;
CREATE INDEX jobs_lane ON jobs (lane, id) WHERE dead_at = 0;
CREATE INDEX jobs_lane_locked ON jobs (lane, locked_until) WHERE dead_at = 0;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE dead_at = 0;
-- The operators' list of dead jobs, newest first.
CREATE INDEX jobs_dead ON jobs (id) WHERE dead_at > 0;

-- +goose Down
DROP INDEX jobs_dead;
DROP INDEX jobs_due;
DROP INDEX jobs_lane_locked;
DROP INDEX jobs_lane;
DELETE FROM jobs WHERE dead_at > 0;
ALTER TABLE jobs DROP COLUMN dead_at;
CREATE INDEX jobs_lane ON jobs (lane, id);
CREATE INDEX jobs_lane_locked ON jobs (lane, locked_until);
CREATE INDEX jobs_due ON jobs (run_at, id);
