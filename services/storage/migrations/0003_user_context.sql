-- What Jarvis remembers of each user. Entries are trimmed to the newest 50 per user in the
-- same write that adds one; the counters keep the statistics whole regardless.

-- +goose Up
CREATE TABLE user_contexts (
    tenant        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    first_seen    BIGINT NOT NULL,
    last_active   BIGINT NOT NULL,
    total_actions BIGINT NOT NULL DEFAULT 0,
    ok_actions    BIGINT NOT NULL DEFAULT 0,
    preferences   TEXT,
    PRIMARY KEY (tenant, user_id)
);

CREATE INDEX user_contexts_by_activity ON user_contexts (last_active);

CREATE TABLE context_entries (
    tenant          TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    operation       TEXT NOT NULL,
    module          TEXT NOT NULL,
    params          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    job_id          TEXT,
    follow          TEXT,
    PRIMARY KEY (tenant, user_id, seq)
);

CREATE TABLE context_operation_counts (
    tenant    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    operation TEXT NOT NULL,
    module    TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id, operation)
);

CREATE TABLE context_sessions (
    tenant          TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    last_active     BIGINT NOT NULL,
    actions         INTEGER NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (tenant, user_id, conversation_id)
);
