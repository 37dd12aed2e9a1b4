-- API keys are stored as the SHA-256 of their secret part; the id is the public part of the key
-- and finds the row. scopes is space-separated; limits uses the class=rate syntax of
-- JARVIS_RATE_LIMITS; daily_quota 0 leaves the configured default.

-- +goose Up
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    limits      TEXT NOT NULL DEFAULT '',
    daily_quota BIGINT NOT NULL DEFAULT 0,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- One row per caller, operation and UTC day (YYYY-MM-DD). subject is the principal's Subject().

CREATE TABLE usage_daily (
    day         TEXT NOT NULL,
    subject     TEXT NOT NULL,
    operation   TEXT NOT NULL,
    method      TEXT NOT NULL,
    key_id      TEXT NOT NULL DEFAULT '',
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    calls       BIGINT NOT NULL DEFAULT 0,
    errors      BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, subject, operation)
);

CREATE INDEX usage_daily_by_key ON usage_daily (key_id, day);
