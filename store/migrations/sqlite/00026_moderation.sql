-- Moderation: the audit log of every moderation action, reports (local and forwarded
-- Flags), sanctions on accounts, and the domains federation is cut from or opened to.

-- +goose Up
CREATE TABLE moderation_log_entries (
    id               INTEGER PRIMARY KEY,
    board_account_id BIGINT,
    actor_account_id BIGINT,
    actor_uri        TEXT     NOT NULL DEFAULT '',
    action           TEXT     NOT NULL,
    object_uri       TEXT     NOT NULL DEFAULT '',
    target_uri       TEXT     NOT NULL DEFAULT '',
    reason           TEXT     NOT NULL DEFAULT '',
    detail           TEXT     NOT NULL DEFAULT '',
    origin           TEXT     NOT NULL DEFAULT '',
    activity_uri     TEXT     NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL
);
CREATE INDEX moderation_log_entries_board_account_id_id_idx ON moderation_log_entries (board_account_id, id);
CREATE INDEX moderation_log_entries_actor_account_id_id_idx ON moderation_log_entries (actor_account_id, id);
CREATE INDEX moderation_log_entries_action_id_idx ON moderation_log_entries (action, id);
CREATE UNIQUE INDEX moderation_log_entries_activity_uri_action_key ON moderation_log_entries (activity_uri, action) WHERE activity_uri <> '';

CREATE TABLE reports (
    id                          INTEGER PRIMARY KEY,
    account_id                  BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    target_account_id           BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids                  TEXT     NOT NULL DEFAULT '[]',
    category                    TEXT     NOT NULL DEFAULT 'other',
    comment                     TEXT     NOT NULL DEFAULT '',
    forwarded                   BOOLEAN  NOT NULL DEFAULT FALSE,
    uri                         TEXT     NOT NULL DEFAULT '',
    origin                      TEXT     NOT NULL DEFAULT '',
    board_account_id            BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    assigned_account_id         BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken                BOOLEAN  NOT NULL DEFAULT FALSE,
    action_taken_at             DATETIME,
    action_taken_by_account_id  BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    created_at                  DATETIME NOT NULL,
    updated_at                  DATETIME NOT NULL
);
CREATE INDEX reports_account_id_idx ON reports (account_id);
CREATE INDEX reports_target_account_id_idx ON reports (target_account_id);
CREATE INDEX reports_board_account_id_idx ON reports (board_account_id);
CREATE INDEX reports_assigned_account_id_idx ON reports (assigned_account_id);
CREATE INDEX reports_action_taken_by_account_id_idx ON reports (action_taken_by_account_id);
CREATE INDEX reports_action_taken_id_idx ON reports (action_taken, id);
CREATE UNIQUE INDEX reports_uri_key ON reports (uri) WHERE uri <> '';

CREATE TABLE account_sanctions (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    silenced   BOOLEAN  NOT NULL DEFAULT FALSE,
    suspended  BOOLEAN  NOT NULL DEFAULT FALSE,
    updated_at DATETIME NOT NULL
);

CREATE TABLE domain_blocks (
    id              INTEGER PRIMARY KEY,
    domain          TEXT     NOT NULL,
    severity        TEXT     NOT NULL DEFAULT 'suspend',
    reject_media    BOOLEAN  NOT NULL DEFAULT FALSE,
    reject_reports  BOOLEAN  NOT NULL DEFAULT FALSE,
    private_comment TEXT     NOT NULL DEFAULT '',
    public_comment  TEXT     NOT NULL DEFAULT '',
    obfuscate       BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX domain_blocks_domain_key ON domain_blocks (domain);

CREATE TABLE domain_allows (
    id         INTEGER PRIMARY KEY,
    domain     TEXT     NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX domain_allows_domain_key ON domain_allows (domain);

-- +goose Down
DROP TABLE IF EXISTS domain_allows;
DROP TABLE IF EXISTS domain_blocks;
DROP TABLE IF EXISTS account_sanctions;
DROP TABLE IF EXISTS reports;
DROP TABLE IF EXISTS moderation_log_entries;
