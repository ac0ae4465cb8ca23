-- Directory profiles as the Flashback API shows them: first and last name apart, e-mail
-- validation and soft deletion as their own facts (status_id stays, written from them, so that
-- queries can still filter on it), and the organization's full profile.

ALTER TABLE users RENAME COLUMN name TO first_name;
ALTER TABLE users ADD COLUMN last_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN validated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN deleted_at TEXT COLLATE "C";

-- One display name becomes first name + last name, split at its first space (joining them with
-- one space gives the old name back). Active and deactivated users had validated their account.
UPDATE users SET
    first_name = CASE WHEN strpos(first_name, ' ') > 0
                      THEN substr(first_name, 1, strpos(first_name, ' ') - 1) ELSE first_name END,
    last_name  = CASE WHEN strpos(first_name, ' ') > 0
                      THEN ltrim(substr(first_name, strpos(first_name, ' ') + 1)) ELSE '' END,
    validated  = (status_id <> 2),
    deleted_at = CASE WHEN status_id = 3 THEN updated_at ELSE NULL END;

ALTER TABLE organizations ADD COLUMN domain TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN address1 TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN address2 TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN city TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN zipcode TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN phone TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN state TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN country TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN website TEXT COLLATE "C";
ALTER TABLE organizations ADD COLUMN repos_disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN is_business BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN mfa_enforced BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN deleted_at TEXT COLLATE "C";

-- An existing organization's domain is its first owner's e-mail domain.
UPDATE organizations SET domain = COALESCE((
    SELECT lower(substr(u.email, strpos(u.email, '@') + 1)) FROM users u
    WHERE u.org_id = organizations.id AND u.role_id = 5
    ORDER BY u.created_at, u.id LIMIT 1), '');
