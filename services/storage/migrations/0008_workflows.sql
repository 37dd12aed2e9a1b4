-- Workflows of Jarvis's own operations. Each keeps who owns it as the principal its runs act
-- as: the API key's id, to be checked again at run time, or the method and scopes of the
-- credentials it was made with. next_run_at is set while it has a schedule.

-- +goose Up
CREATE TABLE workflows (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    steps        TEXT NOT NULL,
    schedule     TEXT,
    next_run_at  BIGINT,
    owner_key_id TEXT NOT NULL,
    owner_method TEXT NOT NULL,
    owner_scopes TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX workflows_by_owner ON workflows (tenant, user_id, id);
CREATE INDEX workflows_due ON workflows (next_run_at);
