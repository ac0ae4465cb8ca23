use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The tenant. Every other row belongs to exactly one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::wire_enum! {
    /// A user's role in the organization, in increasing order of power (Flashback's names and
    /// order); the id is Cakewalk's `roleId`, the name its `roleName`. Input is accepted in either
    /// API's spelling, case-insensitively.
    pub enum OrgRole: "role", case_insensitive {
        User = 1 => "User",
        Billing = 2 => "Billing",
        Workspaces = 3 => "Workspaces",
        Administrator = 4 => "Administrator",
        Owner = 5 => "Owner",
    }
}

impl OrgRole {
    /// Cakewalk `roleName` ("User", "Administrator", ...).
    pub fn cakewalk_name(self) -> &'static str {
        self.name()
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

    /// Administrators and owners run the organization (and resolve unassignable approval steps).
    pub fn is_org_admin(self) -> bool {
        self >= OrgRole::Administrator
    }

    /// Managing the user directory needs WORKSPACES or higher.
    pub fn can_manage_users(self) -> bool {
        self >= OrgRole::Workspaces
    }
}

crate::wire_enum! {
    /// What an organization API credential may do.
    pub enum AccessLevel: "access level", exact {
        ReadWrite = 1 => "ReadWrite",
        ReadOnly = 2 => "ReadOnly",
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
