-- +goose Up
-- Teams' sliding windows shared by every replica, exactly (bot.sharedLimiter):
-- per key (a conversation, a tenant), the times of its latest grants, unix
-- microseconds, ascending; only as many as the key's largest window counts.
-- They replace the GCRA buckets of 0008, which could not express a sliding
-- window and held a conversation to 1.83 of its 2 requests per second.
-- UNLOGGED for the reason 0008 gives.
CREATE UNLOGGED TABLE rate_log (
    key    TEXT PRIMARY KEY,
    grants BIGINT[] NOT NULL DEFAULT '{}'
);

-- rate_grant lets a request through every key's windows, or through none. A
-- window is (wkeys[w], pers[w], ns[w]): at most ns[w] grants of
-- keys[wkeys[w]] (1-based) in any span of pers[w] microseconds; keeps[k] is
-- the largest ns of key k. It returns 0 when the request may go now (and
-- records the grant), otherwise the microseconds until it could: until the
-- ns-th latest grant leaves its window (nothing is recorded). Rows are locked
-- one key after the other in key order, so that concurrent grants never
-- deadlock. One call is one statement and one round trip. A grant is recorded
-- no earlier than the key's latest, so that a replica whose clock is behind
-- keeps the log sorted (and errs on the side of the limit).
-- +goose StatementBegin
CREATE FUNCTION rate_grant(keys TEXT[], keeps INT[], wkeys INT[], pers BIGINT[], ns INT[], now_us BIGINT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    k INT;
    w INT;
    g BIGINT[];
    len INT;
    wait BIGINT := 0;
BEGIN
    FOR k IN SELECT i FROM generate_subscripts(keys, 1) AS i ORDER BY keys[i] LOOP
        SELECT grants INTO g FROM rate_log WHERE key = keys[k] FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO rate_log (key) VALUES (keys[k]) ON CONFLICT (key) DO NOTHING;
            SELECT grants INTO g FROM rate_log WHERE key = keys[k] FOR UPDATE;
        END IF;
        len := cardinality(g);
        FOR w IN SELECT i FROM generate_subscripts(wkeys, 1) AS i WHERE wkeys[i] = k LOOP
            IF len >= ns[w] THEN
                wait := GREATEST(wait, g[len - ns[w] + 1] + pers[w] - now_us);
            END IF;
        END LOOP;
    END LOOP;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    UPDATE rate_log r
    SET grants = r.grants[GREATEST(1, cardinality(r.grants) + 2 - x.keep):]
        || GREATEST(now_us, COALESCE(r.grants[cardinality(r.grants)], now_us))
    FROM unnest(keys, keeps) AS x(k, keep) WHERE r.key = x.k;
    RETURN 0;
END
$$;
-- +goose StatementEnd

DROP FUNCTION rate_take(TEXT[], BIGINT[], BIGINT[], BIGINT);
DROP TABLE rate_buckets;

-- +goose Down
DROP FUNCTION rate_grant(TEXT[], INT[], INT[], BIGINT[], INT[], BIGINT);
DROP TABLE rate_log;
-- 0008's buckets come back empty; their function is 0008's, as it was.
CREATE UNLOGGED TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
-- +goose StatementBegin
CREATE FUNCTION rate_take(keys TEXT[], intervals BIGINT[], bursts BIGINT[], now_us BIGINT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
    cur BIGINT;
    wait BIGINT := 0;
BEGIN
    FOR r IN SELECT w.k, w.iv, w.burst FROM unnest(keys, intervals, bursts) AS w(k, iv, burst) ORDER BY w.k LOOP
        SELECT tat INTO cur FROM rate_buckets WHERE key = r.k FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO rate_buckets (key, tat) VALUES (r.k, 0) ON CONFLICT (key) DO NOTHING;
            SELECT tat INTO cur FROM rate_buckets WHERE key = r.k FOR UPDATE;
        END IF;
        wait := GREATEST(wait, GREATEST(cur, now_us) - (r.burst - 1) * r.iv - now_us);
    END LOOP;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    UPDATE rate_buckets b SET tat = GREATEST(b.tat, now_us) + w.iv
    FROM unnest(keys, intervals) AS w(k, iv) WHERE b.key = w.k;
    RETURN 0;
END
$$;
-- +goose StatementEnd
