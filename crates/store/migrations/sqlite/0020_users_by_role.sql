-- The organization's active administrators (the fallback approvers, read by every request that
-- opens a task) and the count of active owners: an index on status and role instead of a walk
-- over every user of the organization.
CREATE INDEX users_by_status_role ON users (org_id, status_id, role_id);
