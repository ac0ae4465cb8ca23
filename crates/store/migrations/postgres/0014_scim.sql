-- SCIM 2.0 directory sync. An identity provider authenticates with a per-organization bearer
-- token (only its SHA-256 is kept). Users keep what the provider said about them beside our own
-- columns: its externalId, the userName it uses (which may differ from the e-mail, e.g. an Entra
-- ID user principal name) and the rest of the SCIM resource as JSON, so that every attribute we
-- publish reads back as written. Groups the provider manages say so in `source`.

CREATE TABLE scim_tokens (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id        TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name          TEXT COLLATE "C" NOT NULL,
    secret_hash   TEXT COLLATE "C" NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    last_used_at  TEXT COLLATE "C",
    revoked_at    TEXT COLLATE "C"
);
CREATE INDEX scim_tokens_by_org ON scim_tokens (org_id, id);

ALTER TABLE users ADD COLUMN external_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN scim_user_name TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN scim_user_key TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN scim_attributes TEXT COLLATE "C";
-- Set when the provider deleted the user: they are deactivated and gone from SCIM (404), and
-- a later POST of the same person revives this record with its history.
ALTER TABLE users ADD COLUMN scim_removed_at TEXT COLLATE "C";
-- userName is unique in an organization: the provider's userName where it set one, else the e-mail.
CREATE UNIQUE INDEX users_by_scim_user_name ON users (org_id, (coalesce(scim_user_key, email_key)));
CREATE INDEX users_by_external_id ON users (org_id, external_id);

ALTER TABLE users_groups ADD COLUMN external_id TEXT COLLATE "C";
ALTER TABLE users_groups ADD COLUMN source TEXT COLLATE "C";
CREATE INDEX users_groups_by_external_id ON users_groups (org_id, external_id);
