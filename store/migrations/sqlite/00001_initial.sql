-- Initial schema, SQLite flavour. Keep in step with migrations/postgres/00001_initial.sql
-- and with the gorm models in community/models.go and auth/models.go (store_test.go checks
-- every model column against the migrated tables).
--
-- SQLite notes:
--   * Single-column int64 ids are INTEGER PRIMARY KEY, which makes them the rowid: one
--     b-tree per table instead of a table plus a separate primary-key index, and every
--     secondary index carries the id for free. It is still 64-bit and, without
--     AUTOINCREMENT, never generated as long as the application supplies the snowflake id.
--   * Times are DATETIME so that the driver parses them back into time.Time. The driver
--     writes "2006-01-02 15:04:05.999999999-07:00"; with UTC values (gorm's NowFunc) the
--     text sorts chronologically.
--   * Every foreign-key child column is the leading column of some index, otherwise each
--     parent delete would scan the child table.

-- +goose Up
CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    username         TEXT     NOT NULL,
    domain           TEXT     NOT NULL DEFAULT '',
    display_name     TEXT     NOT NULL DEFAULT '',
    note             TEXT     NOT NULL DEFAULT '',
    note_source      TEXT     NOT NULL DEFAULT '',
    fields           TEXT     NOT NULL DEFAULT '[]',
    locked           BOOLEAN  NOT NULL DEFAULT FALSE,
    bot              BOOLEAN  NOT NULL DEFAULT FALSE,
    is_group         BOOLEAN  NOT NULL DEFAULT FALSE,
    discoverable     BOOLEAN  NOT NULL DEFAULT TRUE,
    avatar_url       TEXT     NOT NULL DEFAULT '',
    header_url       TEXT     NOT NULL DEFAULT '',
    uri              TEXT     NOT NULL DEFAULT '',
    url              TEXT     NOT NULL DEFAULT '',
    inbox_url        TEXT     NOT NULL DEFAULT '',
    shared_inbox_url TEXT     NOT NULL DEFAULT '',
    followers_url    TEXT     NOT NULL DEFAULT '',
    public_key_pem   TEXT     NOT NULL DEFAULT '',
    private_key_pem  TEXT     NOT NULL DEFAULT '',
    followers_count  BIGINT   NOT NULL DEFAULT 0,
    following_count  BIGINT   NOT NULL DEFAULT 0,
    statuses_count   BIGINT   NOT NULL DEFAULT 0,
    last_status_at   DATETIME,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE UNIQUE INDEX accounts_lower_username_domain_key ON accounts (lower(username), domain);
CREATE UNIQUE INDEX accounts_uri_key ON accounts (uri) WHERE uri <> '';
CREATE INDEX accounts_domain_idx ON accounts (domain);

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    account_id         BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email              TEXT     NOT NULL DEFAULT '',
    password_hash      TEXT     NOT NULL,
    role               TEXT     NOT NULL DEFAULT 'user',
    locale             TEXT     NOT NULL DEFAULT 'en',
    default_visibility TEXT     NOT NULL DEFAULT 'public',
    default_scope      TEXT     NOT NULL DEFAULT '',
    default_sensitive  BOOLEAN  NOT NULL DEFAULT FALSE,
    default_language   TEXT     NOT NULL DEFAULT '',
    disabled           BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    last_sign_in_at    DATETIME
);
CREATE UNIQUE INDEX users_account_id_key ON users (account_id);
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email <> '';

CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY,
    account_id             BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri                    TEXT     NOT NULL DEFAULT '',
    url                    TEXT     NOT NULL DEFAULT '',
    text                   TEXT     NOT NULL DEFAULT '',
    content                TEXT     NOT NULL DEFAULT '',
    spoiler_text           TEXT     NOT NULL DEFAULT '',
    sensitive              BOOLEAN  NOT NULL DEFAULT FALSE,
    visibility             TEXT     NOT NULL,
    scope                  TEXT     NOT NULL,
    language               TEXT     NOT NULL DEFAULT '',
    in_reply_to_id         BIGINT   REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id BIGINT   REFERENCES accounts (id) ON DELETE SET NULL,
    reblog_of_id           BIGINT   REFERENCES statuses (id) ON DELETE CASCADE,
    application_id         BIGINT,
    local                  BOOLEAN  NOT NULL DEFAULT TRUE,
    replies_count          BIGINT   NOT NULL DEFAULT 0,
    reblogs_count          BIGINT   NOT NULL DEFAULT 0,
    favourites_count       BIGINT   NOT NULL DEFAULT 0,
    created_at             DATETIME NOT NULL,
    edited_at              DATETIME,
    updated_at             DATETIME NOT NULL
);
CREATE INDEX statuses_account_id_id_idx ON statuses (account_id, id);
CREATE INDEX statuses_in_reply_to_id_idx ON statuses (in_reply_to_id);
CREATE INDEX statuses_in_reply_to_account_id_idx ON statuses (in_reply_to_account_id);
CREATE UNIQUE INDEX statuses_reblog_of_id_account_id_key ON statuses (reblog_of_id, account_id) WHERE reblog_of_id IS NOT NULL;
CREATE UNIQUE INDEX statuses_uri_key ON statuses (uri) WHERE uri <> '';
CREATE INDEX statuses_visibility_scope_id_idx ON statuses (visibility, scope, id);

CREATE TABLE status_edits (
    id           INTEGER PRIMARY KEY,
    status_id    BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   BIGINT   NOT NULL,
    text         TEXT     NOT NULL DEFAULT '',
    content      TEXT     NOT NULL DEFAULT '',
    spoiler_text TEXT     NOT NULL DEFAULT '',
    sensitive    BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at   DATETIME NOT NULL
);
CREATE INDEX status_edits_status_id_id_idx ON status_edits (status_id, id);

CREATE TABLE mentions (
    id         INTEGER PRIMARY KEY,
    status_id  BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX mentions_status_id_account_id_key ON mentions (status_id, account_id);
CREATE INDEX mentions_account_id_status_id_idx ON mentions (account_id, status_id);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT     NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX tags_name_key ON tags (name);

CREATE TABLE status_tags (
    status_id BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id    BIGINT   NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX status_tags_tag_id_status_id_idx ON status_tags (tag_id, status_id);

CREATE TABLE follows (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      BOOLEAN  NOT NULL DEFAULT TRUE,
    notify            BOOLEAN  NOT NULL DEFAULT FALSE,
    uri               TEXT     NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX follows_account_id_target_account_id_key ON follows (account_id, target_account_id);
CREATE INDEX follows_target_account_id_account_id_idx ON follows (target_account_id, account_id);

CREATE TABLE follow_requests (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      BOOLEAN  NOT NULL DEFAULT TRUE,
    notify            BOOLEAN  NOT NULL DEFAULT FALSE,
    uri               TEXT     NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX follow_requests_account_id_target_account_id_key ON follow_requests (account_id, target_account_id);
CREATE INDEX follow_requests_target_account_id_account_id_idx ON follow_requests (target_account_id, account_id);

CREATE TABLE blocks (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri               TEXT     NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX blocks_account_id_target_account_id_key ON blocks (account_id, target_account_id);
CREATE INDEX blocks_target_account_id_account_id_idx ON blocks (target_account_id, account_id);

CREATE TABLE mutes (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    notifications     BOOLEAN  NOT NULL DEFAULT TRUE,
    expires_at        DATETIME,
    created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX mutes_account_id_target_account_id_key ON mutes (account_id, target_account_id);
CREATE INDEX mutes_target_account_id_account_id_idx ON mutes (target_account_id, account_id);

CREATE TABLE favourites (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    uri        TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX favourites_account_id_status_id_key ON favourites (account_id, status_id);
CREATE INDEX favourites_status_id_id_idx ON favourites (status_id, id);

CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX bookmarks_account_id_status_id_key ON bookmarks (account_id, status_id);
CREATE INDEX bookmarks_account_id_id_idx ON bookmarks (account_id, id);
CREATE INDEX bookmarks_status_id_idx ON bookmarks (status_id);

CREATE TABLE status_pins (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX status_pins_account_id_status_id_key ON status_pins (account_id, status_id);
CREATE INDEX status_pins_status_id_idx ON status_pins (status_id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type            TEXT     NOT NULL,
    status_id       BIGINT   REFERENCES statuses (id) ON DELETE CASCADE,
    created_at      DATETIME NOT NULL
);
CREATE INDEX notifications_account_id_id_idx ON notifications (account_id, id);
CREATE INDEX notifications_status_id_idx ON notifications (status_id);
CREATE INDEX notifications_from_account_id_idx ON notifications (from_account_id);

CREATE TABLE markers (
    account_id   BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     TEXT     NOT NULL,
    last_read_id BIGINT   NOT NULL,
    version      BIGINT   NOT NULL DEFAULT 0,
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE featured_tags (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     BIGINT   NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX featured_tags_account_id_tag_id_key ON featured_tags (account_id, tag_id);
CREATE INDEX featured_tags_tag_id_idx ON featured_tags (tag_id);

CREATE TABLE idempotency_keys (
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key        TEXT     NOT NULL,
    status_id  BIGINT   NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE TABLE applications (
    id            INTEGER PRIMARY KEY,
    name          TEXT     NOT NULL,
    website       TEXT     NOT NULL DEFAULT '',
    redirect_uris TEXT     NOT NULL,
    scopes        TEXT     NOT NULL,
    client_id     TEXT     NOT NULL,
    client_secret TEXT     NOT NULL,
    created_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX applications_client_id_key ON applications (client_id);

CREATE TABLE tokens (
    id             INTEGER PRIMARY KEY,
    application_id BIGINT   NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        BIGINT   REFERENCES users (id) ON DELETE CASCADE,
    account_id     BIGINT   REFERENCES accounts (id) ON DELETE CASCADE,
    scopes         TEXT     NOT NULL,
    token_hash     TEXT     NOT NULL,
    refresh_hash   TEXT,
    created_at     DATETIME NOT NULL,
    last_used_at   DATETIME,
    revoked_at     DATETIME
);
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
CREATE UNIQUE INDEX tokens_refresh_hash_key ON tokens (refresh_hash) WHERE refresh_hash IS NOT NULL;
CREATE INDEX tokens_user_id_idx ON tokens (user_id);
CREATE INDEX tokens_account_id_idx ON tokens (account_id);
CREATE INDEX tokens_application_id_idx ON tokens (application_id);

CREATE TABLE authorization_codes (
    code_hash             TEXT     NOT NULL PRIMARY KEY,
    application_id        BIGINT   NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id               BIGINT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT     NOT NULL,
    scopes                TEXT     NOT NULL,
    code_challenge        TEXT     NOT NULL DEFAULT '',
    code_challenge_method TEXT     NOT NULL DEFAULT '',
    expires_at            DATETIME NOT NULL,
    created_at            DATETIME NOT NULL
);
CREATE INDEX authorization_codes_application_id_idx ON authorization_codes (application_id);
CREATE INDEX authorization_codes_user_id_idx ON authorization_codes (user_id);

-- +goose Down
DROP TABLE IF EXISTS authorization_codes;
DROP TABLE IF EXISTS tokens;
DROP TABLE IF EXISTS applications;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS featured_tags;
DROP TABLE IF EXISTS markers;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS status_pins;
DROP TABLE IF EXISTS bookmarks;
DROP TABLE IF EXISTS favourites;
DROP TABLE IF EXISTS mutes;
DROP TABLE IF EXISTS blocks;
DROP TABLE IF EXISTS follow_requests;
DROP TABLE IF EXISTS follows;
DROP TABLE IF EXISTS status_tags;
DROP TABLE IF EXISTS tags;
DROP TABLE IF EXISTS mentions;
DROP TABLE IF EXISTS status_edits;
DROP TABLE IF EXISTS statuses;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS accounts;
