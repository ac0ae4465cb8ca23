-- Workspaces (soft-deleted) and their members' roles.

CREATE TABLE workspaces (
    id                  TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    name                TEXT COLLATE "C" NOT NULL,
    created_by_user_id  TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    created_at          TEXT COLLATE "C" NOT NULL,
    updated_at          TEXT COLLATE "C" NOT NULL,
    deleted_at          TEXT COLLATE "C"
);
CREATE INDEX workspaces_by_org ON workspaces (org_id, id);

CREATE TABLE workspace_members (
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    org_id        TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    role          TEXT COLLATE "C" NOT NULL,
    added_at      TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members (user_id);
