-- Campaigns managed through the marketing module: a version for optimistic concurrency, the
-- revenue each day's results attribute to the campaign (for return on ad spend), and the record
-- of every change with who made it.

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
