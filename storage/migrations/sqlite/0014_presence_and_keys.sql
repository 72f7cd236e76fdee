-- +goose Up
-- Which employees have the MultiLine tab open (teamsapp's presence), as on
-- PostgreSQL (see its 0014): one process uses it the same way, and so do
-- several processes on one file.
CREATE TABLE tab_presence (
    employee   TEXT    NOT NULL,
    replica    TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (employee, replica)
);

-- Keys made once and kept (the tab's signing key), so that links survive a
-- restart.
CREATE TABLE shared_keys (
    name       TEXT PRIMARY KEY,
    key        BLOB    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE shared_keys;
DROP TABLE tab_presence;
