use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;

/// The tenant. Every other row belongs to exactly one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user's role in the organization, in increasing order of power (Flashback's names and order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgRole {
    User,
    Billing,
    Workspaces,
    Administrator,
    Owner,
}

impl OrgRole {
    pub const ALL: [OrgRole; 5] = [
        OrgRole::User,
        OrgRole::Billing,
        OrgRole::Workspaces,
        OrgRole::Administrator,
        OrgRole::Owner,
    ];

    /// Cakewalk `roleId`.
    pub fn id(self) -> i32 {
        match self {
            OrgRole::User => 1,
            OrgRole::Billing => 2,
            OrgRole::Workspaces => 3,
            OrgRole::Administrator => 4,
            OrgRole::Owner => 5,
        }
    }

    pub fn from_id(id: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Cakewalk `roleName` ("User", "Administrator", ...).
    pub fn cakewalk_name(self) -> &'static str {
        match self {
            OrgRole::User => "User",
            OrgRole::Billing => "Billing",
            OrgRole::Workspaces => "Workspaces",
            OrgRole::Administrator => "Administrator",
            OrgRole::Owner => "Owner",
        }
    }

    /// Flashback role name ("USER", "ADMINISTRATOR", ...).
    pub fn flashback_name(self) -> &'static str {
        match self {
            OrgRole::User => "USER",
            OrgRole::Billing => "BILLING",
            OrgRole::Workspaces => "WORKSPACES",
            OrgRole::Administrator => "ADMINISTRATOR",
            OrgRole::Owner => "OWNER",
        }
    }

    /// Accepts either API style's spelling, case-insensitively.
    pub fn parse(name: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|r| r.flashback_name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                DomainError::invalid(format!(
                    "unknown role '{name}': expected one of User, Billing, Workspaces, Administrator, Owner"
                ))
            })
    }

    /// Administrators and owners run the organization (and resolve unassignable approval steps).
    pub fn is_org_admin(self) -> bool {
        self >= OrgRole::Administrator
    }

    /// Managing the user directory needs WORKSPACES or higher.
    pub fn can_manage_users(self) -> bool {
        self >= OrgRole::Workspaces
    }
}

/// What an organization API credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLevel {
    ReadWrite,
    ReadOnly,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::ReadWrite => "ReadWrite",
            AccessLevel::ReadOnly => "ReadOnly",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "ReadWrite" => Ok(AccessLevel::ReadWrite),
            "ReadOnly" => Ok(AccessLevel::ReadOnly),
            other => Err(DomainError::invalid(format!(
                "unknown access level '{other}': expected ReadWrite or ReadOnly"
            ))),
        }
    }
}

/// May `actor` give `target_role` to someone, or change a user who currently holds `target_role`?
/// Nobody acts above their own role: an ADMINISTRATOR cannot create or edit an OWNER.
pub fn may_assign_role(actor: OrgRole, target_role: OrgRole) -> bool {
    actor.can_manage_users() && target_role <= actor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_in_both_styles() {
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::parse(role.cakewalk_name()), Ok(role));
            assert_eq!(OrgRole::parse(role.flashback_name()), Ok(role));
            assert_eq!(OrgRole::from_id(role.id()), Some(role));
        }
        assert!(OrgRole::parse("Superuser").is_err());
    }

    #[test]
    fn nobody_assigns_above_their_own_role() {
        assert!(may_assign_role(OrgRole::Owner, OrgRole::Owner));
        assert!(may_assign_role(OrgRole::Administrator, OrgRole::Administrator));
        assert!(!may_assign_role(OrgRole::Administrator, OrgRole::Owner));
        assert!(may_assign_role(OrgRole::Workspaces, OrgRole::User));
        assert!(!may_assign_role(OrgRole::Billing, OrgRole::User));
    }
}
