//! Opening requests: checks, policy resolution, and the tasks each step opens.
use chrono::{DateTime, Utc};
use portcullis_domain::governance::{resolve_policy, start_request};
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, Assignment, PageRequest, Request, RequestStatus, RequestType, Task, TaskKind,
    TaskStatus, UserStatus, WorkApp, WorkAppStatus,
};
use portcullis_domain::{PermissionLevel, User, UsersGroup};
use portcullis_domain::{PermissionLevelId, UserId, WorkAppId};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use super::*;
use crate::{ActorKind, Change, Ctx, Service, ServiceError};

impl Service {
    /// Creates a request of any type and starts it (opens its first task, or carries it out).
    pub async fn create_request(
        &self,
        ctx: &Ctx,
        new: NewRequest,
    ) -> Result<RequestDetails, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let request = self.open_request(&mut *tx, ctx, new, Origin::default()).await?;
        tx.commit().await?;
        // The answer is read after the commit: every other writer waits while a write
        // transaction is open, so it holds only the change.
        let tasks = self.store.read().await?.request_tasks(ctx.org_id(), request.id).await?;
        Ok(RequestDetails { request, tasks })
    }

    /// Validates and inserts a request inside the caller's transaction, then starts it.
    pub(crate) async fn open_request(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        new: NewRequest,
        origin: Origin,
    ) -> Result<Request, ServiceError> {
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let justification = validate::text("justification", new.justification.as_deref())?;
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::Invalid("expiresAt must be in the future".into()));
        }
        if new.expires_at.is_some() && new.request_type != RequestType::GrantAccess {
            return Err(ServiceError::Invalid("expiresAt applies to grant requests only".into()));
        }
        let app = tx
            .get_work_app(org_id, new.work_app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", new.work_app_id))?;
        // The requester: a person with their own token is the requester, whatever their role; a
        // credential may name one (an active user), recorded beside the credential.
        let created_by = match (ctx.actor.kind, new.created_by_user_id) {
            _ if origin.automated => None,
            (ActorKind::User { id, .. }, Some(creator)) if creator != id => {
                return Err(ServiceError::Forbidden(
                    "createdByUserId must be yourself: a request made with a personal token is \
                     recorded as made by its holder"
                        .into(),
                ))
            }
            (ActorKind::User { id, .. }, _) => Some(id),
            (_, Some(creator)) => {
                Some(active_named_user(&mut *tx, org_id, "createdByUserId", creator).await?.id)
            }
            (_, None) => None,
        };
        let ctx = &ctx.acting_for(created_by);
        let target_user_id = if new.request_type.targets_user() {
            let target_id = new
                .target_user_id
                .ok_or_else(|| ServiceError::Invalid("targetUserId is required".into()))?;
            let target = tx
                .get_user(org_id, target_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("user", target_id))?;
            if let ActorKind::User { id, role, .. } = ctx.actor.kind {
                if !origin.automated
                    && target.id != id
                    && target.manager_id != Some(id)
                    && !role.is_org_admin()
                {
                    return Err(ServiceError::Forbidden(
                        "You may request only for yourself or the people you manage".into(),
                    ));
                }
            }
            if target.status() == UserStatus::Deactivated
                && new.request_type != RequestType::RemoveAccess
            {
                return Err(ServiceError::Conflict(format!("user {target_id} is deactivated")));
            }
            Some(target_id)
        } else {
            if new.target_user_id.is_some() {
                return Err(ServiceError::Invalid(format!(
                    "targetUserId does not apply to {}",
                    new.request_type.name()
                )));
            }
            None
        };
        let level_id =
            self.check_request_subject(tx, org_id, &app, &new, target_user_id, now).await?;

        let default = self.default_policy(tx, org_id, new.request_type).await?;
        let (level_policy, app_policy) = tx
            .assigned_policies(
                org_id,
                WorkAppId(app.id),
                level_id.map(PermissionLevelId),
                new.request_type,
            )
            .await?;
        let policy_id = resolve_policy(level_policy, app_policy, default.id);
        let policy = match policy_id == default.id {
            true => default,
            false => tx
                .get_policy(org_id, policy_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("policy", policy_id))?,
        };
        let step_count = if origin.implicitly_approved { 0 } else { policy.steps.len() as i32 };
        let request = Request {
            id: new_id(),
            org_id,
            request_type: new.request_type,
            work_app_id: app.id,
            target_user_id,
            permission_level_id: new.permission_level_id,
            created_by_user_id: created_by,
            justification,
            expires_at: new.expires_at,
            status: RequestStatus::Pending,
            policy_id: policy.id,
            policy_version: policy.version,
            step_count,
            cancelled_by_user_id: None,
            source_group_id: origin.group_id,
            created_at: now,
            updated_at: now,
        };
        match tx.insert_request(&request).await {
            Err(StoreError::Conflict(_)) => return Err(open_request_exists()),
            other => other?,
        }
        self.audit(
            tx,
            ctx,
            Change::new(AuditAction::RequestCreated, "request", request.id)
                .after(request_snapshot(&request)),
        )
        .await?;
        let transition = start_request(step_count, app.provisioning_mode);
        self.apply_transition(tx, ctx, request, &app, transition, None, None).await
    }

    /// Per-type preconditions; returns the permission level the request is about (for policies).
    pub(super) async fn check_request_subject(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        app: &WorkApp,
        new: &NewRequest,
        target_user_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, ServiceError> {
        let archived = || ServiceError::Conflict(format!("work app {} is archived", app.id));
        let live_access = match target_user_id {
            Some(user) => tx
                .get_access(org_id, WorkAppId(app.id), UserId(user))
                .await?
                .filter(|a| a.is_live_at(now)),
            None => None,
        };
        match new.request_type {
            RequestType::GrantAccess | RequestType::ChangePermissionLevel => {
                if app.status == WorkAppStatus::Archived {
                    return Err(archived());
                }
                let has_levels = !tx
                    .list_permission_levels(org_id, app.id, PageRequest { after: None, limit: 1 })
                    .await?
                    .items
                    .is_empty();
                match (new.permission_level_id, has_levels) {
                    (None, true) => {
                        return Err(ServiceError::Invalid(format!(
                            "permissionLevelId is required: work app {} has permission levels",
                            app.id
                        )))
                    }
                    (Some(_), false) => {
                        return Err(ServiceError::Invalid(format!(
                            "work app {} has no permission levels; omit permissionLevelId",
                            app.id
                        )))
                    }
                    (Some(level_id), true) => {
                        let level = tx.get_permission_level(org_id, level_id).await?;
                        if level.is_none_or(|l| l.work_app_id != app.id) {
                            return Err(ServiceError::NotFound(format!(
                                "permission level {level_id} not found for work app {}",
                                app.id
                            )));
                        }
                    }
                    (None, false) => {}
                }
                match (new.request_type, &live_access) {
                    (RequestType::GrantAccess, Some(_)) => {
                        return Err(ServiceError::Conflict(
                            "the user already has access to this work app".into(),
                        ))
                    }
                    (RequestType::ChangePermissionLevel, None) => {
                        return Err(ServiceError::Conflict(
                            "the user has no access to this work app to change".into(),
                        ))
                    }
                    (RequestType::ChangePermissionLevel, Some(a))
                        if a.permission_level_id == new.permission_level_id =>
                    {
                        return Err(ServiceError::Conflict(
                            "the user already has this permission level".into(),
                        ))
                    }
                    _ => {}
                }
                Ok(new.permission_level_id)
            }
            RequestType::RemoveAccess => match live_access {
                Some(a) => Ok(a.permission_level_id),
                None => Err(ServiceError::Conflict(
                    "the user has no access to this work app to remove".into(),
                )),
            },
            RequestType::AddNewManagedWorkApp => {
                if app.status != WorkAppStatus::Unmanaged {
                    return Err(ServiceError::Conflict(format!(
                        "work app {} is {}; only Unmanaged apps can be added as Managed",
                        app.id,
                        app.status.name()
                    )));
                }
                Ok(None)
            }
            RequestType::ArchiveWorkApp => {
                if app.status == WorkAppStatus::Archived {
                    return Err(archived());
                }
                Ok(None)
            }
        }
    }

    /// What every group-join grant of one default app shares, computed once per app: the app,
    /// the level, the resolved policy and the action's assignees. `None` when the app can no
    /// longer be granted (archived, or it gained levels and the default names none).
    pub(crate) async fn plan_group_grant(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        work_app_id: Uuid,
        level_id: Option<Uuid>,
    ) -> Result<Option<GrantPlan>, ServiceError> {
        let Some(app) = tx.get_work_app(org_id, work_app_id).await? else { return Ok(None) };
        if app.status == WorkAppStatus::Archived {
            return Ok(None);
        }
        let has_levels = !tx
            .list_permission_levels(org_id, app.id, PageRequest { after: None, limit: 1 })
            .await?
            .items
            .is_empty();
        if has_levels != level_id.is_some() {
            tracing::warn!(work_app_id = %app.id, "default work app skipped: its level no longer fits the app");
            return Ok(None);
        }
        let default = self.default_policy(tx, org_id, RequestType::GrantAccess).await?;
        let (level_policy, app_policy) = tx
            .assigned_policies(
                org_id,
                WorkAppId(app.id),
                level_id.map(PermissionLevelId),
                RequestType::GrantAccess,
            )
            .await?;
        let policy_id = resolve_policy(level_policy, app_policy, default.id);
        let policy = if policy_id == default.id {
            default
        } else {
            tx.get_policy(org_id, policy_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("policy", policy_id))?
        };
        let action_candidates = self.action_candidates(tx, org_id, &app).await?;
        Ok(Some(GrantPlan { app, level_id, policy, action_candidates }))
    }

    /// Opens one group-join grant, `request` as [`GrantPlan::request`] made it; the caller has
    /// checked the member and that the member neither holds the app nor has an open request
    /// for it.
    pub(super) async fn open_planned_grant(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        plan: &GrantPlan,
        request: Request,
    ) -> Result<Request, ServiceError> {
        match tx.insert_request(&request).await {
            Err(StoreError::Conflict(_)) => return Err(open_request_exists()),
            other => other?,
        }
        let change = Change::new(AuditAction::RequestCreated, "request", request.id)
            .after(request_snapshot(&request));
        self.audit(tx, ctx, change).await?;
        let transition = plan.start(&request);
        self.apply_transition(
            tx,
            ctx,
            request,
            &plan.app,
            transition,
            None,
            Some(&plan.action_candidates),
        )
        .await
    }

    /// The Cakewalk `action_task.actionable` payload: the task, who must act, and the request.
    pub(super) async fn actionable_payload(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
        task: &Task,
    ) -> Result<serde_json::Value, ServiceError> {
        let org_id = request.org_id;
        let reviewers: Vec<Uuid> = tx
            .request_tasks(org_id, request.id)
            .await?
            .iter()
            .filter(|t| t.kind == TaskKind::Review && t.status == TaskStatus::Approved)
            .filter_map(|t| t.decided_by_user_id)
            .collect();
        let mut ids = task.assignee_ids.clone();
        ids.extend(reviewers.iter().copied());
        ids.extend(request.created_by_user_id);
        ids.extend(request.target_user_id);
        let users = tx.get_users(org_id, &ids).await?;
        let app = tx.get_work_app(org_id, request.work_app_id).await?;
        let level = match request.permission_level_id {
            Some(id) => tx.get_permission_level(org_id, id).await?,
            None => None,
        };
        let group = match request.source_group_id {
            Some(id) => tx.get_group(org_id, id).await?,
            None => None,
        };
        let about = Subject { app: app.as_ref(), level: level.as_ref(), group: group.as_ref() };
        let user = |id: Uuid| users.iter().find(|u| u.id == id);
        Ok(actionable_data(request, task, &reviewers, user, about))
    }

    pub(crate) async fn active(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Uuid>, ServiceError> {
        let users = tx.get_users(org_id, ids).await?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| users.iter().any(|u| u.id == *id && u.is_active()))
            .collect())
    }

    /// Inserts a task; `done` = Some(by) inserts it already Completed (automatic provisioning).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn open_task(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        request: &Request,
        kind: TaskKind,
        step: i32,
        assignment: Assignment,
        done: Option<Option<Uuid>>,
    ) -> Result<Task, ServiceError> {
        let task = Task::opened(request, kind, step, assignment, done, self.clock.now());
        tx.insert_task(&task).await?;
        let change = task_created(request, &task);
        self.audit(tx, ctx, change).await?;
        if kind == TaskKind::Action && done.is_none() {
            let data = self.actionable_payload(tx, request, &task).await?;
            let change =
                Change::new(AuditAction::ActionTaskActionable, "task", task.id).event(data);
            self.audit(tx, ctx, change).await?;
        }
        self.notify_task_opened(tx, request, &task).await?;
        Ok(task)
    }
}

/// What an action task's `action_task.actionable` payload names besides its people.
#[derive(Clone, Copy)]
pub(super) struct Subject<'a> {
    pub app: Option<&'a WorkApp>,
    pub level: Option<&'a PermissionLevel>,
    pub group: Option<&'a UsersGroup>,
}

/// The Cakewalk `action_task.actionable` payload: the task, who must act, and the request;
/// `user` finds (at least) the assignees, the reviewers, the requester and the target user.
pub(super) fn actionable_data<'u>(
    request: &Request,
    task: &Task,
    reviewers: &[Uuid],
    user: impl Fn(Uuid) -> Option<&'u User>,
    about: Subject<'_>,
) -> serde_json::Value {
    let user_ref = |id: Uuid| {
        user(id)
            .map(|u| serde_json::json!({ "id": u.id, "email": u.email, "fullName": u.full_name() }))
    };
    serde_json::json!({
        "taskId": task.id,
        "assignedTo": task.assignee_ids.iter().filter_map(|id| user_ref(*id)).collect::<Vec<_>>(),
        "requestMetadata": {
            "requestId": request.id,
            "reviewedBy": reviewers.iter().filter_map(|id| user_ref(*id)).collect::<Vec<_>>(),
            "requestType": request.request_type.name(),
            "requestedBy": request.created_by_user_id.and_then(user_ref),
            "targetWorkApp": about.app.map(|a| serde_json::json!({ "id": a.id, "name": a.name })),
            "permissionLevel": about.level.map(|l| serde_json::json!({ "id": l.id, "name": l.name })),
            "targetUser": request.target_user_id.and_then(user_ref),
            "triggeredByUsersGroup": about.group.map(|g| serde_json::json!({ "id": g.id, "name": g.name })),
        }
    })
}

/// The audit row (and `task.created` event) of a task that just opened.
pub(super) fn task_created(request: &Request, task: &Task) -> Change {
    Change::new(AuditAction::TaskCreated, "task", task.id).after(serde_json::json!({
        "requestId": request.id,
        "type": task.kind.name(),
        "status": task.status.name(),
        "step": task.step,
        "assigneeIds": task.assignee_ids,
        "unassignedReason": task.unassigned_reason,
    }))
}
