-- Joiner, mover, leaver: the organization's settings for directory changes. The defaults match
-- an organization without a settings row.

ALTER TABLE organization_settings ADD COLUMN no_touch_onboarding BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organization_settings ADD COLUMN joiner_window_hours INTEGER NOT NULL DEFAULT 24;
ALTER TABLE organization_settings ADD COLUMN group_leave_action TEXT COLLATE "C" NOT NULL DEFAULT 'RemoveAccess';
ALTER TABLE organization_settings ADD COLUMN leaver_access_action TEXT COLLATE "C" NOT NULL DEFAULT 'RemoveAccess';
