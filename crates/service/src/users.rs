//! The user directory.
use portcullis_domain::org::may_assign_role;
use portcullis_domain::user::check_manager_assignment;
use portcullis_domain::{
    new_id, validate, OrgRole, Organization, Page, PageRequest, User, UserStatus,
};
use portcullis_domain::{AuditAction, UserId};
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
    pub first_name: String,
    /// May be empty (a directory that only knows one name).
    pub last_name: String,
    pub email: String,
    pub manager_id: Option<Uuid>,
    pub role: Option<OrgRole>,
    pub status: UserStatus,
}

/// Changes to a user; `None` leaves a field alone, `manager_id: Some(None)` clears the manager.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub manager_id: Option<Option<Uuid>>,
    pub role: Option<OrgRole>,
    pub status: Option<UserStatus>,
}

impl UserPatch {
    /// Does the patch change nothing but the first and last name?
    fn only_names(&self) -> bool {
        self.email.is_none()
            && self.manager_id.is_none()
            && self.role.is_none()
            && self.status.is_none()
    }
}

fn snapshot(user: &User) -> serde_json::Value {
    serde_json::json!({
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "roleName": user.role.cakewalk_name(),
        "statusName": user.status().cakewalk_name(),
        "validated": user.validated,
        "deletedAt": user.deleted_at,
        "managerId": user.manager_id,
    })
}

fn last_name(value: &str) -> Result<String, ServiceError> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    Ok(validate::name("lastName", value)?)
}

fn email_taken(email: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "a user with email '{email}' already exists in this organization"
    ))
}

/// Reading the directory as a manager of it: credentials, and users with WORKSPACES or higher.
fn require_directory_reader(ctx: &Ctx) -> Result<(), ServiceError> {
    ctx.actor.require_validated()?;
    match ctx.actor.kind {
        ActorKind::User { role, .. } if !role.can_manage_users() => Err(ServiceError::Forbidden(
            "Reading the user directory requires the WORKSPACES role or higher".into(),
        )),
        _ => Ok(()),
    }
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

/// Governance data — a user's manager (approvals follow it) and e-mail (it identifies the
/// person) — is changed only by administrators and owners and by read-write credentials (which
/// stand for the directory sync); the WORKSPACES role manages everything else about users.
fn require_governance_data_admin(ctx: &Ctx, what: &str) -> Result<(), ServiceError> {
    match ctx.actor.kind {
        ActorKind::User { role, .. } if !role.is_org_admin() => {
            Err(ServiceError::Forbidden(format!(
                "Only administrators and owners may set or change {what}: approvals are routed by \
             the manager, and the e-mail identifies the person"
            )))
        }
        _ => Ok(()),
    }
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

    /// Users whose name or e-mail contains `text` (the console's search), a page at a time; for
    /// those who manage the directory.
    pub async fn search_users(
        &self,
        ctx: &Ctx,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<User>, ServiceError> {
        require_directory_reader(ctx)?;
        let mut tx = self.store.read().await?;
        Ok(tx.search_users(ctx.org_id(), text, page).await?)
    }

    /// Every user of the organization (the Flashback API does not page), capped at 10,000; for
    /// those who manage the directory (WORKSPACES or higher).
    pub async fn list_all_users(&self, ctx: &Ctx) -> Result<Vec<User>, ServiceError> {
        require_directory_reader(ctx)?;
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

    /// Any member of the organization may look a colleague up (the console shows names).
    pub async fn get_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        tx.get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))
    }

    /// A user's full directory record, for those who manage the directory (and oneself).
    pub async fn get_directory_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        if ctx.actor.user_id() != Some(user_id) {
            require_directory_reader(ctx)?;
        }
        self.get_user(ctx, user_id).await
    }

    /// The caller's own user and organization (a person's token; credentials have none). Works
    /// before the account is validated: it is how a client learns where it stands.
    pub async fn my_profile(&self, ctx: &Ctx) -> Result<(User, Organization), ServiceError> {
        let user_id = ctx.actor.user_id().ok_or_else(|| {
            ServiceError::Forbidden("Only a person's token has a user profile".into())
        })?;
        let mut tx = self.store.read().await?;
        let user = tx
            .get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        let org = tx
            .get_organization(ctx.org_id())
            .await?
            .ok_or_else(|| ServiceError::NotFound("Organization not found".into()))?;
        Ok((user, org))
    }

    pub async fn create_user(&self, ctx: &Ctx, new: NewUser) -> Result<User, ServiceError> {
        let role = new.role.unwrap_or(OrgRole::User);
        require_user_management(ctx, &[role])?;
        if new.manager_id.is_some() {
            require_governance_data_admin(ctx, "a user's manager")?;
        }
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let user = self.insert_user_in(&mut *tx, ctx, new, role).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Creates a user inside the caller's transaction, once its caller is authorised.
    pub(crate) async fn insert_user_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        new: NewUser,
        role: OrgRole,
    ) -> Result<User, ServiceError> {
        let first_name = validate::name("firstName", &new.first_name)?;
        let last_name = last_name(&new.last_name)?;
        let email = validate::email(&new.email)?;
        let now = self.clock.now();
        let mut user = User {
            id: new_id(),
            org_id: ctx.org_id(),
            first_name,
            last_name,
            email,
            role,
            validated: false,
            deleted_at: None,
            manager_id: new.manager_id,
            last_login: None,
            created_at: now,
            updated_at: now,
        };
        user.set_status(new.status, now);
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
        if !user.validated {
            self.audit(&mut *tx, ctx, invitation(&user)).await?;
        }
        Ok(user)
    }

    /// Records the invitation of a user who has not validated their account yet, again (the
    /// `user.invited` event lets a mailer or the identity provider send it).
    pub async fn resend_invitation(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let user = tx
            .get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        require_user_management(ctx, &[user.role])?;
        if user.validated {
            return Err(ServiceError::Invalid("User is already validated".into()));
        }
        if user.deleted_at.is_some() {
            return Err(ServiceError::Invalid("User is deleted".into()));
        }
        self.audit(&mut *tx, ctx, invitation(&user)).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Soft-deletes a user: [`Service::offboard_user`].
    pub async fn delete_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        self.offboard_user(ctx, user_id).await
    }

    /// Leaver: deactivates a user (a soft delete, audited as `user.deleted`) and offboards them
    /// in the same transaction: `deletedAt` is set, their tokens are revoked and their console
    /// sessions closed (restoring them revives neither), every access is removed by the
    /// organization's `leaverAccessAction`, their open requests are cancelled, and their open
    /// tasks and access-review items go to others (`user.offboarded`). Their history and group
    /// memberships stay. A user who is already deactivated is returned unchanged. Nobody
    /// deletes themselves or the last owner. Every other deactivation (`statusName`
    /// `Deactivated`) offboards the same way.
    pub async fn offboard_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        require_user_management(ctx, &[])?;
        if ctx.actor.user_id() == Some(user_id) {
            return Err(ServiceError::Invalid("Cannot delete yourself".into()));
        }
        let patch = UserPatch { status: Some(UserStatus::Deactivated), ..UserPatch::default() };
        self.change_user(ctx, user_id, patch, AuditAction::UserDeleted).await
    }

    /// Undoes a soft delete (the user's validation is kept as it was). Tokens revoked by the
    /// deletion stay revoked.
    pub async fn restore_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<User, ServiceError> {
        self.change_user(ctx, user_id, UserPatch::default(), AuditAction::UserRestored).await
    }

    /// Marks a person's e-mail as validated when they sign in to the console for the first time.
    pub async fn record_sign_in(&self, ctx: &Ctx) -> Result<(), ServiceError> {
        let Some(user_id) = ctx.actor.user_id() else { return Ok(()) };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let Some(existing) = tx.get_user(ctx.org_id(), user_id).await? else { return Ok(()) };
        if existing.validated || existing.deleted_at.is_some() {
            return Ok(());
        }
        let mut user = existing.clone();
        user.validated = true;
        user.updated_at = self.clock.now();
        tx.update_user(&user).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::UserUpdated, "user", user.id)
                .before(snapshot(&existing))
                .after(snapshot(&user)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_user(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        patch: UserPatch,
    ) -> Result<User, ServiceError> {
        self.change_user(ctx, user_id, patch, AuditAction::UserUpdated).await
    }

    /// One path for every change of a user record, recorded as `action`. `UserRestored` clears
    /// the deletion (and refuses a user who is not deleted).
    async fn change_user(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        patch: UserPatch,
        action: AuditAction,
    ) -> Result<User, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let user = self.change_user_in(&mut *tx, ctx, user_id, patch, action).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// [`Service::change_user`] inside the caller's transaction (the directory sync changes the
    /// user and what the provider said about them together).
    pub(crate) async fn change_user_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        user_id: Uuid,
        patch: UserPatch,
        action: AuditAction,
    ) -> Result<User, ServiceError> {
        let now = self.clock.now();
        let existing = tx
            .get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        let mut user = existing.clone();
        if let Some(first_name) = &patch.first_name {
            user.first_name = validate::name("firstName", first_name)?;
        }
        if let Some(name) = &patch.last_name {
            user.last_name = last_name(name)?;
        }
        if let Some(email) = &patch.email {
            user.email = validate::email(email)?;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(status) = patch.status {
            user.set_status(status, now);
        }
        // People may rename themselves; everything else is directory management.
        let renames_oneself = ctx.actor.user_id() == Some(user_id)
            && action == AuditAction::UserUpdated
            && patch.only_names();
        if !renames_oneself {
            require_user_management(ctx, &[existing.role, user.role])?;
        }
        if patch.manager_id.is_some_and(|m| m != existing.manager_id) {
            require_governance_data_admin(ctx, "a user's manager")?;
        }
        if user.email != existing.email {
            require_governance_data_admin(ctx, "a user's e-mail")?;
        }
        if action == AuditAction::UserRestored {
            if existing.deleted_at.is_none() {
                return Err(ServiceError::Invalid("User is not deleted".into()));
            }
            user.deleted_at = None;
        }
        if let Some(manager_id) = patch.manager_id {
            if let Some(manager_id) = manager_id {
                require_manager(&mut *tx, ctx.org_id(), manager_id).await?;
                let chain = tx.manager_chain(ctx.org_id(), manager_id, MAX_MANAGER_DEPTH).await?;
                check_manager_assignment(user.id, manager_id, &chain)?;
            }
            user.manager_id = manager_id;
        }
        let was_active_owner = existing.role == OrgRole::Owner && existing.is_active();
        let is_active_owner = user.role == OrgRole::Owner && user.is_active();
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
        user.updated_at = now;
        match tx.update_user(&user).await {
            Err(StoreError::Conflict(_)) => return Err(email_taken(&user.email)),
            other => other?,
        }
        if existing.deleted_at.is_none() && user.deleted_at.is_some() {
            // Deleting a user ends their access for good: every token is revoked and every
            // console session closed, so restoring the user later revives neither (they get new
            // tokens).
            tx.revoke_all_user_tokens(ctx.org_id(), UserId(user.id), now).await?;
            tx.delete_user_console_sessions(ctx.org_id(), user.id).await?;
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(action, "user", user.id).before(snapshot(&existing)).after(snapshot(&user)),
        )
        .await?;
        // Mover: the old manager's work about this user moves with the change.
        if let Some(old) = existing.manager_id.filter(|old| user.manager_id != Some(*old)) {
            if user.deleted_at.is_none() {
                self.move_manager_work(&mut *tx, ctx, &user, old).await?;
            }
        }
        // Leaver: every deactivation path offboards, in this transaction.
        if existing.deleted_at.is_none() && user.deleted_at.is_some() {
            self.offboard_in_tx(&mut *tx, ctx, &user).await?;
        }
        Ok(user)
    }
}

/// The `user.invited` audit row and event of a user who has not validated their account.
fn invitation(user: &User) -> Change {
    Change::new(AuditAction::UserInvited, "user", user.id).after(serde_json::json!({
        "userId": user.id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
    }))
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
