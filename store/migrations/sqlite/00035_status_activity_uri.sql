-- The id of the activity that brought a remote status (its Create). A board that
-- shares an idea or relays a reply embeds that activity under its own id, as Lemmy
-- does; servers that check the embedded activity fetch it by that id from its origin.

-- +goose Up
ALTER TABLE statuses ADD COLUMN activity_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE statuses DROP COLUMN activity_uri;
