-- +goose Up
-- The compliance reviewers the tab saw holding the Compliance.Review role
-- (those in MULTILINE_COMPLIANCE_REVIEWERS are configured, not stored), so that
-- lexicon blocks and flags alert them. aad_object_id is in lower case;
-- seen_at (unix microseconds) is when the tab last recorded the role.
CREATE TABLE compliance_reviewers (
    company       TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    seen_at       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company, aad_object_id)
);

-- +goose Down
DROP TABLE compliance_reviewers;
