-- User groups' default work apps (granted to members) and hidden work apps.

CREATE TABLE group_default_work_apps (
    group_id             TEXT COLLATE "C" NOT NULL REFERENCES users_groups(id) ON DELETE CASCADE,
    work_app_id          TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    permission_level_id  TEXT COLLATE "C" REFERENCES permission_levels(id),
    org_id               TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (group_id, work_app_id)
);
CREATE INDEX group_default_work_apps_by_app ON group_default_work_apps (work_app_id);

CREATE TABLE group_hidden_work_apps (
    group_id     TEXT COLLATE "C" NOT NULL REFERENCES users_groups(id) ON DELETE CASCADE,
    work_app_id  TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (group_id, work_app_id)
);
CREATE INDEX group_hidden_work_apps_by_app ON group_hidden_work_apps (work_app_id);
