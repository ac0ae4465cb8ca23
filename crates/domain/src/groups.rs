//! User groups: membership, default work apps (granted to members) and hidden work apps.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;

/// Most users added to a group by one call.
pub const MAX_GROUP_ADD: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersGroup {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: String,
    /// Filled on reads.
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who manages a group's name and members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupSource {
    /// Portcullis: its own API and console.
    #[default]
    Portcullis,
    /// The identity provider, over SCIM: name and members are read-only elsewhere.
    Scim,
}

/// A group as the directory sync sees it: the group, its provider-side id and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroup {
    pub group: UsersGroup,
    pub external_id: Option<String>,
    pub source: GroupSource,
    pub member_ids: Vec<Uuid>,
}

/// A default work app of a group: members get it, at this level when the app has levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultWorkApp {
    pub work_app_id: Uuid,
    pub permission_level_id: Option<Uuid>,
}

/// Checks the size of an add-members call and removes duplicate ids (order kept).
pub fn dedup_new_members(user_ids: &[Uuid]) -> Result<Vec<Uuid>, DomainError> {
    if user_ids.is_empty() {
        return Err(DomainError::invalid("userIds must contain at least one user"));
    }
    if user_ids.len() > MAX_GROUP_ADD {
        return Err(DomainError::invalid(format!(
            "userIds may contain at most {MAX_GROUP_ADD} users (got {})",
            user_ids.len()
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(user_ids.len());
    Ok(user_ids.iter().copied().filter(|id| seen.insert(*id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn dedup_keeps_first_occurrences_in_order(ids in proptest::collection::vec(0u128..20, 1..200)) {
            let ids: Vec<Uuid> = ids.into_iter().map(Uuid::from_u128).collect();
            let out = dedup_new_members(&ids).unwrap();
            let distinct: std::collections::HashSet<_> = ids.iter().collect();
            prop_assert_eq!(out.len(), distinct.len());
            let mut expected = Vec::new();
            for id in &ids { if !expected.contains(id) { expected.push(*id); } }
            prop_assert_eq!(out, expected);
        }
    }

    #[test]
    fn size_limits() {
        assert!(dedup_new_members(&[]).is_err());
        assert!(dedup_new_members(&vec![Uuid::nil(); MAX_GROUP_ADD]).is_ok());
        assert!(dedup_new_members(&vec![Uuid::nil(); MAX_GROUP_ADD + 1]).is_err());
    }
}
