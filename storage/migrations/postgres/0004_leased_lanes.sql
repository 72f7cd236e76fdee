-- +goose Up
-- Leased jobs only (a handful: one per running handler), for the claim's "is
-- this lane leased" probe, which names locked_until > 0 to match it. The index
-- on (lane, locked_until) it replaces held every live job, and PostgreSQL's
-- planner took it for the claim's other probe ("an earlier job in this
-- lane?"), reading a whole lane per candidate instead of one step of jobs_lane.
DROP INDEX jobs_lane_locked;
CREATE INDEX jobs_lane_leased ON jobs (lane, locked_until) WHERE locked_until > 0 AND dead_at = 0;

-- +goose Down
DROP INDEX jobs_lane_leased;
CREATE INDEX jobs_lane_locked ON jobs (lane, locked_until) WHERE dead_at = 0;
