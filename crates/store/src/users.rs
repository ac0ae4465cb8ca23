use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::validate::email_key;
use portcullis_domain::{
    OrgRole, Organization, OrganizationSettings, Page, PageRequest, User, UserStatus,
};
use uuid::Uuid;

use crate::decode::{
    get_id, get_opt_id, get_opt_ts, get_ts, id, ids_arg, stored_id, stored_name, ts,
};
use crate::session::{Session, Writable};
use crate::sql::{contains_pattern, query, query_scalar, Db, Row};
use crate::StoreError;

pub(crate) const USER_COLUMNS: &str = "id, org_id, first_name, last_name, email, role_id, \
     validated, deleted_at, manager_id, last_login, created_at, updated_at";

const ORGANIZATION_COLUMNS: &str = "id, name, domain, address1, address2, city, zipcode, phone, \
     state, country, website, repos_disabled, is_business, mfa_enforced, deleted_at, created_at, \
     updated_at";

/// Reading users.
#[async_trait]
pub trait UserReads: Send {
    async fn get_organization(&mut self, org_id: Uuid) -> Result<Option<Organization>, StoreError>;
    /// The organization's governance settings (the defaults when it never changed them).
    async fn get_organization_settings(
        &mut self,
        org_id: Uuid,
    ) -> Result<OrganizationSettings, StoreError>;
    async fn get_user(&mut self, org_id: Uuid, user_id: Uuid) -> Result<Option<User>, StoreError>;
    async fn list_users(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Users whose name or e-mail contains `text` (case-insensitive), a page in id order.
    async fn search_users(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Does any organization exist (the first-run page is open only while none does)?
    async fn any_organization(&mut self) -> Result<bool, StoreError>;
    /// Users with this e-mail (case-insensitive) in any organization; for CLI tooling only.
    async fn find_users_by_email(&mut self, email: &str) -> Result<Vec<User>, StoreError>;
    /// The manager chain above `user_id` (its manager, that one's manager, …), at most `max` long.
    async fn manager_chain(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        max: usize,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Number of active users holding `role`.
    async fn count_active_with_role(
        &mut self,
        org_id: Uuid,
        role: OrgRole,
    ) -> Result<i64, StoreError>;
    /// The users among `ids` that exist in the organization.
    async fn get_users(&mut self, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>, StoreError>;
    /// Active ADMINISTRATOR and OWNER users: the fallback approvers.
    async fn active_admin_ids(&mut self, org_id: Uuid) -> Result<Vec<Uuid>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> UserReads for S {
    async fn get_organization(&mut self, org_id: Uuid) -> Result<Option<Organization>, StoreError> {
        let db = self.db();
        query(format!("SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1"))
            .bind(id(org_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_organization)
            .transpose()
    }

    async fn get_organization_settings(
        &mut self,
        org_id: Uuid,
    ) -> Result<OrganizationSettings, StoreError> {
        let db = self.db();
        let row = query(
            "SELECT allow_same_approver_for_multiple_steps, no_touch_onboarding,
                    joiner_window_hours, group_leave_action, leaver_access_action
             FROM organization_settings WHERE org_id = $1",
        )
        .bind(id(org_id))
        .fetch_optional(db)
        .await?;
        let Some(row) = row else { return Ok(OrganizationSettings::default()) };
        let group_leave: String = row.try_get("group_leave_action")?;
        let leaver: String = row.try_get("leaver_access_action")?;
        let hours: i32 = row.try_get("joiner_window_hours")?;
        Ok(OrganizationSettings {
            allow_same_approver_for_multiple_steps: row
                .try_get("allow_same_approver_for_multiple_steps")?,
            no_touch_onboarding: row.try_get("no_touch_onboarding")?,
            joiner_window_hours: i64::from(hours),
            group_leave_action: stored_name("group_leave_action", &group_leave)?,
            leaver_access_action: stored_name("leaver_access_action", &leaver)?,
        })
    }

    async fn get_user(&mut self, org_id: Uuid, user_id: Uuid) -> Result<Option<User>, StoreError> {
        let db = self.db();
        query(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2"))
            .bind(id(org_id))
            .bind(id(user_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_user)
            .transpose()
    }

    async fn list_users(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let db = self.db();
        // Text comparison of hyphenated lowercase UUIDs is the same order as their byte order.
        let rows = query(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let users = rows.iter().map(decode_user).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(users, page.limit, |u| u.id))
    }

    async fn search_users(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id > $2
               AND (lower(first_name || ' ' || last_name) LIKE $4 ESCAPE '\\'
                    OR lower(email) LIKE $4 ESCAPE '\\')
             ORDER BY id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .bind(contains_pattern(text))
        .fetch_all(db)
        .await?;
        let users = rows.iter().map(decode_user).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(users, page.limit, |u| u.id))
    }

    async fn any_organization(&mut self) -> Result<bool, StoreError> {
        let db = self.db();
        Ok(query("SELECT id FROM organizations LIMIT 1").fetch_optional(db).await?.is_some())
    }

    async fn find_users_by_email(&mut self, email: &str) -> Result<Vec<User>, StoreError> {
        let db = self.db();
        query(format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1 ORDER BY id"))
            .bind(email_key(email))
            .fetch_all(db)
            .await?
            .iter()
            .map(decode_user)
            .collect()
    }

    async fn manager_chain(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        max: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        let mut chain = Vec::new();
        let mut current = user_id;
        while chain.len() < max {
            let manager: Option<Option<String>> =
                query_scalar("SELECT manager_id FROM users WHERE org_id = $1 AND id = $2")
                    .bind(id(org_id))
                    .bind(id(current))
                    .fetch_optional(&mut *db)
                    .await?;
            let Some(Some(manager)) = manager else { break };
            let manager = Uuid::parse_str(&manager)
                .map_err(|e| StoreError::Corrupt(format!("manager_id: {e}")))?;
            if chain.contains(&manager) {
                break;
            }
            chain.push(manager);
            current = manager;
        }
        Ok(chain)
    }

    async fn count_active_with_role(
        &mut self,
        org_id: Uuid,
        role: OrgRole,
    ) -> Result<i64, StoreError> {
        let db = self.db();
        Ok(query_scalar(
            "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role_id = $2 AND status_id = $3",
        )
        .bind(id(org_id))
        .bind(role.id())
        .bind(UserStatus::Active.id())
        .fetch_one(db)
        .await?)
    }

    async fn get_users(&mut self, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        let db = self.db();
        let id_in = db.dialect().id_in("id", "$2", ids.len());
        query(format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND {id_in} ORDER BY id"))
            .bind(id(org_id))
            .bind(ids_arg(ids))
            .fetch_all(db)
            .await?
            .iter()
            .map(decode_user)
            .collect()
    }

    async fn active_admin_ids(&mut self, org_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        Ok(query_scalar::<Uuid>(
            "SELECT id FROM users WHERE org_id = $1 AND role_id >= $2 AND status_id = $3 ORDER BY id",
        )
        .bind(id(org_id))
        .bind(OrgRole::Administrator.id())
        .bind(UserStatus::Active.id())
        .fetch_all(db)
            .await?)
    }
}

/// Changing users.
#[async_trait]
pub trait UserWrites: Send {
    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError>;
    async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError>;
    async fn save_organization_settings(
        &mut self,
        org_id: Uuid,
        settings: &OrganizationSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Fails with [`StoreError::Conflict`] when the e-mail is taken in the organization.
    async fn insert_user(&mut self, user: &User) -> Result<(), StoreError>;
    /// Fails with [`StoreError::Conflict`] when the e-mail is taken in the organization.
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError>;
    async fn set_last_login(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> UserWrites for S {
    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        save_organization(self.db(), org).await
    }

    async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        save_organization(self.db(), org).await
    }

    async fn save_organization_settings(
        &mut self,
        org_id: Uuid,
        settings: &OrganizationSettings,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let hours = i32::try_from(settings.joiner_window_hours)
            .map_err(|_| StoreError::Corrupt("joiner_window_hours out of range".into()))?;
        query(
            "INSERT INTO organization_settings
                 (org_id, allow_same_approver_for_multiple_steps, updated_at, no_touch_onboarding,
                  joiner_window_hours, group_leave_action, leaver_access_action)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (org_id) DO UPDATE SET
                 allow_same_approver_for_multiple_steps = $2, updated_at = $3,
                 no_touch_onboarding = $4, joiner_window_hours = $5, group_leave_action = $6,
                 leaver_access_action = $7",
        )
        .bind(id(org_id))
        .bind(settings.allow_same_approver_for_multiple_steps)
        .bind(ts(at))
        .bind(settings.no_touch_onboarding)
        .bind(hours)
        .bind(settings.group_leave_action.name())
        .bind(settings.leaver_access_action.name())
        .execute(db)
        .await?;
        Ok(())
    }

    async fn insert_user(&mut self, user: &User) -> Result<(), StoreError> {
        save_user(self.db(), user).await
    }

    async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        save_user(self.db(), user).await
    }

    async fn set_last_login(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE users SET last_login = $1 WHERE org_id = $2 AND id = $3")
            .bind(ts(at))
            .bind(id(org_id))
            .bind(id(user_id))
            .execute(db)
            .await?;
        Ok(())
    }
}

pub(crate) fn decode_organization(row: &Row) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: get_id(row, "id")?,
        name: row.try_get("name")?,
        domain: row.try_get("domain")?,
        address1: row.try_get("address1")?,
        address2: row.try_get("address2")?,
        city: row.try_get("city")?,
        zipcode: row.try_get("zipcode")?,
        phone: row.try_get("phone")?,
        state: row.try_get("state")?,
        country: row.try_get("country")?,
        website: row.try_get("website")?,
        repos_disabled: row.try_get("repos_disabled")?,
        is_business: row.try_get("is_business")?,
        mfa_enforced: row.try_get("mfa_enforced")?,
        deleted_at: get_opt_ts(row, "deleted_at")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

/// Inserts the organization, or updates the one with its id (never its creation time).
async fn save_organization(db: &mut Db, org: &Organization) -> Result<(), StoreError> {
    query(
        "INSERT INTO organizations (id, name, domain, address1, address2, city, zipcode, phone,
                                    state, country, website, repos_disabled, is_business,
                                    mfa_enforced, deleted_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, domain = excluded.domain, address1 = excluded.address1,
             address2 = excluded.address2, city = excluded.city, zipcode = excluded.zipcode,
             phone = excluded.phone, state = excluded.state, country = excluded.country,
             website = excluded.website, repos_disabled = excluded.repos_disabled,
             is_business = excluded.is_business, mfa_enforced = excluded.mfa_enforced,
             deleted_at = excluded.deleted_at, updated_at = excluded.updated_at",
    )
    .bind(org.id)
    .bind(&org.name)
    .bind(&org.domain)
    .bind(org.address1.as_deref())
    .bind(org.address2.as_deref())
    .bind(org.city.as_deref())
    .bind(org.zipcode.as_deref())
    .bind(org.phone.as_deref())
    .bind(org.state.as_deref())
    .bind(org.country.as_deref())
    .bind(org.website.as_deref())
    .bind(org.repos_disabled)
    .bind(org.is_business)
    .bind(org.mfa_enforced)
    .bind(org.deleted_at)
    .bind(org.created_at)
    .bind(org.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The names under which a query returns a user's columns.
pub(crate) struct UserColumnNames {
    pub id: &'static str,
    pub org_id: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub role_id: &'static str,
    pub validated: &'static str,
    pub deleted_at: &'static str,
    pub manager_id: &'static str,
    pub last_login: &'static str,
    pub created_at: &'static str,
    pub updated_at: &'static str,
}

/// A user read with [`USER_COLUMNS`].
const PLAIN: UserColumnNames = UserColumnNames {
    id: "id",
    org_id: "org_id",
    first_name: "first_name",
    last_name: "last_name",
    email: "email",
    role_id: "role_id",
    validated: "validated",
    deleted_at: "deleted_at",
    manager_id: "manager_id",
    last_login: "last_login",
    created_at: "created_at",
    updated_at: "updated_at",
};

pub(crate) fn decode_user(row: &Row) -> Result<User, StoreError> {
    decode_user_as(row, &PLAIN)
}

/// A user whose columns a query returns under other names (joined with another table).
/// Fields are read in the order queries select them (`USER_COLUMNS`), so that each lookup by
/// name is one comparison.
pub(crate) fn decode_user_as(row: &Row, names: &UserColumnNames) -> Result<User, StoreError> {
    Ok(User {
        id: get_id(row, names.id)?,
        org_id: get_id(row, names.org_id)?,
        first_name: row.try_get(names.first_name)?,
        last_name: row.try_get(names.last_name)?,
        email: row.try_get(names.email)?,
        role: stored_id(names.role_id, row.try_get(names.role_id)?)?,
        validated: row.try_get(names.validated)?,
        deleted_at: get_opt_ts(row, names.deleted_at)?,
        manager_id: get_opt_id(row, names.manager_id)?,
        last_login: get_opt_ts(row, names.last_login)?,
        created_at: get_ts(row, names.created_at)?,
        updated_at: get_ts(row, names.updated_at)?,
    })
}

/// Inserts the user, or updates the one with its id (never its organization, creation time or
/// last login): one column list and one bind list for both. `status_id` is written from the
/// validation and deletion facts so that queries can filter on it.
async fn save_user(db: &mut Db, user: &User) -> Result<(), StoreError> {
    query(
        "INSERT INTO users (id, org_id, first_name, last_name, email, email_key, role_id,
                            status_id, validated, deleted_at, manager_id, last_login, created_at,
                            updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO UPDATE SET
             first_name = excluded.first_name, last_name = excluded.last_name,
             email = excluded.email, email_key = excluded.email_key,
             role_id = excluded.role_id, status_id = excluded.status_id,
             validated = excluded.validated, deleted_at = excluded.deleted_at,
             manager_id = excluded.manager_id, updated_at = excluded.updated_at
         WHERE users.org_id = excluded.org_id",
    )
    .bind(user.id)
    .bind(user.org_id)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.email)
    .bind(email_key(&user.email))
    .bind(user.role.id())
    .bind(user.status().id())
    .bind(user.validated)
    .bind(user.deleted_at)
    .bind(user.manager_id)
    .bind(user.last_login)
    .bind(user.created_at)
    .bind(user.updated_at)
    .execute(db)
    .await?;
    Ok(())
}
