//! Who takes a task: a step's approvers and an action's doers under separation of duties
//! (`domain::duties`), the check before a decision, and reassigning an open task.
use portcullis_domain::{
    Approver, Assignment, AuditAction, Duties, DutyConflict, Request, Task, TaskKind, TaskStatus,
    WorkApp,
};
use portcullis_domain::{TaskId, User};
use portcullis_store::prelude::*;
use uuid::Uuid;

use super::*;
use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// Most assignees one task may be given by hand.
const MAX_ASSIGNEES: usize = 100;

/// Who may carry out an action, before separation of duties: the app's active owners and the
/// organization's active administrators and owners (the fallback).
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionCandidates {
    pub owners: Vec<Uuid>,
    pub admins: Vec<Uuid>,
}

/// Who wants to decide a task.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Decider {
    /// A person with their own bearer token (administrators and owners may decide any task).
    Bearer { id: Uuid, admin: bool },
    /// The user an API credential names (`userId`/`triggeredByUserId`).
    Named { id: Uuid, active: bool },
}

/// A user an API credential names as acting for (`createdByUserId`, `triggeredByUserId`): an
/// active user of the organization. Unknown → 404; invited or deactivated → 400.
pub(crate) async fn active_named_user(
    tx: &mut dyn ReadTx,
    org_id: Uuid,
    field: &str,
    user_id: Uuid,
) -> Result<User, ServiceError> {
    let user = tx
        .get_user(org_id, user_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("user", user_id))?;
    if !user.is_active() {
        return Err(ServiceError::Invalid(format!(
            "{field}: user {user_id} is {} and cannot act in the organization; name an active user",
            user.status().cakewalk_name()
        )));
    }
    Ok(user)
}

impl Service {
    /// The separation-of-duties facts of a task of `kind` at `step` of `request`.
    pub(crate) async fn duties(
        &self,
        tx: &mut dyn ReadTx,
        request: &Request,
        kind: TaskKind,
        step: i32,
    ) -> Result<Duties, ServiceError> {
        // An action has no earlier approvers to keep out, and the first step has none before it:
        // no need to read the tasks and the settings.
        if kind == TaskKind::Action || step == 0 {
            return Ok(Duties::of_request(request));
        }
        let tasks = tx.request_tasks(request.org_id, request.id).await?;
        let settings = tx.get_organization_settings(request.org_id).await?;
        Ok(Duties::for_task(request, &tasks, kind, step, &settings))
    }

    /// Refuses (403) someone who may not decide `task` of `request`: who is not an assignee (a
    /// bearer administrator or owner may decide any task; a named user must be an active
    /// assignee), or whom separation of duties keeps from it.
    pub(crate) async fn check_may_decide(
        &self,
        tx: &mut dyn ReadTx,
        request: &Request,
        task: &Task,
        decider: Decider,
    ) -> Result<(), ServiceError> {
        // An inactive user is no assignee; a bearer administrator may decide unassigned.
        let (person, assigned, admin) = match decider {
            Decider::Bearer { id, admin } => (id, task.assignee_ids.contains(&id), admin),
            Decider::Named { id, active } => (id, active && task.assignee_ids.contains(&id), false),
        };
        // Separation of duties first: it is the reason that holds whatever the assignment says.
        let duties = self.duties(tx, request, task.kind, task.step).await?;
        if let Some(c) = duties.conflict(person) {
            return Err(ServiceError::Forbidden(match decider {
                Decider::Bearer { .. } => c.refusal(),
                Decider::Named { .. } => c.refusal_for(person),
            }));
        }
        if assigned || admin {
            return Ok(());
        }
        Err(ServiceError::Forbidden(match decider {
            Decider::Bearer { .. } => {
                "Only an assignee of the task or an administrator may decide it".into()
            }
            Decider::Named { .. } => format!(
                "userId: user {person} is not an active assignee of this task; a decision is \
                 recorded as a user's only when that user may decide it"
            ),
        }))
    }

    /// The approvers of one review step of the request's policy version.
    pub(crate) async fn review_assignees(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
        app: &WorkApp,
        step: i32,
    ) -> Result<Assignment, ServiceError> {
        let org_id = request.org_id;
        let steps = tx
            .get_policy_steps(org_id, request.policy_id, request.policy_version)
            .await?
            .ok_or_else(|| ServiceError::not_found("policy", request.policy_id))?;
        let policy_step = steps
            .get(step as usize)
            .copied()
            .ok_or_else(|| ServiceError::Conflict(format!("policy has no step {step}")))?;
        let duties = self.duties(&mut *tx, request, TaskKind::Review, step).await?;
        let admins = tx.active_admin_ids(org_id).await?;
        let resolved = match policy_step.approver {
            Approver::Manager => {
                // The direct manager, and further up only when separation of duties passes
                // over them.
                let mut chain = Vec::new();
                if let Some(id) = request.target_user_id.or(request.created_by_user_id) {
                    chain = tx.manager_chain(org_id, id, 1).await?;
                    if chain.first().is_some_and(|m| duties.conflict(*m).is_some()) {
                        chain = tx.manager_chain(org_id, id, duties.manager_chain_depth()).await?;
                    }
                }
                let users = tx.get_users(org_id, &chain).await?;
                let chain: Vec<(Uuid, bool)> = chain
                    .iter()
                    .map(|id| (*id, users.iter().any(|u| u.id == *id && u.is_active())))
                    .collect();
                duties.manager(&chain).into_iter().collect()
            }
            Approver::AppOwner => self.active(tx, org_id, &app.owner_ids).await?,
            Approver::Administrators => admins.clone(),
            Approver::User => {
                let named: Vec<Uuid> = policy_step.user_id.into_iter().collect();
                self.active(tx, org_id, &named).await?
            }
            Approver::GroupMembers => match policy_step.group_id {
                Some(group) => tx.group_member_ids(org_id, group).await?,
                None => Vec::new(),
            },
        };
        Ok(duties.assign(&resolved, &admins))
    }

    /// Who may carry out actions on the app, before separation of duties.
    pub(super) async fn action_candidates(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        app: &WorkApp,
    ) -> Result<ActionCandidates, ServiceError> {
        let owners = self.active(tx, org_id, &app.owner_ids).await?;
        let admins = tx.active_admin_ids(org_id).await?;
        Ok(ActionCandidates { owners, admins })
    }

    /// Gives an open task new assignees: how an operator resolves a task that opened with "No
    /// eligible approver", or moves work. A read-write credential or an administrator/owner who is
    /// neither the requester nor the target user; each assignee must be an active user whom
    /// separation of duties lets decide the task.
    pub async fn reassign_task(
        &self,
        ctx: &Ctx,
        task_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<TaskDetails, ServiceError> {
        ctx.actor.require_org_admin()?;
        if user_ids.is_empty() || user_ids.len() > MAX_ASSIGNEES {
            return Err(ServiceError::Invalid(format!("userIds: give 1 to {MAX_ASSIGNEES} users")));
        }
        let mut ids: Vec<Uuid> = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        let not_found = || ServiceError::not_found("task", task_id);
        let task = tx.get_task(org_id, task_id).await?.ok_or_else(not_found)?;
        let request = tx.get_request(org_id, task.request_id).await?.ok_or_else(not_found)?;
        if task.status != TaskStatus::Open {
            return Err(ServiceError::Conflict(format!(
                "the task is {} and can no longer be reassigned",
                task.status.name()
            )));
        }
        let duties = self.duties(&mut *tx, &request, task.kind, task.step).await?;
        if let ActorKind::User { id, .. } = ctx.actor.kind {
            if let Some(c @ (DutyConflict::Requester | DutyConflict::Target)) = duties.conflict(id)
            {
                return Err(ServiceError::Forbidden(format!(
                    "Separation of duties: you may not choose who decides this task: you {}",
                    c.phrase()
                )));
            }
        }
        let users = tx.get_users(org_id, &ids).await?;
        for (i, id) in ids.iter().enumerate() {
            let user = users.iter().find(|u| u.id == *id).ok_or_else(|| {
                ServiceError::NotFound(format!("userIds[{i}]: user {id} not found"))
            })?;
            if !user.is_active() {
                return Err(ServiceError::Invalid(format!(
                    "userIds[{i}]: user {id} is {}; only active users can be assigned",
                    user.status().cakewalk_name()
                )));
            }
            if let Some(c) = duties.conflict(*id) {
                return Err(ServiceError::Invalid(format!("userIds[{i}]: {}", c.refusal_for(*id))));
            }
        }
        if !tx.reassign_task(org_id, TaskId(task_id), &ids, self.clock.now()).await? {
            return Err(ServiceError::Conflict("the task has already been decided".into()));
        }
        let change = Change::new(AuditAction::TaskReassigned, "task", task_id)
            .before(serde_json::json!({
                "assigneeIds": task.assignee_ids,
                "unassignedReason": task.unassigned_reason,
            }))
            .after(serde_json::json!({ "requestId": request.id, "assigneeIds": ids }));
        self.audit(&mut *tx, ctx, change).await?;
        let task = tx.get_task(org_id, task_id).await?.ok_or_else(not_found)?;
        let details = task_details(&mut *tx, task, request).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// The open tasks the caller is assigned and may decide: the console inbox. A task that
    /// separation of duties keeps from them is not offered, even if it was assigned to them.
    pub async fn my_open_tasks(&self, ctx: &Ctx) -> Result<Vec<TaskDetails>, ServiceError> {
        let Some(me) = ctx.actor.user_id() else { return Ok(Vec::new()) };
        let filter = portcullis_store::TaskFilter {
            status: Some(TaskStatus::Open),
            assignee_user_id: Some(me),
            request_id: None,
        };
        let tasks = self.list_tasks(ctx, filter, portcullis_domain::PageRequest::first()).await?;
        let mut tx = self.store.read().await?;
        let mut out = Vec::with_capacity(tasks.items.len());
        for t in tasks.items {
            let duties = self.duties(&mut *tx, &t.request, t.task.kind, t.task.step).await?;
            if duties.conflict(me).is_none() {
                out.push(t);
            }
        }
        Ok(out)
    }
}
