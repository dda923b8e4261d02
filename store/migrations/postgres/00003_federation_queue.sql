-- Durable job queue (federation/queue), PostgreSQL flavour: outgoing ActivityPub
-- deliveries and received activities waiting to be processed. Keep in step with
-- migrations/sqlite/00003_federation_queue.sql and with the models in
-- federation/queue/queue.go.
--
-- A job row lives from Enqueue until it succeeds (deleted) or is given up (moved to
-- queue_dead_letters). run_at is the one scheduling column: claiming a job pushes
-- run_at to the end of its lease, so "runnable" is simply run_at <= now, whether the
-- job is new, waiting for a retry, or was leased by a process that died.

-- +goose Up
CREATE TABLE queue_jobs (
    id           BIGINT PRIMARY KEY,
    kind         TEXT        NOT NULL,
    host         TEXT        NOT NULL DEFAULT '',
    payload      TEXT        NOT NULL DEFAULT '',
    dedupe_key   TEXT        NOT NULL DEFAULT '',
    attempts     BIGINT      NOT NULL DEFAULT 0,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
-- Enqueueing the same thing twice (one activity to one inbox) is a no-op while the
-- first copy is still queued.
CREATE UNIQUE INDEX queue_jobs_kind_dedupe_key_key ON queue_jobs (kind, dedupe_key) WHERE dedupe_key <> '';
-- The claim: runnable jobs in run_at order. kind and host are in the index so that
-- jobs of hosts skipped for fairness are passed over without reading their rows.
CREATE INDEX queue_jobs_run_at_kind_host_idx ON queue_jobs (run_at, kind, host);
-- Pausing a failing host reschedules its runnable jobs in one statement. host leads:
-- an index led by kind would tempt the planner away from the claim index above.
CREATE INDEX queue_jobs_host_kind_run_at_idx ON queue_jobs (host, kind, run_at);

-- Jobs given up on (permanent error, too many attempts, too old), kept for operators
-- for a retention period.
CREATE TABLE queue_dead_letters (
    id         BIGINT PRIMARY KEY,
    kind       TEXT        NOT NULL,
    host       TEXT        NOT NULL DEFAULT '',
    payload    TEXT        NOT NULL DEFAULT '',
    dedupe_key TEXT        NOT NULL DEFAULT '',
    attempts   BIGINT      NOT NULL DEFAULT 0,
    reason     TEXT        NOT NULL,
    last_error TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    died_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX queue_dead_letters_died_at_idx ON queue_dead_letters (died_at);

-- +goose Down
DROP TABLE IF EXISTS queue_dead_letters;
DROP TABLE IF EXISTS queue_jobs;
