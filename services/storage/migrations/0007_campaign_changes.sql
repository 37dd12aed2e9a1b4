-- Campaigns managed through the marketing module: a version for optimistic concurrency, the
-- revenue each day's results attribute to the campaign (for return on ad spend), and the record
-- of every change with who made it.

-- +goose Up
ALTER TABLE campaigns ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

ALTER TABLE campaign_results ADD COLUMN revenue_micros BIGINT NOT NULL DEFAULT 0;

CREATE TABLE campaign_changes (
    tenant      TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    version     BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    reason      TEXT,
    changes     TEXT NOT NULL,
    PRIMARY KEY (tenant, campaign_id, version)
);

-- manageCampaigns lists a tenant's campaigns newest first.
CREATE INDEX campaigns_by_created ON campaigns (tenant, created_at, id);

-- Running sums of each platform's daily metrics, and the daily totals of all platforms, rebuilt
-- from platform_metrics when first read after an import of metrics changed them (tenantdata).
-- A period's sums are then the difference of two rows, read by key, instead of a scan of its
-- days; imports stay as fast as without them.
CREATE TABLE metric_sums (
    tenant         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    platform       TEXT NOT NULL,
    day            TEXT NOT NULL,
    days           BIGINT NOT NULL,
    streams        BIGINT NOT NULL,
    listeners      BIGINT NOT NULL,
    saves          BIGINT NOT NULL,
    revenue_micros BIGINT NOT NULL,
    followers      BIGINT NOT NULL,
    PRIMARY KEY (tenant, currency, platform, day)
);

CREATE TABLE metric_days (
    tenant         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    day            TEXT NOT NULL,
    ordinal        BIGINT NOT NULL,
    streams        BIGINT NOT NULL,
    listeners      BIGINT NOT NULL,
    followers      BIGINT NOT NULL,
    saves          BIGINT NOT NULL,
    revenue_micros BIGINT NOT NULL,
    PRIMARY KEY (tenant, currency, day)
);

-- Tenants whose metric_sums and metric_days are older than their platform_metrics.
CREATE TABLE metric_sums_stale (
    tenant TEXT PRIMARY KEY
);
