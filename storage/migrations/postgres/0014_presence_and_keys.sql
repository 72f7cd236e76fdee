-- +goose Up
-- Which employees have the MultiLine tab open, for every replica to see
-- (teamsapp's presence): a lease per employee and replica that has a
-- live-update stream of theirs open, renewed by that replica while a stream
-- lasts, deleted when its last one closes, and worth nothing once expired
-- (expires_at, unix microseconds), so that a replica that dies leaves leases
-- that run out by themselves. The primary key serves the per-delivery lookup
-- "is any lease of this employee alive" (employee first). UNLOGGED: a renewal
-- writes no WAL; a crash of PostgreSQL (or a failover) empties the table, and
-- every replica puts its leases back at its next renewal, when it finds fewer
-- than it holds.
CREATE UNLOGGED TABLE tab_presence (
    employee   TEXT   NOT NULL,
    replica    TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (employee, replica)
);

-- Keys every replica must share, made once by whichever replica needs one
-- first (the tab's signing key for media links and live-update tickets). Not
-- UNLOGGED: losing a key breaks every link signed with it.
CREATE TABLE shared_keys (
    name       TEXT PRIMARY KEY,
    key        BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE shared_keys;
DROP TABLE tab_presence;
