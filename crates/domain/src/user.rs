use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DomainError, OrgRole};

/// A user as the directory sync sees them: the user and what the identity provider said about them
/// (`external_id`, its `user_name` and the rest of the SCIM resource as JSON text). Users made
/// through our own API have none of these until the provider writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub user: User,
    pub external_id: Option<String>,
    pub user_name: Option<String>,
    pub attributes: Option<String>,
}

/// A person in the organization's directory.
///
/// The status Cakewalk shows is derived from two facts Flashback shows separately: whether the
/// person has validated their e-mail (signed in once, or was confirmed by an administrator), and
/// whether they were deleted (a soft delete: the row and its history stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// Stored as given; uniqueness is case-insensitive (see [`crate::validate::email_key`]).
    pub email: String,
    pub role: OrgRole,
    /// The person's e-mail is validated: they signed in once, or an administrator confirmed it.
    pub validated: bool,
    /// Set when the user was deleted (deactivated); their tokens stop working at once.
    pub deleted_at: Option<DateTime<Utc>>,
    pub manager_id: Option<Uuid>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// First and last name as one display name (Cakewalk's `name`).
    pub fn full_name(&self) -> String {
        join_name(&self.first_name, &self.last_name)
    }

    /// Active, Invited (not validated yet) or Deactivated (deleted).
    pub fn status(&self) -> UserStatus {
        if self.deleted_at.is_some() {
            UserStatus::Deactivated
        } else if self.validated {
            UserStatus::Active
        } else {
            UserStatus::Invited
        }
    }

    /// A validated user who is not deleted: may act, approve and hold the owner role.
    pub fn is_active(&self) -> bool {
        self.status() == UserStatus::Active
    }

    /// Flashback's "validated account" check for callers.
    pub fn is_validated(&self) -> bool {
        self.validated && self.deleted_at.is_none()
    }

    /// Puts the user in `status` the way Cakewalk's `statusName` asks: Active validates and
    /// restores, Invited restores without validation, Deactivated deletes (keeping the first
    /// deletion time).
    pub fn set_status(&mut self, status: UserStatus, now: DateTime<Utc>) {
        match status {
            UserStatus::Active => {
                self.validated = true;
                self.deleted_at = None;
            }
            UserStatus::Invited => {
                self.validated = false;
                self.deleted_at = None;
            }
            UserStatus::Deactivated => {
                self.deleted_at.get_or_insert(now);
            }
        }
    }
}

/// "First Last", or whichever part is present.
pub fn join_name(first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (_, true) => first.to_string(),
        (true, false) => last.to_string(),
        (false, false) => format!("{first} {last}"),
    }
}

/// Splits a one-field display name at its first space: "Mary Ann Smith" → ("Mary", "Ann Smith").
/// [`join_name`] gives the original back.
pub fn split_name(full: &str) -> (String, String) {
    match full.trim().split_once(' ') {
        Some((first, last)) => (first.to_string(), last.trim_start().to_string()),
        None => (full.trim().to_string(), String::new()),
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
    use proptest::prelude::*;

    fn user() -> User {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        User {
            id: Uuid::from_u128(1),
            org_id: Uuid::from_u128(2),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            role: OrgRole::User,
            validated: false,
            deleted_at: None,
            manager_id: None,
            last_login: None,
            created_at: at,
            updated_at: at,
        }
    }

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

    #[test]
    fn status_follows_validation_and_deletion() {
        let mut u = user();
        assert_eq!(u.status(), UserStatus::Invited);
        u.validated = true;
        assert_eq!(u.status(), UserStatus::Active);
        u.deleted_at = Some(u.created_at);
        assert_eq!(u.status(), UserStatus::Deactivated);
        assert!(!u.is_validated());
    }

    #[test]
    fn deactivating_twice_keeps_the_first_deletion_time() {
        let mut u = user();
        let first = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1);
        u.set_status(UserStatus::Deactivated, first);
        u.set_status(UserStatus::Deactivated, first + chrono::Duration::days(1));
        assert_eq!(u.deleted_at, Some(first));
        u.set_status(UserStatus::Active, first);
        assert_eq!((u.deleted_at, u.validated), (None, true));
    }

    proptest! {
        #[test]
        fn set_status_then_status_is_the_status_set(id in 1u8..=3, validated: bool, deleted: bool) {
            let mut u = user();
            u.validated = validated;
            u.deleted_at = deleted.then_some(u.created_at);
            let status = UserStatus::from_id(i32::from(id)).expect("1..=3");
            u.set_status(status, u.created_at);
            prop_assert_eq!(u.status(), status);
        }

        #[test]
        fn splitting_a_name_and_joining_it_gives_it_back(
            first in "[A-Za-z]{1,8}", rest in proptest::collection::vec("[A-Za-z]{1,8}", 0..3)
        ) {
            let full = std::iter::once(first).chain(rest).collect::<Vec<_>>().join(" ");
            let (f, l) = split_name(&full);
            prop_assert_eq!(join_name(&f, &l), full);
        }
    }
}
