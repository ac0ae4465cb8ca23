//! Requests and approval tasks: creation with policy resolution, decisions, cancellation, and the
//! action each request type carries out. The state machine itself is `domain::governance`.
use chrono::{DateTime, Utc};
use portcullis_domain::governance::{start_request, Transition};
use portcullis_domain::{
    Page, PageRequest, ProvisioningMode, Request, RequestType, Task, User, WorkApp,
};
use portcullis_store::prelude::*;
use portcullis_store::{RequestFilter, TaskFilter};
use uuid::Uuid;

use crate::{ActorKind, Ctx, Service, ServiceError};

pub(crate) use assign::{active_named_user, ActionCandidates, Decider};

mod assign;
mod batch;
mod cancel;
mod carry_out;
mod decide;
mod open;

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
    pub action_candidates: ActionCandidates,
}

impl GrantPlan {
    /// The Pending grant request this plan opens for `member` (with no review steps when
    /// implicitly approved).
    pub fn request(
        &self,
        org_id: Uuid,
        member: Uuid,
        created_by: Option<Uuid>,
        origin: Origin,
        justification: &str,
        now: DateTime<Utc>,
    ) -> Request {
        let step_count =
            if origin.implicitly_approved { 0 } else { self.policy.steps.len() as i32 };
        Request {
            id: portcullis_domain::new_id(),
            org_id,
            request_type: RequestType::GrantAccess,
            work_app_id: self.app.id,
            target_user_id: Some(member),
            permission_level_id: self.level_id,
            created_by_user_id: created_by,
            justification: justification.to_string(),
            expires_at: None,
            status: portcullis_domain::RequestStatus::Pending,
            policy_id: self.policy.id,
            policy_version: self.policy.version,
            step_count,
            cancelled_by_user_id: None,
            source_group_id: origin.group_id,
            created_at: now,
            updated_at: now,
        }
    }

    /// How one of its requests starts: its first review, or straight to the action.
    pub fn start(&self, request: &Request) -> Transition {
        start_request(request.step_count, self.app.provisioning_mode)
    }
}

/// How a request came to be: directly, or implicitly approved through a group membership.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin {
    pub implicitly_approved: bool,
    pub group_id: Option<Uuid>,
    /// Opened by the directory automation (offboarding a leaver), not asked for by anyone: the
    /// request has no requester, whoever made the directory change (their audit rows keep them).
    pub automated: bool,
}

pub(crate) fn request_snapshot(r: &Request) -> serde_json::Value {
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

    /// Requests, filtered; a non-administrator user sees only requests about themselves (asking
    /// for someone else's finds none).
    pub async fn list_requests(
        &self,
        ctx: &Ctx,
        mut filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<RequestDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let Some(target) = Self::visible_user(ctx, filter.target_user_id) else {
            return Ok(Page { items: Vec::new(), next_after: None });
        };
        filter.target_user_id = target;
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

    /// Tasks, filtered; a non-administrator user sees only tasks assigned to them (asking for
    /// someone else's finds none).
    pub async fn list_tasks(
        &self,
        ctx: &Ctx,
        mut filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<TaskDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let Some(assignee) = Self::visible_user(ctx, filter.assignee_user_id) else {
            return Ok(Page { items: Vec::new(), next_after: None });
        };
        filter.assignee_user_id = assignee;
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

    /// The user filter of a listing as the caller may apply it: `Some(filter)` to run with, or
    /// `None` when the answer is empty. Credentials and administrators filter as they ask; any
    /// other user sees only rows about themselves, so their listing is always filtered to them,
    /// and asking for another user's rows finds none (rather than quietly their own).
    pub(crate) fn visible_user(ctx: &Ctx, asked: Option<Uuid>) -> Option<Option<Uuid>> {
        match ctx.actor.kind {
            ActorKind::User { id, role, .. } if !role.is_org_admin() => {
                asked.is_none_or(|asked| asked == id).then_some(Some(id))
            }
            _ => Some(asked),
        }
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
}
