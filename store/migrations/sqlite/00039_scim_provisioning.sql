-- Provisioning from the company's identity provider over SCIM 2.0 (RFC 7643/7644).
-- scim_tokens are the bearer tokens the provider presents, stored as SHA-256 hashes
-- like access tokens. provisioned_users records, for each local account the provider
-- manages, what the provider calls it (userName, externalId, name) and whether it
-- is active; suspended_by_provisioning says the provider, not a moderator, suspended
-- it, so that re-activation lifts only its own suspension. provisioned_groups and
-- their members are the provider's groups; role_groups in the configuration turns
-- membership into a role.

-- +goose Up
CREATE TABLE scim_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT     NOT NULL,
    token_hash   TEXT     NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE UNIQUE INDEX scim_tokens_token_hash_key ON scim_tokens (token_hash);
CREATE UNIQUE INDEX scim_tokens_live_name_key ON scim_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE provisioned_users (
    account_id                INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    user_name                 TEXT     NOT NULL,
    external_id               TEXT     NOT NULL DEFAULT '',
    given_name                TEXT     NOT NULL DEFAULT '',
    family_name               TEXT     NOT NULL DEFAULT '',
    formatted_name            TEXT     NOT NULL DEFAULT '',
    display_name              TEXT     NOT NULL DEFAULT '',
    email_type                TEXT     NOT NULL DEFAULT '',
    active                    BOOLEAN  NOT NULL DEFAULT TRUE,
    suspended_by_provisioning BOOLEAN  NOT NULL DEFAULT FALSE,
    deprovisioned_at          DATETIME,
    created_at                DATETIME NOT NULL,
    updated_at                DATETIME NOT NULL
);
CREATE UNIQUE INDEX provisioned_users_user_name_key ON provisioned_users (lower(user_name));
CREATE INDEX provisioned_users_external_id_idx ON provisioned_users (external_id);

CREATE TABLE provisioned_groups (
    id           INTEGER PRIMARY KEY,
    display_name TEXT     NOT NULL,
    external_id  TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE UNIQUE INDEX provisioned_groups_display_name_key ON provisioned_groups (lower(display_name));
CREATE INDEX provisioned_groups_external_id_idx ON provisioned_groups (external_id);

CREATE TABLE provisioned_group_members (
    group_id   BIGINT NOT NULL REFERENCES provisioned_groups (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX provisioned_group_members_account_id_idx ON provisioned_group_members (account_id);

-- +goose Down
DROP TABLE provisioned_group_members;
DROP TABLE provisioned_groups;
DROP TABLE provisioned_users;
DROP TABLE scim_tokens;
