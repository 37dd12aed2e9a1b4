-- Jarvis as its own OAuth 2.1 authorization server. Secrets (passwords, client secrets, codes,
-- refresh tokens, sessions) are stored only as hashes; times are Unix milliseconds.

-- Users who sign in on the login page; password_hash is an argon2id PHC string, empty until a
-- one-time login link sets it.
-- +goose Up
CREATE TABLE oauth_users (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    scopes        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE UNIQUE INDEX oauth_users_by_email ON oauth_users (email);

-- A one-time login link: the SHA-256 of its secret, used at most once before it expires.
CREATE TABLE oauth_login_links (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Clients registered by the CLI (static) or by dynamic registration. redirect_uris is a JSON
-- array; secret_hash is empty for public clients.
CREATE TABLE oauth_clients (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    auth_method  TEXT NOT NULL,
    secret_hash  TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL DEFAULT '',
    origin       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A signed-in browser: the SHA-256 of the session cookie's value.
CREATE TABLE oauth_sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- An authorization request waiting for login and consent, by a random id the pages carry.
CREATE TABLE oauth_requests (
    id         TEXT PRIMARY KEY,
    params     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What a user approved for a client: the scope set (sorted, space-separated) and resource.
CREATE TABLE oauth_consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id, scopes, resource)
);

-- A grant is what one authorization code started: every refresh and access token descends from
-- it, and revoking it ends them all.
CREATE TABLE oauth_grants (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    client_name TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX oauth_grants_by_user ON oauth_grants (user_id, created_at);

-- Authorization codes, single use; grant_id is set when the code is exchanged, so that a reused
-- code can revoke what it issued.
CREATE TABLE oauth_codes (
    hash           TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    resource       TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    grant_id       TEXT
);

-- Refresh tokens, rotated on use: a used one presented again is a replay and revokes its grant.
CREATE TABLE oauth_refresh_tokens (
    hash       TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX oauth_refresh_by_grant ON oauth_refresh_tokens (grant_id);
