-- Followed hashtags: public posts with a hashtag someone follows reach their home
-- timeline, as in Mastodon.

-- +goose Up
CREATE TABLE tag_follows (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX tag_follows_account_id_tag_id_key ON tag_follows (account_id, tag_id);
CREATE INDEX tag_follows_account_id_id_idx ON tag_follows (account_id, id);
CREATE INDEX tag_follows_tag_id_idx ON tag_follows (tag_id);

-- +goose Down
DROP TABLE IF EXISTS tag_follows;
