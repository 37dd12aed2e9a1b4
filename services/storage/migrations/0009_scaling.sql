-- The limits of Jarvis's own pools (job workers, concurrent analyses, in-flight requests,
-- database connections), shared by every replica of one database: each replica applies the
-- row's limit to itself, and a change bumps version so that the others notice it.

-- +goose Up
CREATE TABLE scaling_limits (
    pool        TEXT PRIMARY KEY,
    slots       INTEGER NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

-- Every change: who made it, when, from what to what and why.
CREATE TABLE scaling_changes (
    id          TEXT PRIMARY KEY,
    pool        TEXT NOT NULL,
    from_slots  INTEGER NOT NULL,
    to_slots    INTEGER NOT NULL,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE INDEX scaling_changes_by_pool ON scaling_changes (pool, at);

-- What auto-optimize recommended, kept for the stabilisation window: a scale-down goes no
-- lower than the highest recommendation within it.
CREATE TABLE scaling_recommendations (
    pool        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    slots       INTEGER NOT NULL
);

CREATE INDEX scaling_recommendations_by_pool ON scaling_recommendations (pool, at);

-- The queue depth of each job type, read by the scaling status.
CREATE INDEX jobs_queued_by_type ON jobs (type) WHERE status = 'queued';
