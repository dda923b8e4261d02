-- Scheduled statuses: what the author composed, kept until a worker publishes it at
-- scheduled_at. The uploads it will carry point at it, so that they are not pruned as
-- unattached while they wait; deleting the schedule releases them.

-- +goose Up
CREATE TABLE scheduled_statuses (
    id           BIGINT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at TIMESTAMPTZ NOT NULL,
    params       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX scheduled_statuses_account_id_id_idx ON scheduled_statuses (account_id, id);
CREATE INDEX scheduled_statuses_scheduled_at_idx ON scheduled_statuses (scheduled_at);

-- SQLite cannot drop a column that carries a foreign key (the Down step), and both
-- dialects keep the same statements, so the link has none: the code clears it.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT;
CREATE INDEX media_attachments_scheduled_status_id_idx ON media_attachments (scheduled_status_id);

-- +goose Down
DROP INDEX IF EXISTS media_attachments_scheduled_status_id_idx;
ALTER TABLE media_attachments DROP COLUMN scheduled_status_id;
DROP TABLE IF EXISTS scheduled_statuses;
