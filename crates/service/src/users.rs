//! The user directory.
use portcullis_domain::org::may_assign_role;
use portcullis_domain::user::check_manager_assignment;
use portcullis_domain::AuditAction;
use portcullis_domain::{new_id, validate, OrgRole, Page, PageRequest, User, UserStatus};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// Longest manager chain we follow when checking for cycles.
const MAX_MANAGER_DEPTH: usize = 64;
/// Most users returned by an unpaged listing.
const MAX_UNPAGED_USERS: usize = 10_000;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub manager_id: Option<Uuid>,
    pub role: Option<OrgRole>,
    pub status: UserStatus,
}

/// Changes to a user; `None` leaves a field alone, `manager_id: Some(None)` clears the manager.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub manager_id: Option<Option<Uuid>>,
    pub role: Option<OrgRole>,
    pub status: Option<UserStatus>,
}

fn snapshot(user: &User) -> serde_json::Value {
    serde_json::json!({
        "name": user.name,
        "email": user.email,
        "roleName": user.role.cakewalk_name(),
        "statusName": user.status.cakewalk_name(),
        "managerId": user.manager_id,
    })
}

fn email_taken(email: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "a user with email '{email}' already exists in this organization"
    ))
}

/// Who may change users: read-write credentials, and users with WORKSPACES or higher who do not
/// act above their own role.
fn require_user_management(ctx: &Ctx, roles_touched: &[OrgRole]) -> Result<(), ServiceError> {
    ctx.actor.require_write()?;
    ctx.actor.require_validated()?;
    if let ActorKind::User { role, .. } = ctx.actor.kind {
        if !role.can_manage_users() {
            return Err(ServiceError::Forbidden(
                "Managing users requires the WORKSPACES role or higher".into(),
            ));
        }
        if roles_touched.iter().any(|r| !may_assign_role(role, *r)) {
            return Err(ServiceError::Forbidden(
                "You cannot create or change a user with a role above your own".into(),
            ));
        }
    }
    Ok(())
}

impl Service {
    pub async fn list_users(
        &self,
        ctx: &Ctx,
        page: PageRequest,
    ) -> Result<Page<User>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_users(ctx.org_id(), page).await?)
    }

    /// Every user of the organization (the Flashback API does not page), capped at 10,000.
    pub async fn list_all_users(&self, ctx: &Ctx) -> Result<Vec<User>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let mut users = Vec::new();
        let mut page = PageRequest::first();
        while users.len() < MAX_UNPAGED_USERS {
            let next = tx.list_users(ctx.org_id(), page).await?;
            users.extend(next.items);
            match next.next_after {
                Some(after) => page = PageRequest::after(Some(after)),
                None => break,
            }
        }
        users.truncate(MAX_UNPAGED_USERS);
        Ok(users)
    }

    pub async fn get_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        tx.get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))
    }

    pub async fn create_user(&self, ctx: &Ctx, new: NewUser) -> Result<User, ServiceError> {
        let role = new.role.unwrap_or(OrgRole::User);
        require_user_management(ctx, &[role])?;
        let name = validate::name("name", &new.name)?;
        let email = validate::email(&new.email)?;
        let now = self.clock.now();
        let user = User {
            id: new_id(),
            org_id: ctx.org_id(),
            name,
            email,
            role,
            status: new.status,
            manager_id: new.manager_id,
            last_login: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        if let Some(manager_id) = user.manager_id {
            require_manager(&mut *tx, ctx.org_id(), manager_id).await?;
        }
        match tx.insert_user(&user).await {
            Err(StoreError::Conflict(_)) => return Err(email_taken(&user.email)),
            other => other?,
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::UserCreated, "user", user.id).after(snapshot(&user)),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn update_user(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        patch: UserPatch,
    ) -> Result<User, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let existing = tx
            .get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        let mut user = existing.clone();
        if let Some(name) = &patch.name {
            user.name = validate::name("name", name)?;
        }
        if let Some(email) = &patch.email {
            user.email = validate::email(email)?;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(status) = patch.status {
            user.status = status;
        }
        require_user_management(ctx, &[existing.role, user.role])?;
        if let Some(manager_id) = patch.manager_id {
            if let Some(manager_id) = manager_id {
                require_manager(&mut *tx, ctx.org_id(), manager_id).await?;
                let chain = tx.manager_chain(ctx.org_id(), manager_id, MAX_MANAGER_DEPTH).await?;
                check_manager_assignment(user.id, manager_id, &chain)?;
            }
            user.manager_id = manager_id;
        }
        let was_active_owner =
            existing.role == OrgRole::Owner && existing.status == UserStatus::Active;
        let is_active_owner = user.role == OrgRole::Owner && user.status == UserStatus::Active;
        if was_active_owner
            && !is_active_owner
            && tx.count_active_with_role(ctx.org_id(), OrgRole::Owner).await? <= 1
        {
            return Err(ServiceError::Conflict(
                "The organization's last active owner cannot be demoted or deactivated".into(),
            ));
        }
        if user == existing {
            return Ok(user);
        }
        user.updated_at = self.clock.now();
        match tx.update_user(&user).await {
            Err(StoreError::Conflict(_)) => return Err(email_taken(&user.email)),
            other => other?,
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::UserUpdated, "user", user.id)
                .before(snapshot(&existing))
                .after(snapshot(&user)),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }
}

async fn require_manager(
    tx: &mut dyn WriteTx,
    org_id: Uuid,
    manager_id: Uuid,
) -> Result<(), ServiceError> {
    match tx.get_user(org_id, manager_id).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::NotFound(format!("manager {manager_id} not found"))),
    }
}
