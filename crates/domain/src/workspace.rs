//! Workspaces inside an organization, whose members hold READ, WRITE or ADMIN.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DomainError, OrgRole};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub created_by_user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Soft delete: a deleted workspace is gone for every API call.
    pub deleted_at: Option<DateTime<Utc>>,
}

crate::wire_enum! {
    /// A member's role in a workspace: exactly `READ`, `WRITE` or `ADMIN` (the Flashback enum).
    pub enum WorkspaceRole: "role", exact {
        Read = 1 => "READ",
        Write = 2 => "WRITE",
        Admin = 3 => "ADMIN",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMember {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub role: WorkspaceRole,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creating workspaces is for org OWNER, ADMINISTRATOR and WORKSPACES.
pub fn may_create_workspace(org_role: OrgRole) -> bool {
    org_role >= OrgRole::Workspaces
}

/// Seeing a workspace: its members, and the organization's OWNER and ADMINISTRATOR users.
pub fn may_see_workspace(org_role: OrgRole, membership: Option<WorkspaceRole>) -> bool {
    org_role.is_org_admin() || membership.is_some()
}

/// Managing a workspace (its name, deletion, members): its ADMINs and org OWNER/ADMINISTRATOR.
pub fn may_manage_workspace(org_role: OrgRole, membership: Option<WorkspaceRole>) -> bool {
    org_role.is_org_admin() || membership == Some(WorkspaceRole::Admin)
}

/// A workspace keeps at least one ADMIN: refuses to demote or remove (`new_role: None`) its last.
pub fn check_last_admin(
    admin_count: usize,
    current: WorkspaceRole,
    new_role: Option<WorkspaceRole>,
) -> Result<(), DomainError> {
    let loses_admin = current == WorkspaceRole::Admin && new_role != Some(WorkspaceRole::Admin);
    if loses_admin && admin_count <= 1 {
        return Err(DomainError::invalid(
            "The last ADMIN of a workspace cannot be removed or demoted; make another member ADMIN first",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roles_parse_exactly() {
        for r in [WorkspaceRole::Read, WorkspaceRole::Write, WorkspaceRole::Admin] {
            assert_eq!(WorkspaceRole::parse(r.name()), Ok(r));
        }
        assert!(WorkspaceRole::parse("admin").is_err());
        assert!(WorkspaceRole::parse("OWNER").is_err());
    }

    #[test]
    fn permissions() {
        assert!(may_create_workspace(OrgRole::Workspaces));
        assert!(!may_create_workspace(OrgRole::Billing));
        assert!(may_manage_workspace(OrgRole::User, Some(WorkspaceRole::Admin)));
        assert!(!may_manage_workspace(OrgRole::Workspaces, Some(WorkspaceRole::Write)));
        assert!(may_manage_workspace(OrgRole::Administrator, None));
        assert!(!may_see_workspace(OrgRole::Workspaces, None));
    }

    proptest! {
        /// Applying any accepted change never leaves a workspace without an ADMIN.
        #[test]
        fn an_admin_always_remains(admins in 1usize..4, others in 0usize..3, change in 0usize..7, to in 0u8..4) {
            let mut roles: Vec<WorkspaceRole> = std::iter::repeat_n(WorkspaceRole::Admin, admins)
                .chain(std::iter::repeat_n(WorkspaceRole::Read, others)).collect();
            let i = change % roles.len();
            let new_role = match to { 0 => None, 1 => Some(WorkspaceRole::Read), 2 => Some(WorkspaceRole::Write), _ => Some(WorkspaceRole::Admin) };
            let count = roles.iter().filter(|r| **r == WorkspaceRole::Admin).count();
            if check_last_admin(count, roles[i], new_role).is_ok() {
                match new_role { Some(r) => roles[i] = r, None => { roles.remove(i); } }
            }
            prop_assert!(roles.contains(&WorkspaceRole::Admin));
        }
    }
}
