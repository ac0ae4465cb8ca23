-- Web console sessions: the cookie holds a random session id, the table only its SHA-256.
-- A session ends when it is idle too long, at its absolute expiry, at sign-out, when the token it
-- was opened with is revoked, or when its user is deleted.

CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    token_id      TEXT NOT NULL REFERENCES user_tokens(id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (org_id, user_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
