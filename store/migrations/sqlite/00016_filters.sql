-- Filters (Mastodon's v2 filters): a filter has a title, the contexts it applies to, an
-- action (warn, blur or hide) and an optional expiry, and matches statuses by keywords
-- or by status id. A v1 filter is one keyword of a filter.

-- +goose Up
CREATE TABLE filters (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title      TEXT     NOT NULL,
    context    TEXT     NOT NULL,
    action     TEXT     NOT NULL DEFAULT 'warn',
    expires_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX filters_account_id_id_idx ON filters (account_id, id);

CREATE TABLE filter_keywords (
    id         INTEGER PRIMARY KEY,
    filter_id  BIGINT   NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword    TEXT     NOT NULL,
    whole_word BOOLEAN  NOT NULL DEFAULT TRUE,
    created_at DATETIME NOT NULL
);
CREATE INDEX filter_keywords_filter_id_idx ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id         INTEGER PRIMARY KEY,
    filter_id  BIGINT   NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id  BIGINT   NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX filter_statuses_filter_id_status_id_key ON filter_statuses (filter_id, status_id);
CREATE INDEX filter_statuses_status_id_idx ON filter_statuses (status_id);

-- +goose Down
DROP TABLE IF EXISTS filter_statuses;
DROP TABLE IF EXISTS filter_keywords;
DROP TABLE IF EXISTS filters;
