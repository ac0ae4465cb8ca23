-- Single sign-on (OpenID Connect).
-- Console sessions opened through the identity provider have no personal token: token_id becomes
-- optional (SQLite cannot drop NOT NULL in place, so the table is rebuilt, keeping its sessions).
CREATE TABLE console_sessions_sso (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    token_id      TEXT REFERENCES user_tokens(id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
INSERT INTO console_sessions_sso (id_hash, org_id, user_id, token_id, created_at, last_seen_at, expires_at)
    SELECT id_hash, org_id, user_id, token_id, created_at, last_seen_at, expires_at FROM console_sessions;
DROP TABLE console_sessions;
ALTER TABLE console_sessions_sso RENAME TO console_sessions;
CREATE INDEX console_sessions_by_user ON console_sessions (org_id, user_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- An organization's own sign-in settings: its identity provider (when it does not use the
-- server's), the client secret encrypted with the master key, and whether unknown people who
-- sign in there become users.
CREATE TABLE organization_sso (
    org_id                 TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    issuer                 TEXT,
    client_id              TEXT,
    client_secret_sealed   BLOB,
    allow_just_in_time     INTEGER NOT NULL DEFAULT 0,
    updated_at             TEXT NOT NULL
);
