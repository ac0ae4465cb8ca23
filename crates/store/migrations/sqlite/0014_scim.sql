-- SCIM 2.0 directory sync. An identity provider authenticates with a per-organization bearer
-- token (only its SHA-256 is kept). Users keep what the provider said about them beside our own
-- columns: its externalId, the userName it uses (which may differ from the e-mail, e.g. an Entra
-- ID user principal name) and the rest of the SCIM resource as JSON, so that every attribute we
-- publish reads back as written. Groups the provider manages say so in `source`.

CREATE TABLE scim_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX scim_tokens_by_org ON scim_tokens (org_id, id);

ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_user_name TEXT;
ALTER TABLE users ADD COLUMN scim_user_key TEXT;
ALTER TABLE users ADD COLUMN scim_attributes TEXT;
-- Set when the provider deleted the user: they are deactivated and gone from SCIM (404), and
-- a later POST of the same person revives this record with its history.
ALTER TABLE users ADD COLUMN scim_removed_at TEXT;
-- userName is unique in an organization: the provider's userName where it set one, else the e-mail.
CREATE UNIQUE INDEX users_by_scim_user_name ON users (org_id, (coalesce(scim_user_key, email_key)));
CREATE INDEX users_by_external_id ON users (org_id, external_id);

ALTER TABLE users_groups ADD COLUMN external_id TEXT;
ALTER TABLE users_groups ADD COLUMN source TEXT;
CREATE INDEX users_groups_by_external_id ON users_groups (org_id, external_id);
