-- Conversations: each participant's view of the direct messages exchanged among one set
-- of people. participant_ids are the other participants' account ids, sorted and
-- comma-separated ('' for notes to oneself); conversation_statuses links the direct
-- statuses, so that deleting the last one can fall back to the one before.

-- +goose Up
CREATE TABLE conversations (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    participant_ids TEXT        NOT NULL,
    last_status_id  BIGINT      NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    unread          BOOLEAN     NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX conversations_account_id_participant_ids_key ON conversations (account_id, participant_ids);
CREATE INDEX conversations_account_id_last_status_id_idx ON conversations (account_id, last_status_id);
CREATE INDEX conversations_last_status_id_idx ON conversations (last_status_id);

CREATE TABLE conversation_statuses (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    status_id       BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, status_id)
);
CREATE INDEX conversation_statuses_status_id_idx ON conversation_statuses (status_id);

-- +goose Down
DROP TABLE IF EXISTS conversation_statuses;
DROP TABLE IF EXISTS conversations;
