-- +goose Up
-- Times are unix microseconds (UTC) as BIGINT; JSON columns are TEXT.

CREATE TABLE companies (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL DEFAULT '',
    tenant_id TEXT NOT NULL DEFAULT '',
    policy    TEXT NOT NULL,
    overrides TEXT NOT NULL DEFAULT '{}',
    language  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE employees (
    id             TEXT PRIMARY KEY,
    company        TEXT NOT NULL REFERENCES companies (id),
    tenant_id      TEXT NOT NULL DEFAULT '',
    teams_user_id  TEXT NOT NULL DEFAULT '',
    aad_object_id  TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    locale         TEXT NOT NULL DEFAULT '',
    conversation   TEXT NOT NULL DEFAULT '{}',
    blocked        BOOLEAN NOT NULL DEFAULT FALSE,
    blocked_reason TEXT NOT NULL DEFAULT '',
    focus          TEXT NOT NULL DEFAULT '',
    contact_scene  TEXT NOT NULL DEFAULT '',
    contact_link   TEXT NOT NULL DEFAULT '',
    last_routed_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX employees_teams_user ON employees (tenant_id, teams_user_id) WHERE teams_user_id <> '';
CREATE INDEX employees_aad ON employees (tenant_id, aad_object_id);
CREATE UNIQUE INDEX employees_scene ON employees (company, contact_scene) WHERE contact_scene <> '';
CREATE INDEX employees_pool ON employees (company, enabled, blocked, last_routed_at);

CREATE TABLE consumers (
    company  TEXT NOT NULL REFERENCES companies (id),
    id       TEXT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    route_hint TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (company, id)
);

CREATE TABLE threads (
    id          TEXT PRIMARY KEY,
    company     TEXT NOT NULL REFERENCES companies (id),
    consumer    TEXT NOT NULL DEFAULT '',
    account     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    optin_scene TEXT NOT NULL DEFAULT '',
    optin_link  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX threads_consumer ON threads (company, consumer, updated_at);
CREATE UNIQUE INDEX threads_optin_scene ON threads (company, optin_scene) WHERE optin_scene <> '';

CREATE TABLE participants (
    thread   TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    employee TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (thread, employee)
);
CREATE INDEX participants_employee ON participants (employee);

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    thread      TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    from_party  TEXT NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '{}',
    notice      TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    position    BIGINT NOT NULL DEFAULT 0,
    wechat_msgid TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (thread, seq)
);

CREATE TABLE inbound (
    company      TEXT NOT NULL,
    wechat_msgid TEXT NOT NULL,
    PRIMARY KEY (company, wechat_msgid)
);

CREATE TABLE cursors (
    company TEXT NOT NULL,
    account TEXT NOT NULL,
    cursor  TEXT NOT NULL,
    PRIMARY KEY (company, account)
);

CREATE TABLE tokens (
    key        TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE cards (
    employee    TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    thread      TEXT NOT NULL,
    messages    TEXT NOT NULL DEFAULT '[]',
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (employee, activity_id)
);
CREATE INDEX cards_thread ON cards (employee, thread, updated_at);

-- card_messages maps a message to the card that shows it, per employee.
CREATE TABLE card_messages (
    employee    TEXT NOT NULL,
    message     TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    PRIMARY KEY (employee, message)
);

CREATE TABLE audit (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread  TEXT NOT NULL,
    at      BIGINT NOT NULL,
    event   TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT 'null',
    actions TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX audit_thread ON audit (thread, id);

CREATE TABLE media (
    ref          TEXT PRIMARY KEY,
    company      TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    file_name    TEXT NOT NULL DEFAULT '',
    bytes        BYTEA NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- jobs is the outbox. Identity ids only grow, so a lane's order is its id order.
-- locked_until is 0 when no worker holds the job.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lane         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT 'null',
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    locked_by    TEXT,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_lane ON jobs (lane, id);
CREATE INDEX jobs_lane_locked ON jobs (lane, locked_until);
CREATE INDEX jobs_due ON jobs (run_at, id);

-- +goose Down
DROP TABLE jobs;
DROP TABLE media;
DROP TABLE audit;
DROP TABLE card_messages;
DROP TABLE cards;
DROP TABLE tokens;
DROP TABLE cursors;
DROP TABLE inbound;
DROP TABLE messages;
DROP TABLE participants;
DROP TABLE threads;
DROP TABLE consumers;
DROP TABLE employees;
DROP TABLE companies;
