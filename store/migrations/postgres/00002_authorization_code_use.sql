-- Authorization codes remember the account they act for and their single use, so that
-- a replayed code is refused and the token it bought is revoked (RFC 6749 4.1.2).

-- +goose Up
ALTER TABLE authorization_codes ADD COLUMN account_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE authorization_codes ADD COLUMN consumed_at TIMESTAMPTZ;
ALTER TABLE authorization_codes ADD COLUMN token_id BIGINT;
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

-- +goose Down
DROP INDEX IF EXISTS authorization_codes_expires_at_idx;
ALTER TABLE authorization_codes DROP COLUMN token_id;
ALTER TABLE authorization_codes DROP COLUMN consumed_at;
ALTER TABLE authorization_codes DROP COLUMN account_id;
