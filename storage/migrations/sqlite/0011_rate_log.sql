-- +goose Up
-- Nothing on SQLite: one process keeps its rate limits in memory. The number
-- matches PostgreSQL's 0011 (shared sliding windows), so both schemas share versions.
SELECT 1;

-- +goose Down
SELECT 1;
