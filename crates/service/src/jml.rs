//! Joiner, mover, leaver: what a change of the directory does to accesses and open work,
//! whoever makes it (the Cakewalk and Flashback APIs, the console, the identity provider over
//! SCIM). Every step runs inside the transaction of the directory change that causes it.
//!
//! - joiner: `add_group_members` (in `groups.rs`) approves the default apps at once for a SCIM
//!   join of a new user when the organization enables no-touch onboarding;
//! - mover: `remove_group_members` (in `groups.rs`) opens Remove-Access requests by the
//!   organization's `groupLeaveAction`; a manager change moves the open approval tasks and
//!   undecided access-review items the old manager had because of the user
//!   ([`Service::move_manager_work`]);
//! - leaver: deactivating a user ([`Service::offboard_in_tx`], called by `change_user` for every
//!   deactivation path) removes every access, cancels the user's open requests, and hands their
//!   open tasks and review items to others.
use std::collections::HashSet;

use portcullis_domain::access_reviews::{
    item_reviewers, resolve_reviewers, ItemSubject, ReviewerFacts,
};
use portcullis_domain::{
    AccessReviewItem, AccessReviewType, Approver, Assignment, AuditAction, LeaverAccessAction,
    Request, RequestStatus, RequestType, Task, TaskKind, User, UserId, WorkAppId,
};
use portcullis_store::prelude::*;
use uuid::Uuid;

use crate::requests::{request_snapshot, NewRequest, Origin};
use crate::{Change, Ctx, Service, ServiceError};

/// What offboarding a leaver did (the `user.offboarded` audit row and event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Offboarding {
    accesses_revoked: usize,
    removal_requests: usize,
    requests_cancelled: usize,
    tasks_reassigned: usize,
    review_items_reassigned: usize,
}

impl Service {
    /// Leaver, inside the transaction that deactivated `user` (already saved with `deletedAt`,
    /// tokens revoked and console sessions closed):
    ///
    /// 1. cancels the open requests the user made or that are about them (with
    ///    `RemoveAccess`, not the removals of their own accesses that are already open);
    /// 2. removes every live access: with `leaverAccessAction` `RemoveAccess` (the default) a
    ///    Remove-Access request per access, approved by the offboarding itself (Automatic apps
    ///    are removed at once, Manual apps get an action task), or with `RevokeAtOnce` all of
    ///    them at once;
    /// 3. gives the open tasks assigned to the user to their other active assignees, else to the
    ///    fallback approvers (the administrators and owners, under separation of duties);
    /// 4. does the same for the undecided items of open access reviews the user reviews;
    ///
    /// and records `user.offboarded` with what it did.
    pub(crate) async fn offboard_in_tx(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        user: &User,
    ) -> Result<(), ServiceError> {
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let settings = tx.get_organization_settings(org_id).await?;
        let revoke = settings.leaver_access_action == LeaverAccessAction::RevokeAtOnce;
        let mut done = Offboarding::default();
        let mut changes = Vec::new();

        let (kept, cancel): (Vec<Request>, Vec<Request>) =
            tx.open_requests_of_user(org_id, UserId(user.id)).await?.into_iter().partition(|r| {
                !revoke
                    && r.request_type == RequestType::RemoveAccess
                    && r.target_user_id == Some(user.id)
            });
        let cancelled_by = ctx.actor.user_id();
        let ids: Vec<Uuid> = cancel.iter().map(|r| r.id).collect();
        tx.cancel_requests(org_id, &ids, cancelled_by.map(UserId), now).await?;
        for mut request in cancel {
            request.status = RequestStatus::Cancelled;
            request.cancelled_by_user_id = cancelled_by;
            request.updated_at = now;
            changes.push(
                Change::new(AuditAction::RequestCancelled, "request", request.id)
                    .after(request_snapshot(&request)),
            );
            done.requests_cancelled += 1;
        }

        let accesses = tx.accesses_of_user(org_id, user.id, now).await?;
        if revoke {
            let pairs: Vec<_> = accesses
                .iter()
                .map(|a| (WorkAppId(a.access.work_app_id), UserId(user.id)))
                .collect();
            for removed in tx.delete_accesses(org_id, &pairs).await? {
                changes.push(
                    Change::new(AuditAction::AccessRemoved, "work_app", removed.work_app_id)
                        .before(serde_json::json!({
                            "userId": removed.user_id,
                            "permissionLevelId": removed.permission_level_id,
                            "reason": "offboarding",
                        })),
                );
                done.accesses_revoked += 1;
            }
        }
        self.audit_many(tx, ctx, std::mem::take(&mut changes)).await?;
        if !revoke {
            let pending: HashSet<Uuid> = kept.iter().map(|r| r.work_app_id).collect();
            let origin = Origin { implicitly_approved: true, automated: true, group_id: None };
            for access in accesses.iter().filter(|a| !pending.contains(&a.access.work_app_id)) {
                let new = NewRequest {
                    request_type: RequestType::RemoveAccess,
                    work_app_id: access.access.work_app_id,
                    target_user_id: Some(user.id),
                    permission_level_id: None,
                    created_by_user_id: None,
                    justification: Some(format!("Offboarding of {}", user.email)),
                    expires_at: None,
                };
                self.open_request(tx, ctx, new, origin).await?;
                done.removal_requests += 1;
            }
        }

        let admins = tx.active_admin_ids(org_id).await?;
        let mut moves = Vec::new();
        for task in tx.open_tasks_assigned_to(org_id, UserId(user.id), None).await? {
            let request = self.request_of(tx, &task).await?;
            let duties = self.duties(tx, &request, task.kind, task.step).await?;
            let others: Vec<Uuid> =
                task.assignee_ids.iter().copied().filter(|id| *id != user.id).collect();
            let others = self.active(tx, org_id, &others).await?;
            moves.push((task, duties.assign(&others, &admins)));
        }
        done.tasks_reassigned = self.move_tasks(tx, ctx, moves, "offboarding").await?;

        let mut item_moves = Vec::new();
        for item in tx.undecided_items_reviewed_by(org_id, UserId(user.id), None, None).await? {
            let others: Vec<Uuid> =
                item.reviewer_ids.iter().copied().filter(|id| *id != user.id).collect();
            let others = self.active(tx, org_id, &others).await?;
            let assignment = item_reviewers(item.user_id, &others, &admins);
            item_moves.push((item, assignment));
        }
        done.review_items_reassigned =
            self.move_review_items(tx, ctx, item_moves, "offboarding").await?;

        let change =
            Change::new(AuditAction::UserOffboarded, "user", user.id).after(serde_json::json!({
                "email": user.email,
                "leaverAccessAction": settings.leaver_access_action.name(),
                "accessesRevoked": done.accesses_revoked,
                "removalRequestsOpened": done.removal_requests,
                "requestsCancelled": done.requests_cancelled,
                "tasksReassigned": done.tasks_reassigned,
                "reviewItemsReassigned": done.review_items_reassigned,
            }));
        self.audit(tx, ctx, change).await
    }

    /// Mover, inside the transaction that changed `user`'s manager from `old_manager`: the open
    /// review tasks assigned to the old manager because a policy step named the user's Manager
    /// are assigned again by that step (the new manager, or the administrators when there is
    /// none or separation of duties keeps them out), and the undecided items of open `Manager`
    /// access reviews about the user's accesses that the old manager reviews go to the new
    /// manager (or, when there is none or it would be the user, to the administrators).
    pub(crate) async fn move_manager_work(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        user: &User,
        old_manager: Uuid,
    ) -> Result<(), ServiceError> {
        let org_id = ctx.org_id();
        let mut moves = Vec::new();
        let tasks =
            tx.open_tasks_assigned_to(org_id, UserId(old_manager), Some(UserId(user.id))).await?;
        for task in tasks.into_iter().filter(|t| t.kind == TaskKind::Review) {
            let request = self.request_of(tx, &task).await?;
            let steps =
                tx.get_policy_steps(org_id, request.policy_id, request.policy_version).await?;
            let by_manager = steps
                .and_then(|s| s.get(task.step as usize).copied())
                .is_some_and(|step| step.approver == Approver::Manager);
            if !by_manager {
                continue;
            }
            let Some(app) = tx.get_work_app(org_id, request.work_app_id).await? else { continue };
            let assignment = self.review_assignees(tx, &request, &app, task.step).await?;
            if assignment.assignees != task.assignee_ids {
                moves.push((task, assignment));
            }
        }
        self.move_tasks(tx, ctx, moves, "manager changed").await?;

        let items = tx
            .undecided_items_reviewed_by(
                org_id,
                UserId(old_manager),
                Some(UserId(user.id)),
                Some(AccessReviewType::Manager),
            )
            .await?;
        if items.is_empty() {
            return Ok(());
        }
        let manager = match user.manager_id {
            Some(id) => tx.get_users(org_id, &[id]).await?.first().map(|m| (m.id, m.is_active())),
            None => None,
        };
        let facts = ReviewerFacts {
            admins: tx.active_admin_ids(org_id).await?,
            creator: Uuid::nil(),
            ..ReviewerFacts::default()
        };
        let item_moves = items
            .into_iter()
            .map(|item| {
                let subject = ItemSubject {
                    item_id: item.id,
                    user_id: item.user_id,
                    work_app_id: item.work_app_id,
                    manager,
                };
                let assignment = resolve_reviewers(AccessReviewType::Manager, &subject, &facts);
                (item, assignment)
            })
            .collect();
        self.move_review_items(tx, ctx, item_moves, "manager changed").await?;
        Ok(())
    }

    async fn request_of(&self, tx: &mut dyn WriteTx, task: &Task) -> Result<Request, ServiceError> {
        tx.get_request(task.org_id, task.request_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("request", task.request_id))
    }

    /// Gives open tasks their new assignees in one go, each with a `task.reassigned` row;
    /// returns how many.
    async fn move_tasks(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        moves: Vec<(Task, Assignment)>,
        reason: &str,
    ) -> Result<usize, ServiceError> {
        let rows: Vec<(Uuid, Assignment)> = moves.iter().map(|(t, a)| (t.id, a.clone())).collect();
        tx.set_task_assignments(ctx.org_id(), &rows, self.clock.now()).await?;
        let changes = moves
            .iter()
            .map(|(task, assignment)| {
                Change::new(AuditAction::TaskReassigned, "task", task.id)
                    .before(serde_json::json!({
                        "assigneeIds": task.assignee_ids,
                        "unassignedReason": task.unassigned_reason,
                    }))
                    .after(serde_json::json!({
                        "requestId": task.request_id,
                        "assigneeIds": assignment.assignees,
                        "unassignedReason": assignment.unassigned_reason,
                        "reason": reason,
                    }))
            })
            .collect();
        self.audit_many(tx, ctx, changes).await?;
        Ok(moves.len())
    }

    /// Gives access-review items their new reviewers in one go, each with an
    /// `access_review.item_reassigned` row; returns how many.
    async fn move_review_items(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        moves: Vec<(AccessReviewItem, Assignment)>,
        reason: &str,
    ) -> Result<usize, ServiceError> {
        let rows: Vec<(Uuid, Assignment)> = moves.iter().map(|(i, a)| (i.id, a.clone())).collect();
        tx.reassign_review_items(ctx.org_id(), &rows).await?;
        let changes = moves
            .iter()
            .map(|(item, assignment)| {
                Change::new(
                    AuditAction::AccessReviewItemReassigned,
                    "access_review",
                    item.review_id,
                )
                .before(serde_json::json!({
                    "itemId": item.id,
                    "reviewerIds": item.reviewer_ids,
                }))
                .after(serde_json::json!({
                    "itemId": item.id,
                    "userId": item.user_id,
                    "workAppId": item.work_app_id,
                    "reviewerIds": assignment.assignees,
                    "unassignedReason": assignment.unassigned_reason,
                    "reason": reason,
                }))
            })
            .collect();
        self.audit_many(tx, ctx, changes).await?;
        Ok(moves.len())
    }
}
