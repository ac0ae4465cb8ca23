//! Deciding review and action tasks, and the transition each decision causes.
use portcullis_domain::governance::{decide_task, NextTask, Transition};
use portcullis_domain::AuditAction;
use portcullis_domain::{
    validate, Decision, Duties, ProvisioningMode, Request, RequestStatus, TaskKind, TaskStatus,
    WorkApp,
};
use portcullis_domain::{TaskId, UserId};
use portcullis_store::prelude::*;
use uuid::Uuid;

use super::*;
use crate::{ActorKind, Change, Ctx, Service, ServiceError};

impl Service {
    /// Carries out a transition: new request status, cancelled tasks, the next task, the action.
    // The two trailing options carry what a caller may already know (who decided; who acts).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_transition(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        mut request: Request,
        app: &WorkApp,
        transition: Transition,
        decided_by: Option<Uuid>,
        action_candidates: Option<&ActionCandidates>,
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
                let assignment = self.review_assignees(tx, &request, app, step).await?;
                self.open_task(tx, ctx, &request, TaskKind::Review, step, assignment, None).await?;
            }
            Some(NextTask::Action { completed }) => {
                let candidates = match action_candidates {
                    Some(known) => known.clone(),
                    None => self.action_candidates(tx, request.org_id, app).await?,
                };
                let assignment =
                    Duties::of_request(&request).assign(&candidates.owners, &candidates.admins);
                let done = completed.then_some(decided_by);
                self.open_task(
                    tx,
                    ctx,
                    &request,
                    TaskKind::Action,
                    request.step_count,
                    assignment,
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
            self.audit(tx, ctx, status_changed(&request)).await?;
            self.notify_request_status(tx, &request).await?;
        }
        Ok(request)
    }

    /// Approves or declines a task. Exactly one of two racing decisions wins; the other gets 409.
    ///
    /// Who may: an assignee, or (bearer token) an administrator/owner — never a person whom
    /// separation of duties keeps from the task (the requester, the target user, the approver of
    /// an earlier step). A credential decides as itself, or for the user it names in
    /// `on_behalf_of`, who must be an active assignee allowed to decide (403 otherwise); the
    /// audit rows keep the credential and record that user beside it.
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
        let request = tx
            .get_request(org_id, task.request_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("request", task.request_id))?;
        let decided_by = match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                if on_behalf_of.is_some_and(|other| other != id) {
                    return Err(ServiceError::Forbidden("userId must be yourself".into()));
                }
                let decider = Decider::Bearer { id, admin: role.is_org_admin() };
                self.check_may_decide(&mut *tx, &request, &task, decider).await?;
                Some(id)
            }
            _ => match on_behalf_of {
                Some(user_id) => {
                    let user = tx
                        .get_user(org_id, user_id)
                        .await?
                        .ok_or_else(|| ServiceError::not_found("user", user_id))?;
                    let decider = Decider::Named { id: user_id, active: user.is_active() };
                    self.check_may_decide(&mut *tx, &request, &task, decider).await?;
                    Some(user_id)
                }
                None => None,
            },
        };
        let ctx = &ctx.acting_for(decided_by);
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
                TaskId(task_id),
                task_status,
                decided_by.map(UserId),
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
        tx.commit().await?;
        // The answer is read after the commit: every other writer waits while a write
        // transaction is open, so it holds only the change.
        let mut read = self.store.read().await?;
        let task = read
            .get_task(org_id, task_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("task", task_id))?;
        task_details(&mut *read, task, request).await
    }
}

/// The audit row (and webhook event) of a request that reached its status.
pub(super) fn status_changed(request: &Request) -> Change {
    let action = match request.status {
        RequestStatus::Approved => AuditAction::RequestApproved,
        RequestStatus::Declined => AuditAction::RequestDeclined,
        RequestStatus::Completed => AuditAction::RequestCompleted,
        RequestStatus::Cancelled => AuditAction::RequestCancelled,
        RequestStatus::Failed => AuditAction::RequestFailed,
        RequestStatus::Pending => AuditAction::RequestPending,
    };
    Change::new(action, "request", request.id).after(request_snapshot(request))
}
