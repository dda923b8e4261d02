-- Accounts that sign in through the company's identity provider: the provider's
-- issuer and its subject (the "sub" claim, stable for a person) name the account.
-- Sign-ins find accounts only this way, never by username or e-mail address.

-- +goose Up
CREATE TABLE external_identities (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    issuer          TEXT     NOT NULL,
    subject         TEXT     NOT NULL,
    created_at      DATETIME NOT NULL,
    last_sign_in_at DATETIME
);
CREATE UNIQUE INDEX idx_external_identities_subject ON external_identities (issuer, subject);
CREATE INDEX idx_external_identities_account ON external_identities (account_id);

-- +goose Down
DROP TABLE external_identities;
