-- Polls and their votes. A poll belongs to one status. options holds the choices and
-- their tallies as JSON ([{"title": …, "votes_count": n}]): for a local poll the
-- tallies are recounted from poll_votes on every vote; for a remote one they are what
-- its origin last said, plus this instance's own votes until the origin's update.
-- poll_votes.uri is the id of a vote that travelled between instances. ended_at is set
-- once the end of the poll has been announced (notifications, the final update).

-- +goose Up
CREATE TABLE polls (
    id           BIGINT PRIMARY KEY,
    status_id    BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    options      TEXT     NOT NULL DEFAULT '[]',
    multiple     BOOLEAN  NOT NULL DEFAULT FALSE,
    hide_totals  BOOLEAN  NOT NULL DEFAULT FALSE,
    votes_count  BIGINT   NOT NULL DEFAULT 0,
    voters_count BIGINT   NOT NULL DEFAULT 0,
    expires_at   TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX polls_status_id_key ON polls (status_id);
CREATE INDEX polls_account_id_idx ON polls (account_id);
CREATE INDEX polls_expires_at_idx ON polls (expires_at) WHERE ended_at IS NULL;

CREATE TABLE poll_votes (
    id         BIGINT PRIMARY KEY,
    poll_id    BIGINT   NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice     BIGINT   NOT NULL,
    uri        TEXT     NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX poll_votes_poll_id_account_id_choice_key ON poll_votes (poll_id, account_id, choice);
CREATE INDEX poll_votes_account_id_idx ON poll_votes (account_id);
CREATE UNIQUE INDEX poll_votes_uri_key ON poll_votes (uri) WHERE uri <> '';

-- +goose Down
DROP TABLE IF EXISTS poll_votes;
DROP TABLE IF EXISTS polls;
