-- Work apps, their owners and permission levels, and users' accesses.

CREATE TABLE work_apps (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organizations(id),
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,
    description        TEXT NOT NULL,
    status_id          INTEGER NOT NULL,
    provisioning_mode  TEXT NOT NULL,
    category           TEXT NOT NULL,
    url                TEXT NOT NULL,
    image_url          TEXT NOT NULL,
    tag_line           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CONSTRAINT work_apps_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX work_apps_by_org ON work_apps (org_id, id);

CREATE TABLE work_app_owners (
    work_app_id  TEXT NOT NULL REFERENCES work_apps(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (work_app_id, user_id)
);

CREATE TABLE permission_levels (
    id             TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    work_app_id    TEXT NOT NULL REFERENCES work_apps(id),
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    description    TEXT NOT NULL,
    is_default     INTEGER NOT NULL,
    is_privileged  INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    CONSTRAINT permission_levels_app_name_unique UNIQUE (work_app_id, name_key)
);
CREATE INDEX permission_levels_by_app ON permission_levels (work_app_id, id);

CREATE TABLE accesses (
    work_app_id          TEXT NOT NULL REFERENCES work_apps(id),
    user_id              TEXT NOT NULL REFERENCES users(id),
    org_id               TEXT NOT NULL REFERENCES organizations(id),
    permission_level_id  TEXT REFERENCES permission_levels(id),
    source               TEXT NOT NULL,
    granted_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    expires_at           TEXT,
    PRIMARY KEY (work_app_id, user_id)
) WITHOUT ROWID;
CREATE INDEX accesses_by_user ON accesses (user_id);
CREATE INDEX accesses_expiring ON accesses (expires_at) WHERE expires_at IS NOT NULL;
