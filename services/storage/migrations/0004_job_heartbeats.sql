-- A running job's worker writes heartbeat_at every few seconds and names itself in worker (its
-- River client id), so that a job whose process died is found by the stopped heartbeat, and at
-- once by the next process of the same instance, instead of by the age of its attempt.

-- +goose Up
ALTER TABLE jobs ADD COLUMN heartbeat_at BIGINT;

ALTER TABLE jobs ADD COLUMN worker TEXT;

CREATE INDEX jobs_running_by_heartbeat ON jobs (heartbeat_at) WHERE status = 'running';
