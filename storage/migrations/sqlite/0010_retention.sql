-- +goose Up
-- The conversation-days the journal delivered to the archive's mailbox: with
-- journaling on, retention purges only these, so nothing is dropped before it
-- was exported. Legal holds need no table: they are archive events.
CREATE TABLE archive_journaled (
    company TEXT NOT NULL,
    thread  TEXT NOT NULL,
    day     TEXT NOT NULL,    -- the UTC day, 2006-01-02
    at      BIGINT NOT NULL,  -- when it was delivered, unix microseconds
    PRIMARY KEY (company, thread, day)
);

-- +goose Down
DROP TABLE archive_journaled;
