//! Work apps, their permission levels and users' accesses, and the bulk-grant rule.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::validate;

/// Most entries accepted by one bulk grant.
pub const MAX_BULK_GRANT: usize = 10_000;
/// Most owners a work app may have.
pub const MAX_APP_OWNERS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkApp {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: String,
    pub status: WorkAppStatus,
    pub provisioning_mode: ProvisioningMode,
    pub category: String,
    pub url: String,
    pub image_url: String,
    pub tag_line: String,
    pub owner_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The category of an app created without one.
pub const DEFAULT_CATEGORY: &str = "CATEGORY_OTHER";

/// A work app to create. Owners are checked against the directory by the caller.
#[derive(Debug, Clone, Default)]
pub struct NewWorkApp {
    pub name: String,
    pub description: Option<String>,
    pub owner_ids: Vec<Uuid>,
    pub provisioning_mode: Option<ProvisioningMode>,
    pub status: Option<WorkAppStatus>,
    pub category: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tag_line: Option<String>,
}

impl NewWorkApp {
    /// The app, validated, with the defaults filled in (Managed, Manual, the default category)
    /// and no owners yet.
    pub fn build(
        &self,
        id: Uuid,
        org_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<WorkApp, crate::DomainError> {
        let category = validate::text("categoryName", self.category.as_deref())?;
        Ok(WorkApp {
            id,
            org_id,
            name: validate::name("name", &self.name)?,
            description: validate::text("description", self.description.as_deref())?,
            status: self.status.unwrap_or(WorkAppStatus::Managed),
            provisioning_mode: self.provisioning_mode.unwrap_or(ProvisioningMode::Manual),
            category: if category.is_empty() { DEFAULT_CATEGORY.into() } else { category },
            url: validate::text("url", self.url.as_deref())?,
            image_url: validate::text("imageUrl", self.image_url.as_deref())?,
            tag_line: validate::text("tagLine", self.tag_line.as_deref())?,
            owner_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        })
    }
}

/// Changes to a work app; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct WorkAppPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_ids: Option<Vec<Uuid>>,
    pub provisioning_mode: Option<ProvisioningMode>,
    pub status: Option<WorkAppStatus>,
    pub category: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tag_line: Option<String>,
}

impl WorkAppPatch {
    /// Validates and applies every field but the owners (the caller checks those against the
    /// directory).
    pub fn apply(&self, app: &mut WorkApp) -> Result<(), crate::DomainError> {
        if let Some(name) = &self.name {
            app.name = validate::name("name", name)?;
        }
        if let Some(d) = &self.description {
            app.description = validate::text("description", Some(d))?;
        }
        if let Some(c) = &self.category {
            app.category = validate::text("categoryName", Some(c))?;
        }
        if let Some(u) = &self.url {
            app.url = validate::text("url", Some(u))?;
        }
        if let Some(u) = &self.image_url {
            app.image_url = validate::text("imageUrl", Some(u))?;
        }
        if let Some(t) = &self.tag_line {
            app.tag_line = validate::text("tagLine", Some(t))?;
        }
        if let Some(mode) = self.provisioning_mode {
            app.provisioning_mode = mode;
        }
        if let Some(status) = self.status {
            app.status = status;
        }
        Ok(())
    }
}

crate::wire_enum! {
    /// The id is Cakewalk's `statusId`.
    pub enum WorkAppStatus: "work app status", case_insensitive {
        Managed = 1 => "Managed",
        Unmanaged = 2 => "Unmanaged",
        Archived = 3 => "Archived",
    }
}

crate::wire_enum! {
    /// How an approved change reaches the app: by a person (Manual) or at once (Automatic).
    pub enum ProvisioningMode: "provisioningMode", exact {
        Manual = 1 => "Manual",
        Automatic = 2 => "Automatic",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionLevel {
    pub id: Uuid,
    pub org_id: Uuid,
    pub work_app_id: Uuid,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub is_privileged: bool,
    pub created_at: DateTime<Utc>,
}

crate::wire_enum! {
    /// Why a user holds an access.
    pub enum AccessSource: "access source", exact {
        /// Recorded directly (bulk grant).
        Direct = 1 => "Direct",
        /// Granted through a group's default work apps.
        Group = 2 => "Group",
        /// Granted by an approved request.
        Request = 3 => "Request",
    }
}

/// A user holds a work app, at a permission level when the app has levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub work_app_id: Uuid,
    pub permission_level_id: Option<Uuid>,
    pub source: AccessSource,
    pub granted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Access {
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// An access with the user and level it refers to, as listed under a work app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDetail {
    pub access: Access,
    pub user: crate::User,
    pub level: Option<PermissionLevel>,
}

/// One of a user's accesses, with the names a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub access: Access,
    pub app_name: String,
    pub level_name: Option<String>,
}

/// One entry of a bulk grant, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantEntry {
    pub work_app_id: Uuid,
    pub user_id: Uuid,
    pub permission_level_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the store knows about the ids a bulk grant mentions (all within the organization).
#[derive(Debug, Default, Clone)]
pub struct GrantFacts {
    /// Apps that exist → (has at least one permission level, is archived).
    pub apps: HashMap<Uuid, AppFacts>,
    pub users: HashSet<Uuid>,
    /// Levels that exist → their app.
    pub levels: HashMap<Uuid, Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppFacts {
    pub has_levels: bool,
    pub archived: bool,
}

/// A bulk grant refused: which entry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    /// Empty or oversized batch (400).
    BadBatch(String),
    /// An entry names an app, user or level that does not exist here (404).
    NotFound(String),
    /// An entry breaks a permission-level rule (400).
    Invalid(String),
    /// An entry targets an archived app (409).
    Archived(String),
}

/// The app and permission-level rules of a grant, for entry `i`: the app exists and is not
/// archived; an app with levels needs one of its own levels; an app without levels takes none.
pub fn check_app_and_level(
    i: usize,
    app_id: Uuid,
    level_id: Option<Uuid>,
    facts: &GrantFacts,
) -> Result<(), GrantError> {
    let at = |msg: String| format!("data[{i}]: {msg}");
    let app = facts
        .apps
        .get(&app_id)
        .ok_or_else(|| GrantError::NotFound(at(format!("work app {app_id} not found"))))?;
    if app.archived {
        return Err(GrantError::Archived(at(format!("work app {app_id} is archived"))));
    }
    match (level_id, app.has_levels) {
        (None, true) => Err(GrantError::Invalid(at(format!(
            "permissionLevelId is required: work app {app_id} has permission levels"
        )))),
        (Some(level), false) if facts.levels.contains_key(&level) => Err(GrantError::Invalid(at(
            format!("work app {app_id} has no permission levels; omit permissionLevelId"),
        ))),
        (Some(level), false) => {
            Err(GrantError::NotFound(at(format!("permission level {level} not found"))))
        }
        (Some(level), true) if facts.levels.get(&level) != Some(&app_id) => {
            Err(GrantError::NotFound(at(format!(
                "permission level {level} not found for work app {app_id}"
            ))))
        }
        _ => Ok(()),
    }
}

/// A bulk grant holds 1..=[`MAX_BULK_GRANT`] entries.
pub fn check_batch_size(len: usize) -> Result<(), GrantError> {
    if len == 0 {
        return Err(GrantError::BadBatch("data must contain at least one entry".into()));
    }
    if len > MAX_BULK_GRANT {
        return Err(GrantError::BadBatch(format!(
            "data may contain at most {MAX_BULK_GRANT} entries (got {len})"
        )));
    }
    Ok(())
}

/// Validates every entry against the facts and returns the rows to upsert, one per (user, app).
///
/// Nothing is written unless every entry is valid; the first invalid entry (in request order)
/// is reported. Duplicates of the same (user, app) collapse: the last entry wins.
pub fn plan_bulk_grant(
    entries: &[GrantEntry],
    facts: &GrantFacts,
    now: DateTime<Utc>,
) -> Result<Vec<GrantEntry>, GrantError> {
    check_batch_size(entries.len())?;
    let mut position: HashMap<(Uuid, Uuid), usize> = HashMap::with_capacity(entries.len());
    let mut rows: Vec<GrantEntry> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |msg: String| format!("data[{i}]: {msg}");
        if !facts.apps.contains_key(&entry.work_app_id) {
            return Err(GrantError::NotFound(at(format!(
                "work app {} not found",
                entry.work_app_id
            ))));
        }
        if !facts.users.contains(&entry.user_id) {
            return Err(GrantError::NotFound(at(format!("user {} not found", entry.user_id))));
        }
        check_app_and_level(i, entry.work_app_id, entry.permission_level_id, facts)?;
        if entry.expires_at.is_some_and(|exp| exp <= now) {
            return Err(GrantError::Invalid(at("expiresAt must be in the future".into())));
        }
        match position.get(&(entry.user_id, entry.work_app_id)) {
            Some(&existing) => rows[existing] = *entry,
            None => {
                position.insert((entry.user_id, entry.work_app_id), rows.len());
                rows.push(*entry);
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Apps 1 (levels 11, 12) and 2 (no levels), 3 archived; users 100..110.
    fn facts() -> GrantFacts {
        let mut f = GrantFacts::default();
        f.apps.insert(id(1), AppFacts { has_levels: true, archived: false });
        f.apps.insert(id(2), AppFacts { has_levels: false, archived: false });
        f.apps.insert(id(3), AppFacts { has_levels: false, archived: true });
        f.levels.insert(id(11), id(1));
        f.levels.insert(id(12), id(1));
        f.users.extend((100..110).map(id));
        f
    }

    fn entry(app: u128, user: u128, level: Option<u128>) -> GrantEntry {
        GrantEntry {
            work_app_id: id(app),
            user_id: id(user),
            permission_level_id: level.map(id),
            expires_at: None,
        }
    }

    #[test]
    fn each_rule_of_the_seed_maps_to_its_error() {
        let now = Utc::now();
        let f = facts();
        let check = |e: GrantEntry| plan_bulk_grant(&[e], &f, now);
        assert!(check(entry(1, 100, Some(11))).is_ok());
        assert!(check(entry(2, 100, None)).is_ok());
        assert!(matches!(check(entry(9, 100, None)), Err(GrantError::NotFound(_))));
        assert!(matches!(check(entry(1, 999, Some(11))), Err(GrantError::NotFound(_))));
        assert!(matches!(check(entry(1, 100, None)), Err(GrantError::Invalid(_))));
        assert!(matches!(check(entry(2, 100, Some(11))), Err(GrantError::Invalid(_))));
        assert!(matches!(check(entry(2, 100, Some(77))), Err(GrantError::NotFound(_))));
        assert!(matches!(check(entry(1, 100, Some(77))), Err(GrantError::NotFound(_))));
        assert!(matches!(check(entry(3, 100, None)), Err(GrantError::Archived(_))));
        assert!(matches!(plan_bulk_grant(&[], &f, now), Err(GrantError::BadBatch(_))));
        let past = GrantEntry {
            expires_at: Some(now - chrono::Duration::seconds(1)),
            ..entry(2, 100, None)
        };
        assert!(matches!(check(past), Err(GrantError::Invalid(_))));
    }

    #[test]
    fn oversized_batches_are_refused() {
        let entries = vec![entry(2, 100, None); MAX_BULK_GRANT + 1];
        assert!(matches!(
            plan_bulk_grant(&entries, &facts(), Utc::now()),
            Err(GrantError::BadBatch(_))
        ));
    }

    fn arb_entry() -> impl Strategy<Value = GrantEntry> {
        (1u128..5, 98u128..112, proptest::option::of(10u128..14))
            .prop_map(|(a, u, l)| entry(a, u, l))
    }

    proptest! {
        /// The plan is all-or-nothing: it succeeds iff every entry is valid on its own, and then
        /// holds exactly one row per distinct (user, app), carrying the last entry's level.
        #[test]
        fn plan_is_all_or_nothing_and_collapses_duplicates(entries in proptest::collection::vec(arb_entry(), 1..40)) {
            let f = facts();
            let now = Utc::now();
            let all_valid = entries.iter().all(|e| plan_bulk_grant(&[*e], &f, now).is_ok());
            match plan_bulk_grant(&entries, &f, now) {
                Ok(rows) => {
                    prop_assert!(all_valid);
                    let keys: HashSet<(Uuid, Uuid)> = rows.iter().map(|r| (r.user_id, r.work_app_id)).collect();
                    prop_assert_eq!(keys.len(), rows.len());
                    let distinct: HashSet<(Uuid, Uuid)> = entries.iter().map(|r| (r.user_id, r.work_app_id)).collect();
                    prop_assert_eq!(distinct, keys);
                    for row in &rows {
                        let last = entries.iter().rev().find(|e| e.user_id == row.user_id && e.work_app_id == row.work_app_id);
                        prop_assert_eq!(last, Some(row));
                    }
                }
                Err(_) => prop_assert!(!all_valid),
            }
        }
    }
}
