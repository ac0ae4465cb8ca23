use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DomainError, OrgRole};

/// A person in the organization's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// Stored as given; uniqueness is case-insensitive (see [`crate::validate::email_key`]).
    pub email: String,
    pub role: OrgRole,
    pub status: UserStatus,
    pub manager_id: Option<Uuid>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// Flashback's "validated account".
    pub fn is_validated(&self) -> bool {
        self.status == UserStatus::Active
    }
}

crate::wire_enum! {
    /// The id is Cakewalk's `statusId`, the name its `statusName`.
    pub enum UserStatus: "status", case_insensitive {
        Active = 1 => "Active",
        Invited = 2 => "Invited",
        Deactivated = 3 => "Deactivated",
    }
}

impl UserStatus {
    /// Cakewalk `statusName`.
    pub fn cakewalk_name(self) -> &'static str {
        self.name()
    }

    /// Flashback spelling.
    pub fn flashback_name(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Invited => "INVITED",
            UserStatus::Deactivated => "DEACTIVATED",
        }
    }
}

/// Checks that making `manager_id` the manager of `user_id` keeps the reporting chain acyclic.
/// `chain_above_manager` is the manager's own chain upwards (manager's manager, and so on).
pub fn check_manager_assignment(
    user_id: Uuid,
    manager_id: Uuid,
    chain_above_manager: &[Uuid],
) -> Result<(), DomainError> {
    if manager_id == user_id || chain_above_manager.contains(&user_id) {
        return Err(DomainError::Conflict(
            "managerId would make a user (indirectly) their own manager".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_cannot_manage_themselves_directly_or_indirectly() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(check_manager_assignment(a, a, &[]).is_err());
        // b's chain is c -> a: making b a's manager closes a loop.
        assert!(check_manager_assignment(a, b, &[c, a]).is_err());
        assert!(check_manager_assignment(a, b, &[c]).is_ok());
    }

    #[test]
    fn status_ids_round_trip() {
        for s in UserStatus::ALL {
            assert_eq!(UserStatus::from_id(s.id()), Some(s));
            assert_eq!(UserStatus::parse(s.cakewalk_name()), Ok(s));
        }
    }
}
