-- Work apps, their owners and permission levels, and users' accesses.

CREATE TABLE work_apps (
    id                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id             TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name               TEXT COLLATE "C" NOT NULL,
    name_key           TEXT COLLATE "C" NOT NULL,
    description        TEXT COLLATE "C" NOT NULL,
    status_id          INTEGER NOT NULL,
    provisioning_mode  TEXT COLLATE "C" NOT NULL,
    category           TEXT COLLATE "C" NOT NULL,
    url                TEXT COLLATE "C" NOT NULL,
    image_url          TEXT COLLATE "C" NOT NULL,
    tag_line           TEXT COLLATE "C" NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL,
    CONSTRAINT work_apps_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX work_apps_by_org ON work_apps (org_id, id);

CREATE TABLE work_app_owners (
    work_app_id  TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (work_app_id, user_id)
);

CREATE TABLE permission_levels (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    work_app_id    TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    name           TEXT COLLATE "C" NOT NULL,
    name_key       TEXT COLLATE "C" NOT NULL,
    description    TEXT COLLATE "C" NOT NULL,
    is_default     BOOLEAN NOT NULL,
    is_privileged  BOOLEAN NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    CONSTRAINT permission_levels_app_name_unique UNIQUE (work_app_id, name_key)
);
CREATE INDEX permission_levels_by_app ON permission_levels (work_app_id, id);

CREATE TABLE accesses (
    work_app_id          TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    user_id              TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    org_id               TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    permission_level_id  TEXT COLLATE "C" REFERENCES permission_levels(id),
    source               TEXT COLLATE "C" NOT NULL,
    granted_at           TEXT COLLATE "C" NOT NULL,
    updated_at           TEXT COLLATE "C" NOT NULL,
    expires_at           TEXT COLLATE "C",
    PRIMARY KEY (work_app_id, user_id)
);
CREATE INDEX accesses_by_user ON accesses (user_id);
CREATE INDEX accesses_expiring ON accesses (expires_at) WHERE expires_at IS NOT NULL;
