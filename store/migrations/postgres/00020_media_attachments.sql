-- Media: uploaded pictures (attachments, avatars, headers) and the attachments of
-- remote posts, which are shown by their URL and have no files here.
--
-- status_id is set when the attachment belongs to a post. Deleting the post detaches
-- it (SET NULL) rather than deleting it, so that "delete and redraft" can attach it to
-- the new post; detached and never-attached uploads are pruned after a day.

-- +goose Up
CREATE TABLE media_attachments (
    id                   BIGINT PRIMARY KEY,
    account_id           BIGINT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id            BIGINT   REFERENCES statuses (id) ON DELETE SET NULL,
    purpose              TEXT     NOT NULL DEFAULT 'attachment',
    type                 TEXT     NOT NULL,
    file_key             TEXT     NOT NULL DEFAULT '',
    original_name        TEXT     NOT NULL DEFAULT '',
    preview_name         TEXT     NOT NULL DEFAULT '',
    content_type         TEXT     NOT NULL DEFAULT '',
    preview_content_type TEXT     NOT NULL DEFAULT '',
    file_size            BIGINT   NOT NULL DEFAULT 0,
    width                BIGINT   NOT NULL DEFAULT 0,
    height               BIGINT   NOT NULL DEFAULT 0,
    preview_width        BIGINT   NOT NULL DEFAULT 0,
    preview_height       BIGINT   NOT NULL DEFAULT 0,
    blurhash             TEXT     NOT NULL DEFAULT '',
    description          TEXT     NOT NULL DEFAULT '',
    focus                TEXT     NOT NULL DEFAULT '',
    remote_url           TEXT     NOT NULL DEFAULT '',
    position             BIGINT   NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX media_attachments_status_id_position_idx ON media_attachments (status_id, position);
CREATE INDEX media_attachments_account_id_idx ON media_attachments (account_id);
CREATE UNIQUE INDEX media_attachments_file_key_key ON media_attachments (file_key) WHERE file_key <> '';
CREATE INDEX media_attachments_unattached_idx ON media_attachments (updated_at) WHERE status_id IS NULL;

-- +goose Down
DROP TABLE IF EXISTS media_attachments;
