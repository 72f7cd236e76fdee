-- +goose Up
-- What WeChat last reported about a consumer beside the name: the avatar, and
-- when it was asked (unix microseconds; 0 never), so that a profile older than
-- a day is asked again when the consumer next writes.
ALTER TABLE consumers ADD COLUMN avatar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE consumers ADD COLUMN profiled_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE consumers DROP COLUMN profiled_at;
ALTER TABLE consumers DROP COLUMN avatar_url;
