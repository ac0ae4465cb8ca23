-- Directory profiles as the Flashback API shows them: first and last name apart, e-mail
-- validation and soft deletion as their own facts (status_id stays, written from them, so that
-- queries can still filter on it), and the organization's full profile.

ALTER TABLE users RENAME COLUMN name TO first_name;
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN validated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deleted_at TEXT;

-- One display name becomes first name + last name, split at its first space (joining them with
-- one space gives the old name back). Active and deactivated users had validated their account.
UPDATE users SET
    first_name = CASE WHEN instr(first_name, ' ') > 0
                      THEN substr(first_name, 1, instr(first_name, ' ') - 1) ELSE first_name END,
    last_name  = CASE WHEN instr(first_name, ' ') > 0
                      THEN ltrim(substr(first_name, instr(first_name, ' ') + 1)) ELSE '' END,
    validated  = CASE WHEN status_id = 2 THEN 0 ELSE 1 END,
    deleted_at = CASE WHEN status_id = 3 THEN updated_at ELSE NULL END;

ALTER TABLE organizations ADD COLUMN domain TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN address1 TEXT;
ALTER TABLE organizations ADD COLUMN address2 TEXT;
ALTER TABLE organizations ADD COLUMN city TEXT;
ALTER TABLE organizations ADD COLUMN zipcode TEXT;
ALTER TABLE organizations ADD COLUMN phone TEXT;
ALTER TABLE organizations ADD COLUMN state TEXT;
ALTER TABLE organizations ADD COLUMN country TEXT;
ALTER TABLE organizations ADD COLUMN website TEXT;
ALTER TABLE organizations ADD COLUMN repos_disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN is_business INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN mfa_enforced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN deleted_at TEXT;

-- An existing organization's domain is its first owner's e-mail domain.
UPDATE organizations SET domain = COALESCE((
    SELECT lower(substr(u.email, instr(u.email, '@') + 1)) FROM users u
    WHERE u.org_id = organizations.id AND u.role_id = 5
    ORDER BY u.created_at, u.id LIMIT 1), '');
