-- Single sign-on (OpenID Connect).
-- Console sessions opened through the identity provider have no personal token.
ALTER TABLE console_sessions ALTER COLUMN token_id DROP NOT NULL;

-- An organization's own sign-in settings: its identity provider (when it does not use the
-- server's), the client secret encrypted with the master key, and whether unknown people who
-- sign in there become users.
CREATE TABLE organization_sso (
    org_id                 TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    issuer                 TEXT,
    client_id              TEXT,
    client_secret_sealed   BYTEA,
    allow_just_in_time     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at             TEXT NOT NULL
);
