-- Foundation: organizations, users, credentials, audit log.
-- PostgreSQL twin of the SQLite schema. Ids are UUID v7 text and timestamps RFC 3339 UTC text
-- with milliseconds, both in the "C" collation so that text order is byte (and time) order.

CREATE TABLE organizations (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE users (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name        TEXT COLLATE "C" NOT NULL,
    email       TEXT COLLATE "C" NOT NULL,
    email_key   TEXT COLLATE "C" NOT NULL,
    role_id     INTEGER NOT NULL,
    status_id   INTEGER NOT NULL,
    manager_id  TEXT COLLATE "C" REFERENCES users(id),
    last_login  TEXT COLLATE "C",
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    CONSTRAINT users_org_email_unique UNIQUE (org_id, email_key)
);
CREATE INDEX users_by_org ON users (org_id, id);

CREATE TABLE api_credentials (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id        TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name          TEXT COLLATE "C" NOT NULL,
    secret_hash   TEXT COLLATE "C" NOT NULL,
    access_level  TEXT COLLATE "C" NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    revoked_at    TEXT COLLATE "C"
);

CREATE TABLE user_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    name         TEXT COLLATE "C" NOT NULL,
    secret_hash  TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C"
);
CREATE INDEX user_tokens_by_user ON user_tokens (user_id);

CREATE TABLE audit_events (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    occurred_at  TEXT COLLATE "C" NOT NULL,
    actor_type   TEXT COLLATE "C" NOT NULL,
    actor_id     TEXT COLLATE "C",
    action       TEXT COLLATE "C" NOT NULL,
    target_type  TEXT COLLATE "C" NOT NULL,
    target_id    TEXT COLLATE "C",
    before_json  TEXT COLLATE "C",
    after_json   TEXT COLLATE "C",
    request_id   TEXT COLLATE "C"
);
CREATE INDEX audit_events_by_org ON audit_events (org_id, id);

-- The audit log is append-only, even for someone with SQL access to the database.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
