-- +goose Up
-- read_marks is how far each employee has read each thread: the seq of the
-- last message they saw. The tab's unread counts are the messages after it.
-- (0005 is another table's: the archive.)
CREATE TABLE read_marks (
    employee TEXT NOT NULL,
    thread   TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (employee, thread)
);

-- The messages a person wrote (not notices, not notes), for the thread list's
-- preview (the last of them per thread) and for search.
CREATE INDEX messages_written ON messages (thread, seq) WHERE from_party IN ('consumer', 'employee');

-- +goose Down
DROP INDEX messages_written;
DROP TABLE read_marks;
