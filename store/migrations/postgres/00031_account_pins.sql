-- Endorsements: accounts someone follows and features on their profile. An
-- endorsement hangs off the follow that allows it, so unfollowing ends it.

-- +goose Up
CREATE TABLE account_pins (
    id                BIGINT PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    follow_id         BIGINT NOT NULL REFERENCES follows (id) ON DELETE CASCADE,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX account_pins_account_id_target_account_id_key ON account_pins (account_id, target_account_id);
CREATE INDEX account_pins_account_id_id_idx ON account_pins (account_id, id);
CREATE INDEX account_pins_follow_id_idx ON account_pins (follow_id);

-- +goose Down
DROP TABLE IF EXISTS account_pins;
