-- Local accounts that were deleted. The username stays taken (a peer may still hold
-- mentions and follows of the old actor id), the actor answers 410 Gone, and the key
-- keeps signing the Delete that tells peers until every peer has it.

-- +goose Up
CREATE TABLE account_tombstones (
    account_id      BIGINT PRIMARY KEY,
    username        TEXT     NOT NULL,
    uri             TEXT     NOT NULL,
    private_key_pem TEXT     NOT NULL DEFAULT '',
    public_key_pem  TEXT     NOT NULL DEFAULT '',
    deleted_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX account_tombstones_username_idx ON account_tombstones (lower(username));

-- +goose Down
DROP TABLE IF EXISTS account_tombstones;
