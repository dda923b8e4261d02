-- The instance's settings as its admins edited them on the admin page. Until the
-- first save there is no row and the configuration file's values apply; once saved,
-- the row overrides them. rules is a JSON list of strings.

-- +goose Up
CREATE TABLE instance_settings (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    rules         TEXT NOT NULL,
    default_scope TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE instance_settings;
