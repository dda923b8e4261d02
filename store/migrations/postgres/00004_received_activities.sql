-- Activity ids received from peers, so that a replayed delivery is dropped. Rows older
-- than the replay window are pruned.

-- +goose Up
CREATE TABLE received_activities (
    uri TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX received_activities_received_at_idx ON received_activities (received_at);

-- +goose Down
DROP TABLE IF EXISTS received_activities;
