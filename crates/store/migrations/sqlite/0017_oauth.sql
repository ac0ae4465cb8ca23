-- The OAuth 2.1 authorization server for MCP clients (Claude, VS Code, the MCP SDKs).
-- Secrets, codes and tokens are stored as SHA-256 hashes only: a copy of these tables lets nobody
-- act for anyone.

-- Clients that registered themselves (RFC 7591). Not tied to an organization: the person who
-- consents decides whose data the client sees.
CREATE TABLE oauth_clients (
    id                          TEXT PRIMARY KEY NOT NULL,
    name                        TEXT NOT NULL,
    redirect_uris               TEXT NOT NULL,
    grant_types                 TEXT NOT NULL,
    token_endpoint_auth_method  TEXT NOT NULL,
    secret_hash                 TEXT,
    created_at                  TEXT NOT NULL
);
CREATE INDEX oauth_clients_by_created ON oauth_clients (created_at);

-- One person's consent to one client: the scopes it may use, until revoked.
CREATE TABLE oauth_grants (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    client_id     TEXT NOT NULL REFERENCES oauth_clients(id),
    scopes        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX oauth_grants_by_user ON oauth_grants (org_id, user_id);
CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);

-- Authorization codes: ten minutes, one use (used_at is set once, atomically).
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY NOT NULL,
    grant_id        TEXT NOT NULL REFERENCES oauth_grants(id),
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- Access and refresh tokens of a grant; a refresh token's used_at is set when it is rotated.
CREATE TABLE oauth_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    grant_id    TEXT NOT NULL REFERENCES oauth_grants(id),
    kind        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (expires_at);
