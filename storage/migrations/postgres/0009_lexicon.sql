-- +goose Up
-- A company's lexicon (DLP) rules. name_key is the name in lower case: names
-- are unique per company regardless of case, as "blocked by policy: <name>"
-- must name one rule. created_at (unix microseconds) keeps the rules in the
-- order they were added, which is the order decisions list them in.
CREATE TABLE lexicon_rules (
    company    TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    name       TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    action     TEXT NOT NULL,
    direction  TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (company, name_key)
);

-- +goose Down
DROP TABLE lexicon_rules;
