-- Sign-up without the identity provider: the instance's registration settings, the
-- invites staff hand out, and accounts that wait for a moderator's approval.
--
-- instance_settings: registrations_mode '' means the row was saved before these
-- settings existed, and the configured ones still apply. allowed_email_domains is a
-- JSON list of domains (empty: any).
-- users: approved is false while a new account waits for a moderator; every account
-- made before this migration is approved. registration_reason is what the person wrote
-- to the moderators; invite_id the invite they signed up with (no foreign key, as
-- SQLite cannot drop a column that carries one; invites are revoked, never deleted).
-- invites: max_uses 0 is unlimited; expires_at NULL never expires.

-- +goose Up
ALTER TABLE instance_settings ADD COLUMN registrations_mode TEXT NOT NULL DEFAULT '';
ALTER TABLE instance_settings ADD COLUMN approval_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE instance_settings ADD COLUMN allowed_email_domains TEXT NOT NULL DEFAULT '[]';

ALTER TABLE users ADD COLUMN approved BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN registration_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN invite_id BIGINT;
CREATE INDEX users_pending_idx ON users (account_id) WHERE NOT approved;

CREATE TABLE invites (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    created_by_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    comment               TEXT NOT NULL DEFAULT '',
    max_uses              BIGINT NOT NULL DEFAULT 0,
    uses                  BIGINT NOT NULL DEFAULT 0,
    expires_at            DATETIME,
    revoked_at            DATETIME,
    created_at            DATETIME NOT NULL
);
CREATE INDEX invites_created_by_account_id_idx ON invites (created_by_account_id);

-- +goose Down
DROP TABLE IF EXISTS invites;
DROP INDEX IF EXISTS users_pending_idx;
ALTER TABLE users DROP COLUMN invite_id;
ALTER TABLE users DROP COLUMN registration_reason;
ALTER TABLE users DROP COLUMN approved;
ALTER TABLE instance_settings DROP COLUMN allowed_email_domains;
ALTER TABLE instance_settings DROP COLUMN approval_required;
ALTER TABLE instance_settings DROP COLUMN registrations_mode;
