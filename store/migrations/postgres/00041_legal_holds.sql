-- Legal holds: accounts whose posts the instance's retention rules must not delete
-- (litigation, an investigation). One row per held account; releasing the hold
-- deletes the row. The moderation log keeps who set and released it.

-- +goose Up
CREATE TABLE legal_holds (
    account_id            BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    reason                TEXT NOT NULL DEFAULT '',
    set_by_account_id     BIGINT,
    created_at            TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE legal_holds;
