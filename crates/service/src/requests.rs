//! Requests and approval tasks: creation with policy resolution, decisions, cancellation, and the
//! action each request type carries out. The state machine itself is `domain::governance`.
use chrono::{DateTime, Utc};
use portcullis_domain::governance::{
    cancel_request, decide_task, resolve_policy, start_request, step_assignees, NextTask,
    Transition,
};
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, AccessSource, Approver, Decision, Page, PageRequest, ProvisioningMode,
    Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus, User, UserStatus, WorkApp,
    WorkAppStatus,
};
use portcullis_store::prelude::*;
use portcullis_store::{RequestFilter, StoreError, TaskFilter};
use uuid::Uuid;

use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// A request to create.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub request_type: RequestType,
    pub work_app_id: Uuid,
    pub target_user_id: Option<Uuid>,
    pub permission_level_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub justification: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A request with its tasks, in step order.
#[derive(Debug, Clone)]
pub struct RequestDetails {
    pub request: Request,
    pub tasks: Vec<Task>,
}

/// A task with its request, its assignees and who decided it.
#[derive(Debug, Clone)]
pub struct TaskDetails {
    pub task: Task,
    pub request: Request,
    pub app_mode: ProvisioningMode,
    pub assignees: Vec<User>,
    pub decided_by: Option<User>,
}

/// Loads what a task's read model shows beside it.
async fn task_details(
    tx: &mut dyn ReadTx,
    task: Task,
    request: Request,
) -> Result<TaskDetails, ServiceError> {
    let org_id = task.org_id;
    let mut ids = task.assignee_ids.clone();
    ids.extend(task.decided_by_user_id);
    let users = tx.get_users(org_id, &ids).await?;
    let assignees = task
        .assignee_ids
        .iter()
        .filter_map(|id| users.iter().find(|u| u.id == *id).cloned())
        .collect();
    let decided_by =
        task.decided_by_user_id.and_then(|id| users.iter().find(|u| u.id == id).cloned());
    let app_mode = tx
        .get_work_app(org_id, request.work_app_id)
        .await?
        .map_or(ProvisioningMode::Manual, |a| a.provisioning_mode);
    Ok(TaskDetails { task, request, app_mode, assignees, decided_by })
}

/// The shared part of many grants of one app (see [`Service::plan_group_grant`]).
pub(crate) struct GrantPlan {
    pub app: WorkApp,
    pub level_id: Option<Uuid>,
    pub policy: portcullis_domain::Policy,
    pub action_assignees: Vec<Uuid>,
}

/// How a request came to be: directly, or implicitly approved through a group membership.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin {
    pub implicitly_approved: bool,
    pub group_id: Option<Uuid>,
}

fn request_snapshot(r: &Request) -> serde_json::Value {
    serde_json::json!({
        "requestType": r.request_type.name(),
        "status": r.status.name(),
        "workAppId": r.work_app_id,
        "targetUserId": r.target_user_id,
        "permissionLevelId": r.permission_level_id,
        "policyId": r.policy_id,
        "policyVersion": r.policy_version,
    })
}

fn open_request_exists() -> ServiceError {
    ServiceError::Conflict("there is already an open request for this user and work app".into())
}

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
        let tasks = tx.request_tasks(ctx.org_id(), request.id).await?;
        tx.commit().await?;
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
        let created_by = match (new.created_by_user_id, ctx.actor.kind) {
            (Some(id), _) => {
                tx.get_user(org_id, id)
                    .await?
                    .ok_or_else(|| ServiceError::not_found("user", id))?;
                Some(id)
            }
            (None, ActorKind::User { id, .. }) => Some(id),
            (None, _) => None,
        };
        if let (ActorKind::User { id, role, .. }, Some(creator)) =
            (ctx.actor.kind, new.created_by_user_id)
        {
            if creator != id && !role.is_org_admin() {
                return Err(ServiceError::Forbidden("createdByUserId must be yourself".into()));
            }
        }
        let target_user_id = if new.request_type.targets_user() {
            let target_id = new
                .target_user_id
                .ok_or_else(|| ServiceError::Invalid("targetUserId is required".into()))?;
            let target = tx
                .get_user(org_id, target_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("user", target_id))?;
            if let ActorKind::User { id, role, .. } = ctx.actor.kind {
                if target.id != id && target.manager_id != Some(id) && !role.is_org_admin() {
                    return Err(ServiceError::Forbidden(
                        "You may request only for yourself or the people you manage".into(),
                    ));
                }
            }
            if target.status == UserStatus::Deactivated
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
        let (level_policy, app_policy) =
            tx.assigned_policies(org_id, app.id, level_id, new.request_type).await?;
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
    async fn check_request_subject(
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
            Some(user) => tx.get_access(org_id, app.id, user).await?.filter(|a| a.is_live_at(now)),
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

    /// Carries out a transition: new request status, cancelled tasks, the next task, the action.
    // The two trailing options carry what a caller may already know (who decided; who acts).
    #[allow(clippy::too_many_arguments)]
    async fn apply_transition(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        mut request: Request,
        app: &WorkApp,
        transition: Transition,
        decided_by: Option<Uuid>,
        action_assignees: Option<&[Uuid]>,
    ) -> Result<Request, ServiceError> {
        let now = self.clock.now();
        if transition.cancel_open_tasks {
            tx.cancel_open_tasks(request.org_id, request.id, now).await?;
        }
        if transition.apply {
            self.carry_out(tx, ctx, &request, app).await?;
        }
        match transition.next {
            Some(NextTask::Review { step }) => {
                let assignees = self.review_assignees(tx, &request, app, step).await?;
                self.open_task(tx, ctx, &request, TaskKind::Review, step, assignees, None).await?;
            }
            Some(NextTask::Action { completed }) => {
                let assignees = match action_assignees {
                    Some(known) => known.to_vec(),
                    None => self.action_assignees(tx, request.org_id, app).await?,
                };
                let done = completed.then_some(decided_by);
                self.open_task(
                    tx,
                    ctx,
                    &request,
                    TaskKind::Action,
                    request.step_count,
                    assignees,
                    done,
                )
                .await?;
            }
            None => {}
        }
        if transition.request_status != request.status {
            request.status = transition.request_status;
            request.updated_at = now;
            tx.update_request(&request).await?;
            let action = match request.status {
                RequestStatus::Approved => AuditAction::RequestApproved,
                RequestStatus::Declined => AuditAction::RequestDeclined,
                RequestStatus::Completed => AuditAction::RequestCompleted,
                RequestStatus::Cancelled => AuditAction::RequestCancelled,
                RequestStatus::Failed => AuditAction::RequestFailed,
                RequestStatus::Pending => AuditAction::RequestPending,
            };
            self.audit(
                tx,
                ctx,
                Change::new(action, "request", request.id).after(request_snapshot(&request)),
            )
            .await?;
        }
        Ok(request)
    }

    /// Who carries out an action: the app's active owners, else the administrators.
    async fn action_assignees(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        app: &WorkApp,
    ) -> Result<Vec<Uuid>, ServiceError> {
        let owners = self.active(tx, org_id, &app.owner_ids).await?;
        let admins = tx.active_admin_ids(org_id).await?;
        Ok(step_assignees(owners, &admins))
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
        let (level_policy, app_policy) =
            tx.assigned_policies(org_id, app.id, level_id, RequestType::GrantAccess).await?;
        let policy_id = resolve_policy(level_policy, app_policy, default.id);
        let policy = if policy_id == default.id {
            default
        } else {
            tx.get_policy(org_id, policy_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("policy", policy_id))?
        };
        let action_assignees = self.action_assignees(tx, org_id, &app).await?;
        Ok(Some(GrantPlan { app, level_id, policy, action_assignees }))
    }

    /// Opens one group-join grant from a plan; the caller has checked the member and that the
    /// member neither holds the app nor has an open request for it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open_planned_grant(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        plan: &GrantPlan,
        member: Uuid,
        created_by: Option<Uuid>,
        origin: Origin,
        justification: &str,
    ) -> Result<Request, ServiceError> {
        let now = self.clock.now();
        let step_count =
            if origin.implicitly_approved { 0 } else { plan.policy.steps.len() as i32 };
        let request = Request {
            id: new_id(),
            org_id: ctx.org_id(),
            request_type: RequestType::GrantAccess,
            work_app_id: plan.app.id,
            target_user_id: Some(member),
            permission_level_id: plan.level_id,
            created_by_user_id: created_by,
            justification: justification.to_string(),
            expires_at: None,
            status: RequestStatus::Pending,
            policy_id: plan.policy.id,
            policy_version: plan.policy.version,
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
        let change = Change::new(AuditAction::RequestCreated, "request", request.id)
            .after(request_snapshot(&request));
        self.audit(tx, ctx, change).await?;
        let transition = start_request(step_count, plan.app.provisioning_mode);
        self.apply_transition(
            tx,
            ctx,
            request,
            &plan.app,
            transition,
            None,
            Some(&plan.action_assignees),
        )
        .await
    }

    /// The Cakewalk `action_task.actionable` payload: the task, who must act, and the request.
    async fn actionable_payload(
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
        let user_ref = |id: Uuid| {
            users
                .iter()
                .find(|u| u.id == id)
                .map(|u| serde_json::json!({ "id": u.id, "email": u.email, "fullName": u.name }))
        };
        let app = tx.get_work_app(org_id, request.work_app_id).await?;
        let level = match request.permission_level_id {
            Some(id) => tx.get_permission_level(org_id, id).await?,
            None => None,
        };
        let group = match request.source_group_id {
            Some(id) => tx.get_group(org_id, id).await?,
            None => None,
        };
        Ok(serde_json::json!({
            "taskId": task.id,
            "assignedTo": task.assignee_ids.iter().filter_map(|id| user_ref(*id)).collect::<Vec<_>>(),
            "requestMetadata": {
                "requestId": request.id,
                "reviewedBy": reviewers.iter().filter_map(|id| user_ref(*id)).collect::<Vec<_>>(),
                "requestType": request.request_type.name(),
                "requestedBy": request.created_by_user_id.and_then(user_ref),
                "targetWorkApp": app.map(|a| serde_json::json!({ "id": a.id, "name": a.name })),
                "permissionLevel": level.map(|l| serde_json::json!({ "id": l.id, "name": l.name })),
                "targetUser": request.target_user_id.and_then(user_ref),
                "triggeredByUsersGroup": group.map(|g| serde_json::json!({ "id": g.id, "name": g.name })),
            }
        }))
    }

    async fn active(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Uuid>, ServiceError> {
        let users = tx.get_users(org_id, ids).await?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| users.iter().any(|u| u.id == *id && u.status == UserStatus::Active))
            .collect())
    }

    /// The approvers of one review step of the request's policy version.
    async fn review_assignees(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
        app: &WorkApp,
        step: i32,
    ) -> Result<Vec<Uuid>, ServiceError> {
        let org_id = request.org_id;
        let steps = tx
            .get_policy_steps(org_id, request.policy_id, request.policy_version)
            .await?
            .ok_or_else(|| ServiceError::not_found("policy", request.policy_id))?;
        let step = steps
            .get(step as usize)
            .copied()
            .ok_or_else(|| ServiceError::Conflict(format!("policy has no step {step}")))?;
        let admins = tx.active_admin_ids(org_id).await?;
        let resolved = match step.approver {
            Approver::Manager => {
                let subject = request.target_user_id.or(request.created_by_user_id);
                let manager = match subject {
                    Some(id) => tx.get_user(org_id, id).await?.and_then(|u| u.manager_id),
                    None => None,
                };
                self.active(tx, org_id, &manager.into_iter().collect::<Vec<_>>()).await?
            }
            Approver::AppOwner => self.active(tx, org_id, &app.owner_ids).await?,
            Approver::Administrators => admins.clone(),
            Approver::User => {
                self.active(tx, org_id, &step.user_id.into_iter().collect::<Vec<_>>()).await?
            }
            Approver::GroupMembers => match step.group_id {
                Some(group) => tx.group_member_ids(org_id, group).await?,
                None => Vec::new(),
            },
        };
        Ok(step_assignees(resolved, &admins))
    }

    /// Inserts a task; `done` = Some(by) inserts it already Completed (automatic provisioning).
    #[allow(clippy::too_many_arguments)]
    async fn open_task(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        request: &Request,
        kind: TaskKind,
        step: i32,
        assignees: Vec<Uuid>,
        done: Option<Option<Uuid>>,
    ) -> Result<Task, ServiceError> {
        let now = self.clock.now();
        let task = Task {
            id: new_id(),
            org_id: request.org_id,
            request_id: request.id,
            kind,
            status: if done.is_some() { TaskStatus::Completed } else { TaskStatus::Open },
            step,
            assignee_ids: assignees,
            decided_by_user_id: done.flatten(),
            decided_at: done.map(|_| now),
            comment: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_task(&task).await?;
        let change =
            Change::new(AuditAction::TaskCreated, "task", task.id).after(serde_json::json!({
                "requestId": request.id,
                "type": kind.name(),
                "status": task.status.name(),
                "step": step,
                "assigneeIds": task.assignee_ids,
            }));
        self.audit(tx, ctx, change).await?;
        if kind == TaskKind::Action && done.is_none() {
            let data = self.actionable_payload(tx, request, &task).await?;
            let change =
                Change::new(AuditAction::ActionTaskActionable, "task", task.id).event(data);
            self.audit(tx, ctx, change).await?;
        }
        Ok(task)
    }

    /// The change a completed request makes.
    async fn carry_out(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        request: &Request,
        app: &WorkApp,
    ) -> Result<(), ServiceError> {
        let org_id = request.org_id;
        let now = self.clock.now();
        let user = request.target_user_id;
        match (request.request_type, user) {
            (RequestType::GrantAccess | RequestType::ChangePermissionLevel, Some(user_id)) => {
                let existing =
                    tx.get_access(org_id, app.id, user_id).await?.filter(|a| a.is_live_at(now));
                let expires_at = match request.request_type {
                    RequestType::GrantAccess => request.expires_at,
                    _ => existing.as_ref().and_then(|a| a.expires_at),
                };
                let entry = GrantEntry {
                    work_app_id: app.id,
                    user_id,
                    permission_level_id: request.permission_level_id,
                    expires_at,
                };
                let source = if request.source_group_id.is_some() {
                    AccessSource::Group
                } else {
                    AccessSource::Request
                };
                tx.upsert_accesses(org_id, &[entry], source, now).await?;
                let action = if existing.is_some() {
                    AuditAction::AccessChanged
                } else {
                    AuditAction::AccessGranted
                };
                let change = Change::new(action, "work_app", app.id).after(serde_json::json!({
                    "userId": user_id,
                    "permissionLevelId": request.permission_level_id,
                    "requestId": request.id,
                    "source": source.name(),
                }));
                self.audit(tx, ctx, change).await?;
            }
            (RequestType::RemoveAccess, Some(user_id)) => {
                if let Some(removed) = tx.delete_access(org_id, app.id, user_id).await? {
                    let change = Change::new(AuditAction::AccessRemoved, "work_app", app.id)
                        .before(serde_json::json!({
                            "userId": removed.user_id,
                            "permissionLevelId": removed.permission_level_id,
                            "requestId": request.id,
                        }));
                    self.audit(tx, ctx, change).await?;
                }
            }
            (RequestType::AddNewManagedWorkApp | RequestType::ArchiveWorkApp, _) => {
                let mut updated = app.clone();
                updated.status = if request.request_type == RequestType::ArchiveWorkApp {
                    WorkAppStatus::Archived
                } else {
                    WorkAppStatus::Managed
                };
                updated.updated_at = now;
                tx.update_work_app(&updated).await?;
                let action = if updated.status == WorkAppStatus::Archived {
                    AuditAction::WorkAppArchived
                } else {
                    AuditAction::WorkAppManaged
                };
                let change = Change::new(action, "work_app", app.id)
                    .after(serde_json::json!({ "statusName": updated.status.name(), "requestId": request.id }));
                self.audit(tx, ctx, change).await?;
            }
            (_, None) => {}
        }
        Ok(())
    }

    /// Approves or declines a task. Exactly one of two racing decisions wins; the other gets 409.
    pub async fn decide(
        &self,
        ctx: &Ctx,
        task_id: Uuid,
        decision: Decision,
        comment: Option<String>,
        on_behalf_of: Option<Uuid>,
    ) -> Result<TaskDetails, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let comment = comment
            .map(|c| validate::text("comment", Some(&c)))
            .transpose()?
            .filter(|c| !c.is_empty());
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let task = tx
            .get_task(org_id, task_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("task", task_id))?;
        let decided_by = match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                if !task.assignee_ids.contains(&id) && !role.is_org_admin() {
                    return Err(ServiceError::Forbidden(
                        "Only an assignee of the task or an administrator may decide it".into(),
                    ));
                }
                if on_behalf_of.is_some_and(|other| other != id) {
                    return Err(ServiceError::Forbidden("userId must be yourself".into()));
                }
                Some(id)
            }
            _ => match on_behalf_of {
                Some(user_id) => {
                    tx.get_user(org_id, user_id)
                        .await?
                        .ok_or_else(|| ServiceError::not_found("user", user_id))?;
                    Some(user_id)
                }
                None => None,
            },
        };
        let request = tx
            .get_request(org_id, task.request_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("request", task.request_id))?;
        let app = tx
            .get_work_app(org_id, request.work_app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", request.work_app_id))?;
        let mode = if request.request_type.targets_user() {
            app.provisioning_mode
        } else {
            ProvisioningMode::Automatic
        };
        let (task_status, transition) =
            decide_task(task.kind, task.status, task.step, request.step_count, decision, mode)?;
        // Conditional on the task still being Open: the loser of a race changes nothing.
        if !tx
            .decide_task(
                org_id,
                task_id,
                task_status,
                decided_by,
                comment.as_deref(),
                self.clock.now(),
            )
            .await?
        {
            return Err(ServiceError::Conflict("the task has already been decided".into()));
        }
        let action = match task_status {
            TaskStatus::Approved => AuditAction::TaskApproved,
            TaskStatus::Completed => AuditAction::TaskCompleted,
            _ => AuditAction::TaskDeclined,
        };
        let change = Change::new(action, "task", task_id)
            .after(serde_json::json!({ "decidedByUserId": decided_by, "comment": comment }));
        self.audit(&mut *tx, ctx, change).await?;
        let request = self
            .apply_transition(&mut *tx, ctx, request, &app, transition, decided_by, None)
            .await?;
        let task = tx
            .get_task(org_id, task_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("task", task_id))?;
        let details = task_details(&mut *tx, task, request).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// Cancels an open request (its creator, its target, an administrator, or a credential).
    pub async fn cancel(
        &self,
        ctx: &Ctx,
        request_id: Uuid,
        cancelled_by: Option<Uuid>,
    ) -> Result<RequestDetails, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let mut request = tx
            .get_request(org_id, request_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("request", request_id))?;
        let by = match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                let involved =
                    request.created_by_user_id == Some(id) || request.target_user_id == Some(id);
                if !involved && !role.is_org_admin() {
                    return Err(ServiceError::Forbidden(
                        "Only the requester, the target user or an administrator may cancel".into(),
                    ));
                }
                Some(id)
            }
            _ => match cancelled_by {
                Some(id) => {
                    tx.get_user(org_id, id)
                        .await?
                        .ok_or_else(|| ServiceError::not_found("user", id))?;
                    Some(id)
                }
                None => None,
            },
        };
        let transition = cancel_request(request.status)?;
        let app = tx
            .get_work_app(org_id, request.work_app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", request.work_app_id))?;
        request.cancelled_by_user_id = by;
        let request =
            self.apply_transition(&mut *tx, ctx, request, &app, transition, None, None).await?;
        let tasks = tx.request_tasks(org_id, request_id).await?;
        tx.commit().await?;
        Ok(RequestDetails { request, tasks })
    }

    /// Can this bearer user see the request? (Credentials and administrators see everything.)
    fn may_see(ctx: &Ctx, request: &Request, tasks: &[Task]) -> bool {
        match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                role.is_org_admin()
                    || request.created_by_user_id == Some(id)
                    || request.target_user_id == Some(id)
                    || tasks.iter().any(|t| t.assignee_ids.contains(&id))
            }
            _ => true,
        }
    }

    pub async fn get_request(
        &self,
        ctx: &Ctx,
        request_id: Uuid,
    ) -> Result<RequestDetails, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let not_found = || ServiceError::not_found("request", request_id);
        let request = tx.get_request(ctx.org_id(), request_id).await?.ok_or_else(not_found)?;
        let tasks = tx.request_tasks(ctx.org_id(), request_id).await?;
        if !Self::may_see(ctx, &request, &tasks) {
            return Err(not_found());
        }
        Ok(RequestDetails { request, tasks })
    }

    /// Requests, filtered; a non-administrator user sees only requests about themselves.
    pub async fn list_requests(
        &self,
        ctx: &Ctx,
        mut filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<RequestDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { id, role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                filter.target_user_id = Some(id);
            }
        }
        let mut tx = self.store.read().await?;
        let page = tx.list_requests(ctx.org_id(), filter, page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for request in page.items {
            let tasks = tx.request_tasks(ctx.org_id(), request.id).await?;
            items.push(RequestDetails { request, tasks });
        }
        Ok(Page { items, next_after: page.next_after })
    }

    pub async fn get_task(&self, ctx: &Ctx, task_id: Uuid) -> Result<TaskDetails, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let not_found = || ServiceError::not_found("task", task_id);
        let task = tx.get_task(ctx.org_id(), task_id).await?.ok_or_else(not_found)?;
        let request = tx.get_request(ctx.org_id(), task.request_id).await?.ok_or_else(not_found)?;
        if !Self::may_see(ctx, &request, std::slice::from_ref(&task)) {
            return Err(not_found());
        }
        task_details(&mut *tx, task, request).await
    }

    /// Tasks, filtered; a non-administrator user sees only tasks assigned to them.
    pub async fn list_tasks(
        &self,
        ctx: &Ctx,
        mut filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<TaskDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { id, role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                filter.assignee_user_id = Some(id);
            }
        }
        let mut tx = self.store.read().await?;
        let page = tx.list_tasks(ctx.org_id(), filter, page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for task in page.items {
            let request = tx
                .get_request(ctx.org_id(), task.request_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("request", task.request_id))?;
            items.push(task_details(&mut *tx, task, request).await?);
        }
        Ok(Page { items, next_after: page.next_after })
    }
}
