-- Follow suggestions someone dismissed: never suggested to them again.

-- +goose Up
CREATE TABLE suggestion_dismissals (
    id                BIGINT PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX suggestion_dismissals_account_id_target_account_id_key
    ON suggestion_dismissals (account_id, target_account_id);

-- +goose Down
DROP TABLE IF EXISTS suggestion_dismissals;
