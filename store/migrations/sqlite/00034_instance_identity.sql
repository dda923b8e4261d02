-- The host and protocol an instance was first started with. Every account id, key id
-- and ActivityPub address embeds them, so a process started with other values (an admin
-- command run without the server's TACIT_HOST, say) would mint ids that name another
-- server and break federation for good; Tacit compares and refuses instead.

-- +goose Up
CREATE TABLE instance_identity (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    host       TEXT NOT NULL,
    protocol   TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE instance_identity;
