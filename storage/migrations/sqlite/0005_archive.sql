-- +goose Up
-- The compliance record (package archive): one hash chain per thread and one per
-- company (thread '_company'). Rows are only ever inserted; retention may set
-- body to NULL and nothing else, and the triggers below refuse any other change,
-- so that only someone who drops them (the database's owner) can tamper, and
-- `multiline archive verify` then shows where.
CREATE TABLE archive_events (
    company   TEXT NOT NULL,
    thread    TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,  -- unix microseconds, UTC, as hashed
    kind      TEXT NOT NULL,
    body      TEXT,             -- canonical JSON; NULL once retention purged it
    body_hash BLOB NOT NULL,    -- SHA-256 of the canonical body, kept for ever
    prev      BLOB NOT NULL,    -- hash of the chain's previous event (zeros for seq 1)
    hash      BLOB NOT NULL,    -- SHA-256(prev || canonical bytes)
    PRIMARY KEY (company, thread, seq)
);
-- Exports read a company's events of a UTC day.
CREATE INDEX archive_events_at ON archive_events (company, at);

-- +goose StatementBegin
CREATE TRIGGER archive_events_no_delete BEFORE DELETE ON archive_events
BEGIN
    SELECT RAISE(ABORT, 'archive events are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER archive_events_no_update BEFORE UPDATE ON archive_events
WHEN NOT (NEW.body IS NULL AND NEW.company = OLD.company AND NEW.thread = OLD.thread AND NEW.seq = OLD.seq
    AND NEW.at = OLD.at AND NEW.kind = OLD.kind AND NEW.body_hash = OLD.body_hash AND NEW.prev = OLD.prev
    AND NEW.hash = OLD.hash)
BEGIN
    SELECT RAISE(ABORT, 'archive events are append-only (retention may only drop a body)');
END;
-- +goose StatementEnd

-- The SHA-256 of each media item, computed when it is stored, so the archive
-- records it without reading the bytes inside a transaction.
ALTER TABLE media ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE media DROP COLUMN sha256;
DROP TRIGGER archive_events_no_update;
DROP TRIGGER archive_events_no_delete;
DROP TABLE archive_events;
