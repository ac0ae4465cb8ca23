//! Workspaces and their members (the Flashback workspace API).
use portcullis_domain::workspace::{
    check_last_admin, may_create_workspace, may_manage_workspace, may_see_workspace,
};
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, OrgRole, User, UserStatus, Workspace, WorkspaceMember, WorkspaceRole,
};
use portcullis_domain::{UserId, WorkspaceId};
use portcullis_store::prelude::*;
use uuid::Uuid;

use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// Seed 002's messages, verbatim.
pub const MANAGE_DENIED: &str = "Insufficient permissions to manage workspace users";
pub const TARGET_NOT_FOUND: &str = "Target user not found";

fn workspace_not_found() -> ServiceError {
    ServiceError::NotFound("Workspace not found".into())
}

/// Reading a workspace one may not see looks exactly like reading one that does not exist.
fn not_found_or_denied() -> ServiceError {
    ServiceError::NotFound("Workspace not found or access denied".into())
}

fn member_not_found() -> ServiceError {
    ServiceError::NotFound("User not found in workspace".into())
}

/// A workspace as its readers see it: the caller's role in it, and its members with their users.
#[derive(Debug, Clone)]
pub struct WorkspaceDetails {
    pub workspace: Workspace,
    pub caller_role: Option<WorkspaceRole>,
    pub members: Vec<(WorkspaceMember, User)>,
}

/// The org role the caller acts with; an organization credential acts as an owner.
fn org_role(ctx: &Ctx) -> OrgRole {
    match ctx.actor.kind {
        ActorKind::User { role, .. } => role,
        ActorKind::Credential { .. } | ActorKind::System => OrgRole::Owner,
        // The directory sync has no say in workspaces.
        ActorKind::Scim { .. } => OrgRole::User,
    }
}

fn snapshot(w: &Workspace) -> serde_json::Value {
    serde_json::json!({ "name": w.name, "deletedAt": w.deleted_at })
}

impl Service {
    /// The workspace (404 outside the organization or once deleted) and the caller's role in it.
    async fn workspace_for(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        workspace_id: Uuid,
    ) -> Result<(Workspace, Option<WorkspaceRole>), ServiceError> {
        let workspace =
            tx.get_workspace(ctx.org_id(), workspace_id).await?.ok_or_else(workspace_not_found)?;
        let membership = match ctx.actor.user_id() {
            Some(user_id) => tx
                .get_workspace_member(ctx.org_id(), WorkspaceId(workspace_id), UserId(user_id))
                .await?
                .map(|m| m.role),
            None => None,
        };
        Ok((workspace, membership))
    }

    async fn managed_workspace(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        workspace_id: Uuid,
    ) -> Result<Workspace, ServiceError> {
        let (workspace, membership) = self.workspace_for(tx, ctx, workspace_id).await?;
        if !may_manage_workspace(org_role(ctx), membership) {
            return Err(ServiceError::Forbidden(MANAGE_DENIED.into()));
        }
        Ok(workspace)
    }

    /// Creates a workspace; its creator becomes its ADMIN.
    pub async fn create_workspace(&self, ctx: &Ctx, name: &str) -> Result<Workspace, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let Some(creator) = ctx.actor.user_id() else {
            return Err(ServiceError::Forbidden(
                "Creating a workspace needs a user's token".into(),
            ));
        };
        if !may_create_workspace(org_role(ctx)) {
            return Err(ServiceError::Forbidden(
                "Creating workspaces requires the WORKSPACES, ADMINISTRATOR or OWNER role".into(),
            ));
        }
        let now = self.clock.now();
        let workspace = Workspace {
            id: new_id(),
            org_id: ctx.org_id(),
            name: validate::name("name", name)?,
            created_by_user_id: creator,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let admin = WorkspaceMember {
            workspace_id: workspace.id,
            user_id: creator,
            role: WorkspaceRole::Admin,
            added_at: now,
            updated_at: now,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.insert_workspace(&workspace).await?;
        tx.upsert_workspace_member(ctx.org_id(), &admin).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::WorkspaceCreated, "workspace", workspace.id)
                .after(snapshot(&workspace)),
        )
        .await?;
        let change = Change::new(AuditAction::WorkspaceMemberAdded, "workspace", workspace.id)
            .after(serde_json::json!({ "userId": creator, "role": "ADMIN" }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(workspace)
    }

    /// Workspaces the caller may see (their own; all of them for org OWNER/ADMINISTRATOR), each
    /// with its members.
    pub async fn list_workspaces(&self, ctx: &Ctx) -> Result<Vec<WorkspaceDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let only_member = if org_role(ctx).is_org_admin() { None } else { ctx.actor.user_id() };
        let workspaces = tx.list_workspaces(ctx.org_id(), only_member).await?;
        let mut out = Vec::with_capacity(workspaces.len());
        for workspace in workspaces {
            out.push(self.workspace_details(&mut *tx, ctx, workspace).await?);
        }
        Ok(out)
    }

    /// One workspace with its members; 404 "Workspace not found or access denied" for a
    /// workspace the caller may not see.
    pub async fn get_workspace(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
    ) -> Result<WorkspaceDetails, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let (workspace, membership) = self
            .workspace_for(&mut *tx, ctx, workspace_id)
            .await
            .map_err(|_| not_found_or_denied())?;
        if !may_see_workspace(org_role(ctx), membership) {
            return Err(not_found_or_denied());
        }
        self.workspace_details(&mut *tx, ctx, workspace).await
    }

    async fn workspace_details(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        workspace: Workspace,
    ) -> Result<WorkspaceDetails, ServiceError> {
        let members = tx.list_workspace_members(ctx.org_id(), workspace.id).await?;
        let ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
        let users = tx.get_users(ctx.org_id(), &ids).await?;
        let caller_role = ctx
            .actor
            .user_id()
            .and_then(|me| members.iter().find(|m| m.user_id == me))
            .map(|m| m.role);
        let members = members
            .into_iter()
            .filter_map(|m| users.iter().find(|u| u.id == m.user_id).cloned().map(|u| (m, u)))
            .collect();
        Ok(WorkspaceDetails { workspace, caller_role, members })
    }

    /// Renames a workspace (its ADMINs, org OWNER/ADMINISTRATOR); without a name nothing changes.
    pub async fn rename_workspace(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
        name: Option<&str>,
    ) -> Result<Workspace, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let name = name.map(|n| validate::name("name", n)).transpose()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = self.managed_workspace(&mut *tx, ctx, workspace_id).await?;
        let Some(name) = name.filter(|n| *n != before.name) else { return Ok(before) };
        let mut workspace = before.clone();
        workspace.name = name;
        workspace.updated_at = self.clock.now();
        tx.update_workspace(&workspace).await?;
        let change = Change::new(AuditAction::WorkspaceUpdated, "workspace", workspace_id)
            .before(snapshot(&before))
            .after(snapshot(&workspace));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(workspace)
    }

    /// Soft-deletes a workspace: from then on it answers 404.
    pub async fn delete_workspace(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = self.managed_workspace(&mut *tx, ctx, workspace_id).await?;
        let mut workspace = before.clone();
        let now = self.clock.now();
        workspace.deleted_at = Some(now);
        workspace.updated_at = now;
        tx.update_workspace(&workspace).await?;
        let change = Change::new(AuditAction::WorkspaceDeleted, "workspace", workspace_id)
            .before(snapshot(&before))
            .after(snapshot(&workspace));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Seed 002: adds a user with a role, or changes the role of an existing member.
    pub async fn add_workspace_member(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
        target: &str,
        role: WorkspaceRole,
    ) -> Result<WorkspaceMember, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.managed_workspace(&mut *tx, ctx, workspace_id).await?;
        let target = match Uuid::parse_str(target.trim()) {
            Ok(id) => tx.get_user(ctx.org_id(), id).await?,
            Err(_) => None,
        };
        let target = target.ok_or_else(|| ServiceError::NotFound(TARGET_NOT_FOUND.into()))?;
        if target.status() == UserStatus::Deactivated {
            return Err(ServiceError::Invalid("Target user is deactivated".into()));
        }
        let member = self.set_member_role(&mut *tx, ctx, workspace_id, &target, role, true).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Changes a member's role.
    pub async fn update_workspace_member(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
        user_id: Uuid,
        role: WorkspaceRole,
    ) -> Result<WorkspaceMember, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.managed_workspace(&mut *tx, ctx, workspace_id).await?;
        let user = tx.get_user(ctx.org_id(), user_id).await?.ok_or_else(member_not_found)?;
        let member = self.set_member_role(&mut *tx, ctx, workspace_id, &user, role, false).await?;
        tx.commit().await?;
        Ok(member)
    }

    async fn set_member_role(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        workspace_id: Uuid,
        user: &User,
        role: WorkspaceRole,
        may_add: bool,
    ) -> Result<WorkspaceMember, ServiceError> {
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let existing =
            tx.get_workspace_member(org_id, WorkspaceId(workspace_id), UserId(user.id)).await?;
        let member = match &existing {
            Some(current) => {
                let admins = tx.count_workspace_admins(org_id, workspace_id).await? as usize;
                check_last_admin(admins, current.role, Some(role))?;
                WorkspaceMember { role, updated_at: now, ..current.clone() }
            }
            None if may_add => WorkspaceMember {
                workspace_id,
                user_id: user.id,
                role,
                added_at: now,
                updated_at: now,
            },
            None => return Err(member_not_found()),
        };
        if existing.as_ref().is_some_and(|m| m.role == role) {
            return Ok(member);
        }
        tx.upsert_workspace_member(org_id, &member).await?;
        let (action, before) = match &existing {
            Some(m) => (
                AuditAction::WorkspaceMemberRoleChanged,
                Some(serde_json::json!({ "userId": user.id, "role": m.role.name() })),
            ),
            None => (AuditAction::WorkspaceMemberAdded, None),
        };
        let mut change = Change::new(action, "workspace", workspace_id)
            .after(serde_json::json!({ "userId": user.id, "role": role.name() }));
        if let Some(before) = before {
            change = change.before(before);
        }
        self.audit(tx, ctx, change).await?;
        Ok(member)
    }

    /// Removes a member (never the last ADMIN).
    pub async fn remove_workspace_member(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.managed_workspace(&mut *tx, ctx, workspace_id).await?;
        let member = tx
            .get_workspace_member(org_id, WorkspaceId(workspace_id), UserId(user_id))
            .await?
            .ok_or_else(member_not_found)?;
        let admins = tx.count_workspace_admins(org_id, workspace_id).await? as usize;
        check_last_admin(admins, member.role, None)?;
        tx.delete_workspace_member(org_id, WorkspaceId(workspace_id), UserId(user_id)).await?;
        let change = Change::new(AuditAction::WorkspaceMemberRemoved, "workspace", workspace_id)
            .before(serde_json::json!({ "userId": user_id, "role": member.role.name() }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Members with their users (visible to whoever may see the workspace).
    pub async fn list_workspace_members(
        &self,
        ctx: &Ctx,
        workspace_id: Uuid,
    ) -> Result<Vec<(WorkspaceMember, User)>, ServiceError> {
        Ok(self.get_workspace(ctx, workspace_id).await?.members)
    }
}
