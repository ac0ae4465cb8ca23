-- Joiner, mover, leaver: the organization's settings for directory changes. The defaults match
-- an organization without a settings row.

ALTER TABLE organization_settings ADD COLUMN no_touch_onboarding INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organization_settings ADD COLUMN joiner_window_hours INTEGER NOT NULL DEFAULT 24;
ALTER TABLE organization_settings ADD COLUMN group_leave_action TEXT NOT NULL DEFAULT 'RemoveAccess';
ALTER TABLE organization_settings ADD COLUMN leaver_access_action TEXT NOT NULL DEFAULT 'RemoveAccess';
