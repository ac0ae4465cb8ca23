-- The OAuth 2.1 authorization server for MCP clients (Claude, VS Code, the MCP SDKs).
-- Secrets, codes and tokens are stored as SHA-256 hashes only: a copy of these tables lets nobody
-- act for anyone.

-- Clients that registered themselves (RFC 7591). Not tied to an organization: the person who
-- consents decides whose data the client sees.
CREATE TABLE oauth_clients (
    id                          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name                        TEXT COLLATE "C" NOT NULL,
    redirect_uris               TEXT COLLATE "C" NOT NULL,
    grant_types                 TEXT COLLATE "C" NOT NULL,
    token_endpoint_auth_method  TEXT COLLATE "C" NOT NULL,
    secret_hash                 TEXT COLLATE "C",
    created_at                  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX oauth_clients_by_created ON oauth_clients (created_at);

-- One person's consent to one client: the scopes it may use, until revoked.
CREATE TABLE oauth_grants (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id        TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    client_id     TEXT COLLATE "C" NOT NULL REFERENCES oauth_clients(id),
    scopes        TEXT COLLATE "C" NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    last_used_at  TEXT COLLATE "C",
    revoked_at    TEXT COLLATE "C"
);
CREATE INDEX oauth_grants_by_user ON oauth_grants (org_id, user_id);
CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);

-- Authorization codes: ten minutes, one use (used_at is set once, atomically).
CREATE TABLE oauth_codes (
    code_hash       TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    grant_id        TEXT COLLATE "C" NOT NULL REFERENCES oauth_grants(id),
    redirect_uri    TEXT COLLATE "C" NOT NULL,
    code_challenge  TEXT COLLATE "C" NOT NULL,
    scopes          TEXT COLLATE "C" NOT NULL,
    expires_at      TEXT COLLATE "C" NOT NULL,
    used_at         TEXT COLLATE "C"
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- Access and refresh tokens of a grant; a refresh token's used_at is set when it is rotated.
CREATE TABLE oauth_tokens (
    token_hash  TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    grant_id    TEXT COLLATE "C" NOT NULL REFERENCES oauth_grants(id),
    kind        TEXT COLLATE "C" NOT NULL,
    scopes      TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    used_at     TEXT COLLATE "C"
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (expires_at);
