-- An artist's data, owned per tenant and imported by the user (services/tenantdata). Each table's
-- primary key is the row's natural key within its tenant, so that importing a file again updates
-- rows instead of adding them. Days are UTC dates as 'YYYY-MM-DD' text (which sorts as dates do),
-- instants Unix milliseconds, and money whole millionths of the currency unit, so that sums are
-- exact on both databases.

-- +goose Up
CREATE TABLE platform_metrics (
    tenant         TEXT NOT NULL,
    day            TEXT NOT NULL,
    platform       TEXT NOT NULL,
    streams        BIGINT NOT NULL,
    listeners      BIGINT NOT NULL,
    followers      BIGINT NOT NULL,
    saves          BIGINT NOT NULL,
    revenue_micros BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    PRIMARY KEY (tenant, day, platform)
);

CREATE TABLE campaigns (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    budget_micros   BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    target_audience TEXT,
    start_day       TEXT NOT NULL,
    end_day         TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE campaign_results (
    tenant       TEXT NOT NULL,
    campaign_id  TEXT NOT NULL,
    day          TEXT NOT NULL,
    impressions  BIGINT NOT NULL,
    clicks       BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    spend_micros BIGINT NOT NULL,
    PRIMARY KEY (tenant, campaign_id, day)
);

CREATE INDEX campaign_results_by_day ON campaign_results (tenant, day);

CREATE TABLE listeners (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    plan       TEXT NOT NULL,
    country    TEXT,
    age_band   TEXT,
    first_seen TEXT NOT NULL,
    churned_at TEXT,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE listener_activity (
    tenant      TEXT NOT NULL,
    listener_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    sessions    BIGINT NOT NULL,
    minutes     DOUBLE PRECISION NOT NULL,
    tracks      BIGINT NOT NULL,
    PRIMARY KEY (tenant, listener_id, day)
);

CREATE TABLE feedback (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    rating      INTEGER,
    at          BIGINT NOT NULL,
    listener_id TEXT,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE competitors (
    tenant            TEXT NOT NULL,
    name              TEXT NOT NULL,
    day               TEXT NOT NULL,
    monthly_listeners BIGINT NOT NULL,
    PRIMARY KEY (tenant, name, day)
);

-- Which tenants hold the synthetic demo artist, so that answers computed from it can say so.
CREATE TABLE tenant_datasets (
    tenant    TEXT PRIMARY KEY,
    dataset   TEXT NOT NULL,
    seed      BIGINT,
    loaded_at BIGINT NOT NULL
);
