//! User groups: membership (joining requests the default apps), default and hidden work apps.
use portcullis_domain::groups::dedup_new_members;
use portcullis_domain::workapp::{check_app_and_level, GrantEntry};
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, DefaultWorkApp, GroupSource, Page, PageRequest, User, UsersGroup,
};
use portcullis_domain::{GroupId, GroupLeaveAction, RequestType};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use crate::requests::{active_named_user, NewRequest, Origin};
use crate::work_apps::{grant_error, WorkAppDetails};
use crate::{Change, Ctx, Service, ServiceError};

/// What adding members did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddMembersOutcome {
    pub added: usize,
    pub requests_created: usize,
}

/// What removing members did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveMembersOutcome {
    pub removed: usize,
    /// Remove-Access requests opened for the default apps the leavers lose.
    pub requests_created: usize,
}

/// Changes to a group; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn snapshot(g: &UsersGroup) -> serde_json::Value {
    serde_json::json!({ "name": g.name, "description": g.description })
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("a group named '{name}' already exists"))
}

impl Service {
    /// A group the identity provider manages (created over SCIM) has its name and members set
    /// there; our own API and console may still set its description and its default and hidden
    /// apps.
    async fn require_not_scim_managed(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        group_id: Uuid,
    ) -> Result<(), ServiceError> {
        if ctx.actor.is_scim() {
            return Ok(());
        }
        let managed = tx.get_scim_group(ctx.org_id(), group_id, false).await?;
        if managed.is_some_and(|g| g.source == GroupSource::Scim) {
            return Err(ServiceError::Conflict(format!(
                "Users group {group_id} is managed by the identity provider (SCIM): change its \
                 name and members there"
            )));
        }
        Ok(())
    }

    async fn group_in_org(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        group_id: Uuid,
    ) -> Result<UsersGroup, ServiceError> {
        tx.get_group(ctx.org_id(), group_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("users group", group_id))
    }

    pub async fn create_group(
        &self,
        ctx: &Ctx,
        name: &str,
        description: Option<&str>,
    ) -> Result<UsersGroup, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let group = self.insert_group_in(&mut *tx, ctx, name, description).await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Creates a group inside the caller's transaction, once the caller is authorised.
    pub(crate) async fn insert_group_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        name: &str,
        description: Option<&str>,
    ) -> Result<UsersGroup, ServiceError> {
        let now = self.clock.now();
        let group = UsersGroup {
            id: new_id(),
            org_id: ctx.org_id(),
            name: validate::name("name", name)?,
            description: validate::text("description", description)?,
            member_count: 0,
            created_at: now,
            updated_at: now,
        };
        match tx.insert_group(&group).await {
            Err(StoreError::Conflict(_)) => return Err(name_taken(&group.name)),
            other => other?,
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::GroupCreated, "users_group", group.id).after(snapshot(&group)),
        )
        .await?;
        Ok(group)
    }

    pub async fn update_group(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        patch: GroupPatch,
    ) -> Result<UsersGroup, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = self.group_in_org(&mut *tx, ctx, group_id).await?;
        if patch.name.as_ref().is_some_and(|n| n.trim() != before.name) {
            self.require_not_scim_managed(&mut *tx, ctx, group_id).await?;
        }
        let group = self.update_group_in(&mut *tx, ctx, &before, patch).await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Renames or re-describes a group inside the caller's transaction.
    pub(crate) async fn update_group_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        before: &UsersGroup,
        patch: GroupPatch,
    ) -> Result<UsersGroup, ServiceError> {
        let mut group = before.clone();
        if let Some(name) = &patch.name {
            group.name = validate::name("name", name)?;
        }
        if let Some(d) = &patch.description {
            group.description = validate::text("description", Some(d))?;
        }
        if group != *before {
            group.updated_at = self.clock.now();
            match tx.update_group(&group).await {
                Err(StoreError::Conflict(_)) => return Err(name_taken(&group.name)),
                other => other?,
            }
            let change = Change::new(AuditAction::GroupUpdated, "users_group", group.id)
                .before(snapshot(before))
                .after(snapshot(&group));
            self.audit(&mut *tx, ctx, change).await?;
        }
        Ok(group)
    }

    /// Deletes a group. Accesses its members got through it stay (removing them is a request).
    pub async fn delete_group(&self, ctx: &Ctx, group_id: Uuid) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let group = self.group_in_org(&mut *tx, ctx, group_id).await?;
        self.require_not_scim_managed(&mut *tx, ctx, group_id).await?;
        self.delete_group_in(&mut *tx, ctx, &group).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn delete_group_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        group: &UsersGroup,
    ) -> Result<(), ServiceError> {
        tx.delete_group(ctx.org_id(), group.id).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::GroupDeleted, "users_group", group.id).before(snapshot(group)),
        )
        .await?;
        Ok(())
    }

    pub async fn get_group(&self, ctx: &Ctx, group_id: Uuid) -> Result<UsersGroup, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.group_in_org(&mut *tx, ctx, group_id).await
    }

    pub async fn list_groups(
        &self,
        ctx: &Ctx,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_groups(ctx.org_id(), page).await?)
    }

    /// Groups whose name contains `text` (the console's search), a page at a time.
    pub async fn search_groups(
        &self,
        ctx: &Ctx,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.search_groups(ctx.org_id(), text, page).await?)
    }

    pub async fn list_group_members(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.group_in_org(&mut *tx, ctx, group_id).await?;
        Ok(tx.list_group_members(ctx.org_id(), group_id, page).await?)
    }

    /// Seed 001: adds users to a group. New members get a GrantAccessRequest for each default app
    /// of the group they lack (neither a live access nor an open request); with
    /// `implicitly_approve` those requests skip review and complete (or await their action, for
    /// Manual apps) at once. All-or-nothing: any unknown user or group changes nothing.
    ///
    /// Joiner: with the organization's `noTouchOnboarding`, a join made by the identity provider
    /// (a SCIM actor) of a user created less than `joinerWindowHours` ago is approved at once in
    /// the same way, whatever `implicitly_approve` says.
    pub async fn add_group_members(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        user_ids: &[Uuid],
        triggered_by: Option<Uuid>,
        implicitly_approve: bool,
    ) -> Result<AddMembersOutcome, ServiceError> {
        ctx.actor.require_org_admin()?;
        let user_ids = dedup_new_members(user_ids)?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let group = self.group_in_org(&mut *tx, ctx, group_id).await?;
        self.require_not_scim_managed(&mut *tx, ctx, group_id).await?;
        // Who the requests are made by: a person with their own token is that person; a
        // credential may name an active user, recorded beside the credential.
        let triggered_by = match (ctx.actor.user_id(), triggered_by) {
            (Some(me), Some(named)) if named != me => {
                return Err(ServiceError::Forbidden("triggeredByUserId must be yourself".into()))
            }
            (Some(me), _) => Some(me),
            (None, Some(named)) => {
                Some(active_named_user(&mut *tx, org_id, "triggeredByUserId", named).await?.id)
            }
            (None, None) => None,
        };
        let ctx = &ctx.acting_for(triggered_by);
        let found = tx.get_users(org_id, &user_ids).await?;
        if let Some(missing) = user_ids.iter().find(|id| !found.iter().any(|u| u.id == **id)) {
            return Err(ServiceError::not_found("user", missing));
        }
        // Implicit approval is an approval: a person never gives it to their own access.
        if let Some(me) =
            ctx.actor.user_id().filter(|me| implicitly_approve && user_ids.contains(me))
        {
            return Err(ServiceError::Forbidden(format!(
                "Separation of duties: you may not approve your own access (user {me} is among \
                 userIds); add yourself without implicitlyApproveRequests so that the requests \
                 follow their approval policy, or have another administrator add you"
            )));
        }
        let outcome = self
            .add_members_in(&mut *tx, ctx, &group, &user_ids, triggered_by, implicitly_approve)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Adds members inside the caller's transaction, once the caller is authorised and the
    /// users are known to be in the organization: the memberships, their audit rows, and a
    /// grant request per default app a new member lacks.
    pub(crate) async fn add_members_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        group: &UsersGroup,
        user_ids: &[Uuid],
        triggered_by: Option<Uuid>,
        implicitly_approve: bool,
    ) -> Result<AddMembersOutcome, ServiceError> {
        let org_id = ctx.org_id();
        let group_id = group.id;
        let now = self.clock.now();
        let existing = tx.existing_members(org_id, GroupId(group_id), user_ids).await?;
        let new_members: Vec<Uuid> =
            user_ids.iter().copied().filter(|id| !existing.contains(id)).collect();
        if new_members.is_empty() {
            return Ok(AddMembersOutcome { added: 0, requests_created: 0 });
        }
        tx.insert_group_members(org_id, GroupId(group_id), &new_members, now).await?;
        let changes = new_members
            .iter()
            .map(|member| {
                Change::new(AuditAction::GroupMemberAdded, "users_group", group.id).after(
                    serde_json::json!({ "userId": member, "triggeredByUserId": triggered_by }),
                )
            })
            .collect();
        self.audit_many(&mut *tx, ctx, changes).await?;

        let defaults = tx.group_default_apps(org_id, group_id).await?;
        let app_ids: Vec<Uuid> = defaults.iter().map(|d| d.work_app_id).collect();
        let covered = tx.covered_pairs(org_id, &new_members, &app_ids, now).await?;
        let covered: std::collections::HashSet<(Uuid, Uuid)> = covered.into_iter().collect();
        let settings = tx.get_organization_settings(org_id).await?;
        let joiners = tx.get_users(org_id, &new_members).await?;
        let at_once: std::collections::HashSet<Uuid> = joiners
            .iter()
            .filter(|u| {
                implicitly_approve || settings.approves_join_at_once(ctx.actor.is_scim(), u, now)
            })
            .map(|u| u.id)
            .collect();
        let justification = format!("Member of group {}", group.name);
        let mut plans = Vec::with_capacity(defaults.len());
        for default in &defaults {
            let plan = self
                .plan_group_grant(
                    &mut *tx,
                    org_id,
                    default.work_app_id,
                    default.permission_level_id,
                )
                .await?;
            plans.extend(plan);
        }
        // Every default app the group can still give, to every new member who lacks it.
        let mut grants = Vec::new();
        for plan in &plans {
            for member in &new_members {
                if covered.contains(&(*member, plan.app.id)) {
                    continue;
                }
                let origin = Origin {
                    implicitly_approved: at_once.contains(member),
                    group_id: Some(group_id),
                    automated: false,
                };
                grants.push((plan, *member, origin));
            }
        }
        let requests_created =
            self.open_planned_grants(&mut *tx, ctx, &grants, triggered_by, &justification).await?;
        Ok(AddMembersOutcome { added: new_members.len(), requests_created })
    }

    /// Removes one membership: [`Service::remove_group_members`] with one user.
    pub async fn remove_group_member(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        user_id: Uuid,
    ) -> Result<RemoveMembersOutcome, ServiceError> {
        self.remove_group_members(ctx, group_id, &[user_id]).await
    }

    /// Mover: removes users from a group, all or nothing (an unknown group, or any user who is
    /// not a member, changes nothing: 404). With the organization's `groupLeaveAction`
    /// `RemoveAccess` (the default), each leaver gets a Remove-Access request for every default
    /// app of the group they hold a live access to, unless another group they still belong to
    /// also has it as a default app, or a request for that access is already open; the requests
    /// follow the removal policy (Manual apps get their action task once approved). With `Keep`,
    /// accesses stay.
    pub async fn remove_group_members(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<RemoveMembersOutcome, ServiceError> {
        ctx.actor.require_org_admin()?;
        let user_ids = dedup_new_members(user_ids)?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let group = self.group_in_org(&mut *tx, ctx, group_id).await?;
        self.require_not_scim_managed(&mut *tx, ctx, group_id).await?;
        let outcome = self.remove_members_in(&mut *tx, ctx, &group, &user_ids).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// [`Service::remove_group_members`] inside the caller's transaction, once the caller is
    /// authorised: the memberships, their audit rows and the group-leave removal requests.
    pub(crate) async fn remove_members_in(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        group: &UsersGroup,
        user_ids: &[Uuid],
    ) -> Result<RemoveMembersOutcome, ServiceError> {
        let org_id = ctx.org_id();
        let group_id = group.id;
        let now = self.clock.now();
        let removed = tx.delete_group_members(org_id, GroupId(group_id), user_ids).await?;
        if let Some(missing) = user_ids.iter().find(|id| !removed.contains(id)) {
            return Err(ServiceError::NotFound(format!(
                "user {missing} is not a member of group {group_id}"
            )));
        }
        let changes = user_ids
            .iter()
            .map(|user_id| {
                Change::new(AuditAction::GroupMemberRemoved, "users_group", group.id)
                    .before(serde_json::json!({ "userId": user_id }))
            })
            .collect();
        self.audit_many(&mut *tx, ctx, changes).await?;
        let settings = tx.get_organization_settings(org_id).await?;
        let mut requests_created = 0;
        if settings.group_leave_action == GroupLeaveAction::RemoveAccess {
            let removals =
                tx.group_leave_removals(org_id, GroupId(group_id), user_ids, now).await?;
            let origin = Origin { group_id: Some(group_id), ..Origin::default() };
            for (user_id, work_app_id) in removals {
                let new = NewRequest {
                    request_type: RequestType::RemoveAccess,
                    work_app_id,
                    target_user_id: Some(user_id),
                    permission_level_id: None,
                    created_by_user_id: None,
                    justification: Some(format!("Left group {}", group.name)),
                    expires_at: None,
                };
                self.open_request(&mut *tx, ctx, new, origin).await?;
                requests_created += 1;
            }
        }
        Ok(RemoveMembersOutcome { removed: user_ids.len(), requests_created })
    }

    /// Replaces the group's default apps; every entry is validated like a bulk-grant entry.
    /// Existing members are not granted retroactively (only members added later).
    pub async fn set_group_default_apps(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        apps: &[DefaultWorkApp],
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        if apps.len() > portcullis_domain::workapp::MAX_BULK_GRANT {
            return Err(ServiceError::Invalid("too many default work apps".into()));
        }
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.group_in_org(&mut *tx, ctx, group_id).await?;
        let entries: Vec<GrantEntry> = apps
            .iter()
            .map(|a| GrantEntry {
                work_app_id: a.work_app_id,
                user_id: group_id,
                permission_level_id: a.permission_level_id,
                expires_at: None,
            })
            .collect();
        let facts = tx.grant_facts(org_id, &entries).await?;
        for (i, app) in apps.iter().enumerate() {
            check_app_and_level(i, app.work_app_id, app.permission_level_id, &facts)
                .map_err(grant_error)?;
        }
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<DefaultWorkApp> =
            apps.iter().rev().filter(|a| seen.insert(a.work_app_id)).copied().collect();
        tx.set_group_default_apps(org_id, group_id, &unique).await?;
        let change = Change::new(AuditAction::GroupDefaultAppsSet, "users_group", group_id).after(serde_json::json!(unique
            .iter()
            .map(|a| serde_json::json!({ "workAppId": a.work_app_id, "permissionLevelId": a.permission_level_id }))
            .collect::<Vec<_>>()));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the group's hidden apps (apps not offered to its members in the catalogue).
    pub async fn set_group_hidden_apps(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        if app_ids.len() > portcullis_domain::workapp::MAX_BULK_GRANT {
            return Err(ServiceError::Invalid("too many hidden work apps".into()));
        }
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.group_in_org(&mut *tx, ctx, group_id).await?;
        for (i, app_id) in app_ids.iter().enumerate() {
            if tx.get_work_app(org_id, *app_id).await?.is_none() {
                return Err(ServiceError::NotFound(format!(
                    "data[{i}]: work app {app_id} not found"
                )));
            }
        }
        tx.set_group_hidden_apps(org_id, group_id, app_ids).await?;
        let change = Change::new(AuditAction::GroupHiddenAppsSet, "users_group", group_id)
            .after(serde_json::json!(app_ids));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The group's default apps with the level members get.
    pub async fn group_default_apps(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
    ) -> Result<Vec<(WorkAppDetails, Option<Uuid>)>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.group_in_org(&mut *tx, ctx, group_id).await?;
        let defaults = tx.group_default_apps(ctx.org_id(), group_id).await?;
        let mut apps = Vec::with_capacity(defaults.len());
        for d in &defaults {
            if let Some(app) = tx.get_work_app(ctx.org_id(), d.work_app_id).await? {
                apps.push(app);
            }
        }
        let details = self.details(&mut *tx, apps).await?;
        Ok(details
            .into_iter()
            .map(|d| {
                let level = defaults
                    .iter()
                    .find(|x| x.work_app_id == d.app.id)
                    .and_then(|x| x.permission_level_id);
                (d, level)
            })
            .collect())
    }

    pub async fn group_hidden_apps(
        &self,
        ctx: &Ctx,
        group_id: Uuid,
    ) -> Result<Vec<WorkAppDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.group_in_org(&mut *tx, ctx, group_id).await?;
        let ids = tx.group_hidden_apps(ctx.org_id(), group_id).await?;
        let mut apps = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(app) = tx.get_work_app(ctx.org_id(), id).await? {
                apps.push(app);
            }
        }
        self.details(&mut *tx, apps).await
    }
}
