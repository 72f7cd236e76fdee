-- +goose Up
-- The compliance record (package archive): one hash chain per thread and one per
-- company (thread '_company'). Rows are only ever inserted; retention may set
-- body to NULL and nothing else, and the trigger below refuses any other change,
-- so that only someone who drops it (the database's owner) can tamper, and
-- `multiline archive verify` then shows where.
CREATE TABLE archive_events (
    company   TEXT NOT NULL,
    thread    TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,  -- unix microseconds, UTC, as hashed
    kind      TEXT NOT NULL,
    body      TEXT,             -- canonical JSON (not jsonb: kept byte for byte); NULL once purged
    body_hash BYTEA NOT NULL,   -- SHA-256 of the canonical body, kept for ever
    prev      BYTEA NOT NULL,   -- hash of the chain's previous event (zeros for seq 1)
    hash      BYTEA NOT NULL,   -- SHA-256(prev || canonical bytes)
    PRIMARY KEY (company, thread, seq)
);
-- Exports read a company's events of a UTC day.
CREATE INDEX archive_events_at ON archive_events (company, at);

-- +goose StatementBegin
CREATE FUNCTION archive_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.body IS NULL AND NEW.company = OLD.company AND NEW.thread = OLD.thread
        AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.kind = OLD.kind AND NEW.body_hash = OLD.body_hash
        AND NEW.prev = OLD.prev AND NEW.hash = OLD.hash THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'archive events are append-only (retention may only drop a body)';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER archive_events_append_only BEFORE UPDATE OR DELETE ON archive_events
    FOR EACH ROW EXECUTE FUNCTION archive_events_append_only();

-- The SHA-256 of each media item, computed when it is stored, so the archive
-- records it without reading the bytes inside a transaction.
ALTER TABLE media ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE media DROP COLUMN sha256;
DROP TRIGGER archive_events_append_only ON archive_events;
DROP FUNCTION archive_events_append_only();
DROP TABLE archive_events;
