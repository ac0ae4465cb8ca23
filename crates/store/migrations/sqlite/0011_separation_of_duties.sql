-- Separation of duties: why a task opened without an assignee, the user an actor named as acting
-- for (kept next to the real actor in the audit log), and the organization's governance settings.

ALTER TABLE tasks ADD COLUMN unassigned_reason TEXT;

ALTER TABLE audit_events ADD COLUMN on_behalf_of_user_id TEXT;

-- One row per organization that changed a setting; no row means the defaults.
CREATE TABLE organization_settings (
    org_id                                  TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id),
    allow_same_approver_for_multiple_steps  INTEGER NOT NULL DEFAULT 0,
    updated_at                              TEXT NOT NULL
);
