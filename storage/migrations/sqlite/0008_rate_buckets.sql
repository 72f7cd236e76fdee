-- +goose Up
-- Nothing on SQLite: one process keeps its rate limits in memory. The number
-- matches PostgreSQL's 0007 (shared GCRA buckets), so both schemas share versions.
SELECT 1;

-- +goose Down
SELECT 1;
