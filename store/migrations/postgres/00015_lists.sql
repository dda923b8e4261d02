-- Lists: named groups of followed accounts with their own timeline. A membership hangs
-- off the follow that allows it, so that unfollowing (or a block, which ends follows)
-- takes the account out of the owner's lists, as in Mastodon.

-- +goose Up
CREATE TABLE lists (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          TEXT        NOT NULL,
    replies_policy TEXT        NOT NULL DEFAULT 'list',
    exclusive      BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX lists_account_id_id_idx ON lists (account_id, id);

CREATE TABLE list_accounts (
    id         BIGINT PRIMARY KEY,
    list_id    BIGINT      NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    follow_id  BIGINT      NOT NULL REFERENCES follows (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX list_accounts_list_id_account_id_key ON list_accounts (list_id, account_id);
CREATE INDEX list_accounts_account_id_list_id_idx ON list_accounts (account_id, list_id);
CREATE INDEX list_accounts_follow_id_idx ON list_accounts (follow_id);

-- +goose Down
DROP TABLE IF EXISTS list_accounts;
DROP TABLE IF EXISTS lists;
