-- Governance: user groups (policies can name them), policies with versions, policy assignments,
-- requests and their tasks.

CREATE TABLE users_groups (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name         TEXT COLLATE "C" NOT NULL,
    name_key     TEXT COLLATE "C" NOT NULL,
    description  TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL,
    CONSTRAINT users_groups_org_name_unique UNIQUE (org_id, name_key)
);
CREATE INDEX users_groups_by_org ON users_groups (org_id, id);

CREATE TABLE users_group_members (
    group_id  TEXT COLLATE "C" NOT NULL REFERENCES users_groups(id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    org_id    TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    added_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX users_group_members_by_user ON users_group_members (user_id);

CREATE TABLE policies (
    id               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name             TEXT COLLATE "C" NOT NULL,
    request_type     TEXT COLLATE "C" NOT NULL,
    current_version  INTEGER NOT NULL,
    is_system        BOOLEAN NOT NULL,
    is_default       BOOLEAN NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    updated_at       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX policies_by_org ON policies (org_id, id);
CREATE UNIQUE INDEX policies_one_default ON policies (org_id, request_type) WHERE is_default;

CREATE TABLE policy_versions (
    policy_id   TEXT COLLATE "C" NOT NULL REFERENCES policies(id),
    version     INTEGER NOT NULL,
    steps_json  TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (policy_id, version)
);

CREATE TABLE work_app_policies (
    work_app_id   TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    request_type  TEXT COLLATE "C" NOT NULL,
    policy_id     TEXT COLLATE "C" NOT NULL REFERENCES policies(id),
    org_id        TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (work_app_id, request_type)
);

CREATE TABLE permission_level_policies (
    permission_level_id  TEXT COLLATE "C" NOT NULL REFERENCES permission_levels(id),
    request_type         TEXT COLLATE "C" NOT NULL,
    policy_id            TEXT COLLATE "C" NOT NULL REFERENCES policies(id),
    org_id               TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (permission_level_id, request_type)
);

CREATE TABLE requests (
    id                    TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id                TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    request_type          TEXT COLLATE "C" NOT NULL,
    work_app_id           TEXT COLLATE "C" NOT NULL REFERENCES work_apps(id),
    target_user_id        TEXT COLLATE "C" REFERENCES users(id),
    permission_level_id   TEXT COLLATE "C" REFERENCES permission_levels(id),
    created_by_user_id    TEXT COLLATE "C" REFERENCES users(id),
    justification         TEXT COLLATE "C" NOT NULL,
    expires_at            TEXT COLLATE "C",
    status                TEXT COLLATE "C" NOT NULL,
    policy_id             TEXT COLLATE "C" NOT NULL REFERENCES policies(id),
    policy_version        INTEGER NOT NULL,
    step_count            INTEGER NOT NULL,
    cancelled_by_user_id  TEXT COLLATE "C" REFERENCES users(id),
    source_group_id       TEXT COLLATE "C" REFERENCES users_groups(id) ON DELETE SET NULL,
    created_at            TEXT COLLATE "C" NOT NULL,
    updated_at            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX requests_by_org ON requests (org_id, id);
CREATE INDEX requests_by_policy ON requests (policy_id, policy_version);
-- At most one open request per (work app, target user): the database itself refuses a second.
CREATE UNIQUE INDEX requests_one_open ON requests (work_app_id, COALESCE(target_user_id, ''))
    WHERE status IN ('Pending', 'Approved');

CREATE TABLE tasks (
    id                  TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    request_id          TEXT COLLATE "C" NOT NULL REFERENCES requests(id),
    kind                TEXT COLLATE "C" NOT NULL,
    status              TEXT COLLATE "C" NOT NULL,
    step                INTEGER NOT NULL,
    decided_by_user_id  TEXT COLLATE "C" REFERENCES users(id),
    decided_at          TEXT COLLATE "C",
    comment             TEXT COLLATE "C",
    created_at          TEXT COLLATE "C" NOT NULL,
    updated_at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX tasks_by_org ON tasks (org_id, id);
CREATE INDEX tasks_by_request ON tasks (request_id);

CREATE TABLE task_assignees (
    task_id   TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    org_id    TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX task_assignees_by_user ON task_assignees (user_id, task_id);
