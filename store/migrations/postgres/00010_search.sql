-- Expertise search: the topics a person declares, and indexes that let the search
-- index catch up with rows changed while it was not listening (a crash, another
-- process such as an admin command).

-- +goose Up
ALTER TABLE accounts ADD COLUMN expertise TEXT NOT NULL DEFAULT '[]';
CREATE INDEX accounts_updated_at_idx ON accounts (updated_at);
CREATE INDEX statuses_updated_at_idx ON statuses (updated_at);
CREATE INDEX tags_created_at_idx ON tags (created_at);

-- +goose Down
DROP INDEX IF EXISTS tags_created_at_idx;
DROP INDEX IF EXISTS statuses_updated_at_idx;
DROP INDEX IF EXISTS accounts_updated_at_idx;
ALTER TABLE accounts DROP COLUMN expertise;
