-- The job a keyed request started, recorded in the transaction that creates the job, so that a
-- retry of the request (after a crash, or while the job runs) answers that job instead of
-- being refused or starting another.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN job_id TEXT;
