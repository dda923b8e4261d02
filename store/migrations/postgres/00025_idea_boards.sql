-- Idea boards: group accounts that collect ideas from every instance, with moderators,
-- bans, the ideas themselves (statuses with a title, a workflow status and votes) and
-- the votes, one per person company-wide.

-- +goose Up
CREATE TABLE boards (
    account_id            BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    description           TEXT     NOT NULL DEFAULT '',
    rules                 TEXT     NOT NULL DEFAULT '',
    scope                 TEXT     NOT NULL,
    local                 BOOLEAN  NOT NULL,
    created_by_account_id BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX boards_created_by_account_id_idx ON boards (created_by_account_id);

CREATE TABLE board_moderators (
    id               BIGINT PRIMARY KEY,
    board_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id       BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX board_moderators_board_account_id_account_id_key ON board_moderators (board_account_id, account_id);
CREATE INDEX board_moderators_account_id_idx ON board_moderators (account_id);

CREATE TABLE board_bans (
    id               BIGINT PRIMARY KEY,
    board_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id       BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reason           TEXT     NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX board_bans_board_account_id_account_id_key ON board_bans (board_account_id, account_id);
CREATE INDEX board_bans_account_id_idx ON board_bans (account_id);

CREATE TABLE ideas (
    status_id        BIGINT PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
    board_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title            TEXT     NOT NULL,
    body             TEXT     NOT NULL DEFAULT '',
    body_html        TEXT     NOT NULL DEFAULT '',
    state            TEXT     NOT NULL DEFAULT 'new',
    state_comment    TEXT     NOT NULL DEFAULT '',
    state_changed_at TIMESTAMPTZ,
    locked           BOOLEAN  NOT NULL DEFAULT FALSE,
    pinned_at        TIMESTAMPTZ,
    merged_into_id   BIGINT   REFERENCES statuses (id) ON DELETE SET NULL,
    votes_count      BIGINT   NOT NULL DEFAULT 0,
    version          BIGINT   NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX ideas_board_account_id_status_id_idx ON ideas (board_account_id, status_id);
CREATE INDEX ideas_board_account_id_votes_count_idx ON ideas (board_account_id, votes_count);
CREATE INDEX ideas_merged_into_id_idx ON ideas (merged_into_id);

CREATE TABLE idea_votes (
    id         BIGINT PRIMARY KEY,
    idea_id    BIGINT   NOT NULL REFERENCES ideas (status_id) ON DELETE CASCADE,
    voter_uri  TEXT     NOT NULL,
    account_id BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idea_votes_idea_id_voter_uri_key ON idea_votes (idea_id, voter_uri);
CREATE INDEX idea_votes_account_id_idx ON idea_votes (account_id);

-- +goose Down
DROP TABLE IF EXISTS idea_votes;
DROP TABLE IF EXISTS ideas;
DROP TABLE IF EXISTS board_bans;
DROP TABLE IF EXISTS board_moderators;
DROP TABLE IF EXISTS boards;
