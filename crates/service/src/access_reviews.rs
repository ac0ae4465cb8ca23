//! Access reviews (certification campaigns): starting one (a set-based snapshot of the live
//! accesses of its apps, reviewers assigned under separation of duties), decisions, closing
//! (carrying the decisions out), cancelling, the evidence export, and the sweep that closes
//! campaigns that asked to close at their due date and records when reminders are due.
//!
//! Administrators (and read-write API credentials, acting for the organization) create, change,
//! close and cancel; reviewers see and decide only their items. The rules are
//! `domain::access_reviews`; who reviews and who may decide follow `domain::duties`.
use std::collections::{HashMap, HashSet};

use portcullis_domain::access_reviews::{
    check_decider, check_decision, close_action, effective_decision, resolve_reviewers, CarriedOut,
    CheckedDecision, CloseAction, DeciderRefusal, ReviewDecider, ReviewerFacts,
};
use portcullis_domain::NotificationCategory;
use portcullis_domain::{
    new_id, AccessReview, AccessReviewId, AccessReviewPatch, AccessReviewStatus, AuditAction,
    ItemDecision, ItemOutcome, NewAccessReview, Page, PageRequest, RequestType, ReviewDecision,
    ReviewItemDetail, ReviewProgress, UndecidedItems, UserId, WorkAppId, WorkAppStatus,
};
use portcullis_store::prelude::*;
use portcullis_store::{AccessReviewFilter, ReviewItemFilter, StoreError};
use uuid::Uuid;

use crate::requests::{active_named_user, NewRequest, Origin};
use crate::{Actor, ActorKind, Change, Ctx, Service, ServiceError};

/// Most campaigns one sweep acts on.
const SWEEP_BATCH: u32 = 50;

/// Items read per page by the export.
const EXPORT_PAGE: u32 = 1000;

/// A campaign as shown: its status at the time of reading, and its progress (of the caller's
/// items, for a reviewer who is not an administrator).
#[derive(Debug, Clone)]
pub struct AccessReviewDetails {
    pub review: AccessReview,
    /// `Overdue` for an open campaign past its due date.
    pub status: AccessReviewStatus,
    pub progress: ReviewProgress,
    /// Overdue with items still undecided.
    pub reminders_due: bool,
}

fn snapshot(r: &AccessReview) -> serde_json::Value {
    serde_json::json!({
        "name": r.name,
        "description": r.description,
        "accessReviewType": r.review_type.name(),
        "dueDate": r.due_date,
        "workAppIds": r.work_app_ids,
        "createdByUserId": r.created_by_user_id,
        "status": r.status.name(),
        "undecidedItems": r.undecided_items.name(),
        "closeAtDueDate": r.close_at_due_date,
    })
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("an access review named '{name}' already exists"))
}

fn review_not_found(id: Uuid) -> ServiceError {
    ServiceError::not_found("access review", id)
}

impl Service {
    /// The user whose items a caller sees, when that is not every item: a person who is not an
    /// administrator or owner sees only the items they review.
    fn reviewer_scope(ctx: &Ctx) -> Option<Uuid> {
        match ctx.actor.kind {
            ActorKind::User { id, role, .. } if !role.is_org_admin() => Some(id),
            _ => None,
        }
    }

    async fn review_details(
        &self,
        tx: &mut dyn ReadTx,
        review: AccessReview,
        scope: Option<Uuid>,
    ) -> Result<AccessReviewDetails, ServiceError> {
        let mut progress = tx
            .access_review_progress(review.org_id, &[review.id], scope.map(UserId))
            .await?
            .remove(&review.id)
            .unwrap_or_default();
        progress.outcomes.retain(|_, n| *n > 0);
        Ok(self.review_shown(review, progress))
    }

    fn review_shown(&self, review: AccessReview, progress: ReviewProgress) -> AccessReviewDetails {
        let now = self.clock.now();
        AccessReviewDetails {
            status: review.status_at(now),
            reminders_due: review.reminders_due(now, progress.undecided()),
            review,
            progress,
        }
    }

    /// The campaign, if the caller may see it: administrators and credentials see every
    /// campaign, a reviewer those in which they review items (404 otherwise).
    async fn visible_review(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        review_id: Uuid,
    ) -> Result<AccessReviewDetails, ServiceError> {
        let review = tx
            .get_access_review(ctx.org_id(), AccessReviewId(review_id))
            .await?
            .ok_or_else(|| review_not_found(review_id))?;
        let scope = Self::reviewer_scope(ctx);
        let details = self.review_details(tx, review, scope).await?;
        if scope.is_some() && details.progress.items == 0 {
            return Err(review_not_found(review_id));
        }
        Ok(details)
    }

    /// Starts a campaign: snapshots the live accesses of its apps (every Managed app when it
    /// names none) and assigns each item its reviewers. Administrators and read-write
    /// credentials; `createdByUserId` must be an active user (with a bearer token: oneself).
    pub async fn create_access_review(
        &self,
        ctx: &Ctx,
        new: NewAccessReview,
    ) -> Result<AccessReviewDetails, ServiceError> {
        ctx.actor.require_org_admin()?;
        if let ActorKind::User { id, .. } = ctx.actor.kind {
            if new.created_by_user_id != id {
                return Err(ServiceError::Forbidden(
                    "createdByUserId must be yourself: a campaign started with a personal token \
                     is recorded as started by its holder"
                        .into(),
                ));
            }
        }
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let review = new.build(new_id(), org_id, now)?;
        let mut tx = self.write_tx(org_id).await?;
        let creator =
            active_named_user(&mut *tx, org_id, "createdByUserId", new.created_by_user_id).await?;
        let ctx = &ctx.acting_for(Some(creator.id));
        for (i, app_id) in review.work_app_ids.iter().enumerate() {
            let app = tx.get_work_app(org_id, *app_id).await?.ok_or_else(|| {
                ServiceError::NotFound(format!("workAppIds[{i}]: work app {app_id} not found"))
            })?;
            if app.status == WorkAppStatus::Archived {
                return Err(ServiceError::Conflict(format!(
                    "workAppIds[{i}]: work app {app_id} is archived"
                )));
            }
        }
        match tx.insert_access_review(&review).await {
            Err(StoreError::Conflict(_)) => return Err(name_taken(&review.name)),
            other => other?,
        }
        let rid = AccessReviewId(review.id);
        let items = tx.snapshot_review_items(&review, now).await?;
        let subjects = tx.review_item_subjects(org_id, rid).await?;
        let facts = ReviewerFacts {
            owners: tx.review_app_owners(org_id, rid).await?,
            admins: tx.active_admin_ids(org_id).await?,
            creator: creator.id,
        };
        let assignments: Vec<_> = subjects
            .iter()
            .map(|s| (s.item_id, resolve_reviewers(review.review_type, s, &facts)))
            .collect();
        tx.assign_review_items(org_id, rid, &assignments).await?;
        let mut after = snapshot(&review);
        after["items"] = serde_json::json!(items);
        let change =
            Change::new(AuditAction::AccessReviewCreated, "access_review", review.id).after(after);
        self.audit(&mut *tx, ctx, change).await?;
        self.notify_reviewers(&mut *tx, org_id, review.id, NotificationCategory::ReviewStarted)
            .await?;
        let details = self.review_details(&mut *tx, review, None).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// Campaigns, oldest first, filtered by shown status; a reviewer who is not an
    /// administrator sees the campaigns in which they review items, with their own progress.
    pub async fn list_access_reviews(
        &self,
        ctx: &Ctx,
        status: Option<AccessReviewStatus>,
        page: PageRequest,
    ) -> Result<Page<AccessReviewDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let scope = Self::reviewer_scope(ctx);
        let mut tx = self.store.read().await?;
        let filter = AccessReviewFilter { status, reviewer_id: scope, now: self.clock.now() };
        let page = tx.list_access_reviews(ctx.org_id(), filter, page).await?;
        let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
        let mut progress = tx.access_review_progress(ctx.org_id(), &ids, scope.map(UserId)).await?;
        Ok(page.map(|review| {
            let p = progress.remove(&review.id).unwrap_or_default();
            self.review_shown(review, p)
        }))
    }

    pub async fn get_access_review(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
    ) -> Result<AccessReviewDetails, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.visible_review(&mut *tx, ctx, review_id).await
    }

    /// Renames, re-dates or changes the settings (undecided items, closing at the due date) of
    /// an open campaign.
    pub async fn update_access_review(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
        patch: AccessReviewPatch,
    ) -> Result<AccessReviewDetails, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = tx
            .get_access_review(ctx.org_id(), AccessReviewId(review_id))
            .await?
            .ok_or_else(|| review_not_found(review_id))?;
        let mut review = before.clone();
        patch.apply(&mut review, self.clock.now())?;
        if review != before {
            review.updated_at = self.clock.now();
            match tx.update_access_review(&review).await {
                Err(StoreError::Conflict(_)) => return Err(name_taken(&review.name)),
                other => other?,
            }
            let change = Change::new(AuditAction::AccessReviewUpdated, "access_review", review.id)
                .before(snapshot(&before))
                .after(snapshot(&review));
            self.audit(&mut *tx, ctx, change).await?;
        }
        let details = self.review_details(&mut *tx, review, None).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// Items of a visible campaign, filtered; a reviewer who is not an administrator sees only
    /// the items they review (asking for another reviewer's finds none).
    pub async fn list_access_review_items(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
        mut filter: ReviewItemFilter,
        page: PageRequest,
    ) -> Result<Page<ReviewItemDetail>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.visible_review(&mut *tx, ctx, review_id).await?;
        if let Some(me) = Self::reviewer_scope(ctx) {
            if filter.reviewer_id.is_some_and(|asked| asked != me) {
                return Ok(Page { items: Vec::new(), next_after: None });
            }
            filter.reviewer_id = Some(me);
        }
        let rid = AccessReviewId(review_id);
        Ok(tx.list_review_items(ctx.org_id(), rid, filter, page).await?)
    }

    /// Decides one item; see [`Service::decide_access_review_items`].
    pub async fn decide_access_review_item(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
        item_id: Uuid,
        decision: ItemDecision,
        on_behalf_of: Option<Uuid>,
    ) -> Result<ReviewItemDetail, ServiceError> {
        self.decide_access_review_items(ctx, review_id, vec![(item_id, decision)], on_behalf_of)
            .await?;
        let filter = ReviewItemFilter { item_id: Some(item_id), ..ReviewItemFilter::default() };
        let mut tx = self.store.read().await?;
        tx.list_review_items(ctx.org_id(), AccessReviewId(review_id), filter, PageRequest::first())
            .await?
            .items
            .pop()
            .ok_or_else(|| ServiceError::not_found("access review item", item_id))
    }

    /// Records decisions on items of an open campaign, all or none (a decision replaces an
    /// earlier one until the campaign closes; 409 after). Who: a reviewer of each item, or a
    /// bearer administrator — never the user the item is about (separation of duties); an API
    /// credential for the organization, or for the reviewer it names in `on_behalf_of`.
    pub async fn decide_access_review_items(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
        decisions: Vec<(Uuid, ItemDecision)>,
        on_behalf_of: Option<Uuid>,
    ) -> Result<AccessReviewDetails, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        let review = self.visible_review(&mut *tx, ctx, review_id).await?.review;
        review.check_open("decisions are taken")?;
        let (decider, decided_by) = match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                if on_behalf_of.is_some_and(|other| other != id) {
                    return Err(ServiceError::Forbidden("userId must be yourself".into()));
                }
                (ReviewDecider::Bearer { id, admin: role.is_org_admin() }, Some(id))
            }
            _ => match on_behalf_of {
                Some(user_id) => {
                    let user = tx
                        .get_user(org_id, user_id)
                        .await?
                        .ok_or_else(|| ServiceError::not_found("user", user_id))?;
                    (ReviewDecider::Named { id: user_id, active: user.is_active() }, Some(user_id))
                }
                None => (ReviewDecider::Organization, None),
            },
        };
        let ctx = &ctx.acting_for(decided_by);
        let bulk = decisions.len() > 1;
        let at = |i: usize| if bulk { format!("decisions[{i}]: ") } else { String::new() };
        let ids: Vec<Uuid> = decisions.iter().map(|(id, _)| *id).collect();
        let mut seen = HashSet::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if !seen.insert(*id) {
                return Err(ServiceError::Invalid(format!("{}item {id} is given twice", at(i))));
            }
        }
        let rid = AccessReviewId(review_id);
        let items: HashMap<Uuid, _> = tx
            .get_review_items(org_id, rid, &ids)
            .await?
            .into_iter()
            .map(|item| (item.id, item))
            .collect();
        let mut levels: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut checked = Vec::with_capacity(decisions.len());
        for (i, (item_id, decision)) in decisions.into_iter().enumerate() {
            let not_found = || {
                ServiceError::NotFound(format!("{}access review item {item_id} not found", at(i)))
            };
            let item = items.get(&item_id).ok_or_else(not_found)?;
            match check_decider(item, decider) {
                Ok(()) => {}
                Err(DeciderRefusal::NotVisible) => return Err(not_found()),
                Err(DeciderRefusal::Forbidden(why)) => {
                    return Err(ServiceError::Forbidden(format!("{}{why}", at(i))))
                }
            }
            let app_levels = match levels.get(&item.work_app_id) {
                Some(known) => known,
                None => {
                    let found = tx
                        .list_permission_levels(org_id, item.work_app_id, PageRequest::first())
                        .await?
                        .items
                        .iter()
                        .map(|l| l.id)
                        .collect();
                    levels.entry(item.work_app_id).or_insert(found)
                }
            };
            let comment = check_decision(&decision, item, app_levels)
                .map_err(|e| ServiceError::Invalid(format!("{}{e}", at(i))))?;
            checked.push(CheckedDecision {
                item_id,
                decision: decision.decision,
                permission_level_id: decision.permission_level_id,
                comment,
            });
        }
        let now = self.clock.now();
        let written =
            tx.decide_review_items(org_id, rid, &checked, decided_by.map(UserId), now).await?;
        if written != checked.len() as u64 {
            return Err(ServiceError::Conflict(format!(
                "access review {review_id} is no longer open"
            )));
        }
        let changes = checked
            .iter()
            .map(|d| {
                let item = &items[&d.item_id];
                Change::new(AuditAction::AccessReviewItemDecided, "access_review", review_id)
                    .before(serde_json::json!({
                        "itemId": item.id,
                        "decision": item.decision.map(ReviewDecision::name),
                        "permissionLevelId": item.decision_level_id,
                        "comment": item.comment,
                        "decidedByUserId": item.decided_by_user_id,
                    }))
                    .after(serde_json::json!({
                        "itemId": item.id,
                        "userId": item.user_id,
                        "workAppId": item.work_app_id,
                        "decision": d.decision.name(),
                        "permissionLevelId": d.permission_level_id,
                        "comment": d.comment,
                        "decidedByUserId": decided_by,
                    }))
            })
            .collect();
        self.audit_many(&mut *tx, ctx, changes).await?;
        let details = self.review_details(&mut *tx, review, Self::reviewer_scope(ctx)).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// An administrator's write transaction (holding the organization's lock) on an open
    /// campaign: 404 for an unknown one, 409 once it has ended (`what` says what is refused).
    async fn open_review_tx(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
        what: &str,
    ) -> Result<(Box<dyn WriteTx>, AccessReview), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let review = tx
            .get_access_review(ctx.org_id(), AccessReviewId(review_id))
            .await?
            .ok_or_else(|| review_not_found(review_id))?;
        review.check_open(what)?;
        Ok((tx, review))
    }

    /// Ends a campaign (closed or cancelled) now, by the caller.
    async fn end_review(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        review: &mut AccessReview,
        status: AccessReviewStatus,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        review.status = status;
        review.closed_at = Some(now);
        review.closed_by_user_id = ctx.actor.user_id();
        review.updated_at = now;
        Ok(tx.update_access_review(review).await?)
    }

    /// Closes an open campaign and carries its decisions out: Revoke and ChangeLevel at once for
    /// Automatic apps (set-based), through a Remove-Access / Change-Permission request for Manual
    /// apps (its action task goes to the app's owners); undecided items follow the campaign's
    /// setting. Every item records what was done.
    pub async fn close_access_review(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
    ) -> Result<AccessReviewDetails, ServiceError> {
        let (mut tx, mut review) = self.open_review_tx(ctx, review_id, "it can be closed").await?;
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let rid = AccessReviewId(review_id);
        let revoke_undecided = review.undecided_items == UndecidedItems::Revoke;
        let acting = tx.review_close_items(org_id, rid, revoke_undecided, now).await?;
        let mut outcomes = Vec::new();
        let mut removals = Vec::new();
        let mut level_changes = Vec::new();
        let mut requests = Vec::new();
        for item in &acting {
            let decision = effective_decision(item.decision, review.undecided_items);
            let (action, outcome, note) =
                close_action(decision, item.decision_level_id, item.facts);
            let pair = (WorkAppId(item.work_app_id), UserId(item.user_id));
            match action {
                CloseAction::Nothing => {}
                CloseAction::RemoveNow => removals.push(pair),
                CloseAction::ChangeNow(level) => level_changes.push((pair.0, pair.1, level)),
                CloseAction::RequestRemoval | CloseAction::RequestChange(_) => {
                    requests.push((outcomes.len(), item, action));
                }
            }
            outcomes.push(CarriedOut { item_id: item.item_id, outcome, note, request_id: None });
        }
        let mut changes = Vec::new();
        for removed in tx.delete_accesses(org_id, &removals).await? {
            changes.push(
                Change::new(AuditAction::AccessRemoved, "work_app", removed.work_app_id).before(
                    serde_json::json!({
                        "userId": removed.user_id,
                        "permissionLevelId": removed.permission_level_id,
                        "accessReviewId": review_id,
                    }),
                ),
            );
        }
        let new_levels: HashMap<(Uuid, Uuid), Option<Uuid>> =
            level_changes.iter().map(|(a, u, l)| ((a.0, u.0), *l)).collect();
        for before in tx.set_access_levels(org_id, &level_changes, now).await? {
            changes.push(
                Change::new(AuditAction::AccessChanged, "work_app", before.work_app_id).after(
                    serde_json::json!({
                        "userId": before.user_id,
                        "permissionLevelId": new_levels.get(&(before.work_app_id, before.user_id)).copied().flatten(),
                        "previousPermissionLevelId": before.permission_level_id,
                        "accessReviewId": review_id,
                    }),
                ),
            );
        }
        self.audit_many(&mut *tx, ctx, changes).await?;
        for (at, item, action) in requests {
            let (request_type, level) = match action {
                CloseAction::RequestChange(level) => (RequestType::ChangePermissionLevel, level),
                _ => (RequestType::RemoveAccess, None),
            };
            let new = NewRequest {
                request_type,
                work_app_id: item.work_app_id,
                target_user_id: Some(item.user_id),
                permission_level_id: level,
                created_by_user_id: None,
                justification: Some(format!(
                    "Access review '{}' ({review_id}), item {}",
                    review.name, item.item_id
                )),
                expires_at: None,
            };
            // The review was the approval: the request goes straight to its action task.
            let origin = Origin { implicitly_approved: true, ..Origin::default() };
            match self.open_request(&mut *tx, ctx, new, origin).await {
                Ok(request) => outcomes[at].request_id = Some(request.id),
                // Checked before any write (e.g. the app was archived since the decision).
                Err(ServiceError::Conflict(why)) => {
                    outcomes[at].outcome = ItemOutcome::Skipped;
                    outcomes[at].note = Some(why);
                }
                Err(other) => return Err(other),
            }
        }
        outcomes.retain(|o| o.outcome != ItemOutcome::Kept || o.note.is_some());
        tx.record_review_outcomes(org_id, rid, &outcomes, now).await?;
        let before = review.clone();
        self.end_review(&mut *tx, ctx, &mut review, AccessReviewStatus::Closed).await?;
        let details = self.review_details(&mut *tx, review, None).await?;
        let outcome_counts: serde_json::Map<String, serde_json::Value> = details
            .progress
            .outcomes
            .iter()
            .map(|(o, n)| (o.name().to_string(), serde_json::json!(n)))
            .collect();
        let change = Change::new(AuditAction::AccessReviewClosed, "access_review", review_id)
            .before(serde_json::json!({ "status": before.status.name() }))
            .after(serde_json::json!({
                "name": details.review.name,
                "status": AccessReviewStatus::Closed.name(),
                "items": details.progress.items,
                "decided": details.progress.decided,
                "undecidedItems": details.review.undecided_items.name(),
                "outcomes": outcome_counts,
            }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// Cancels an open campaign: nothing is carried out; its items and decisions stay as
    /// evidence.
    pub async fn cancel_access_review(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
    ) -> Result<AccessReviewDetails, ServiceError> {
        let (mut tx, mut review) =
            self.open_review_tx(ctx, review_id, "it can be cancelled").await?;
        self.end_review(&mut *tx, ctx, &mut review, AccessReviewStatus::Cancelled).await?;
        let change = Change::new(AuditAction::AccessReviewCancelled, "access_review", review_id)
            .before(serde_json::json!({ "status": AccessReviewStatus::Open.name() }))
            .after(serde_json::json!({ "status": AccessReviewStatus::Cancelled.name() }));
        self.audit(&mut *tx, ctx, change).await?;
        let details = self.review_details(&mut *tx, review, None).await?;
        tx.commit().await?;
        Ok(details)
    }

    /// The evidence: the campaign and every item with its decision, reviewers, decider, time,
    /// comment and what was carried out. Administrators and API credentials (read-only ones too).
    pub async fn export_access_review(
        &self,
        ctx: &Ctx,
        review_id: Uuid,
    ) -> Result<(AccessReviewDetails, Vec<ReviewItemDetail>), ServiceError> {
        ctx.actor.require_validated()?;
        if Self::reviewer_scope(ctx).is_some() {
            let mut tx = self.store.read().await?;
            // A reviewer who may see the campaign is told why; anyone else gets 404.
            self.visible_review(&mut *tx, ctx, review_id).await?;
            return Err(ServiceError::Forbidden(
                "Only administrators and owners may export an access review".into(),
            ));
        }
        let mut tx = self.store.read().await?;
        let details = self.visible_review(&mut *tx, ctx, review_id).await?;
        let rid = AccessReviewId(review_id);
        let mut items = Vec::with_capacity(details.progress.items.max(0) as usize);
        let mut page = PageRequest { after: None, limit: EXPORT_PAGE };
        loop {
            let found =
                tx.list_review_items(ctx.org_id(), rid, ReviewItemFilter::default(), page).await?;
            items.extend(found.items);
            match found.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
        Ok((details, items))
    }

    /// Background job: closes the open campaigns past their due date that asked to close
    /// themselves, and records once for every other overdue campaign that reminders are due
    /// (`access_review.overdue`, with the reviewers who have undecided items). Returns how many
    /// campaigns it acted on.
    pub async fn sweep_access_reviews(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let due = self.store.read().await?.due_access_reviews(now, SWEEP_BATCH).await?;
        for review in &due {
            let ctx = Ctx::new(Actor { org_id: review.org_id, kind: ActorKind::System }, None);
            if review.closes_itself_at(now) {
                match self.close_access_review(&ctx, review.id).await {
                    // Closed or cancelled meanwhile by someone else.
                    Ok(_) | Err(ServiceError::Conflict(_)) => {}
                    Err(other) => return Err(other),
                }
            } else {
                self.record_overdue(&ctx, review.id).await?;
            }
        }
        Ok(due.len())
    }

    /// Records that a campaign is overdue and who still has items to decide (once per due date).
    async fn record_overdue(&self, ctx: &Ctx, review_id: Uuid) -> Result<(), ServiceError> {
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let mut tx = self.write_tx(org_id).await?;
        let rid = AccessReviewId(review_id);
        let Some(mut review) = tx.get_access_review(org_id, rid).await? else { return Ok(()) };
        if review.status_at(now) != AccessReviewStatus::Overdue
            || review.overdue_notified_at.is_some()
        {
            return Ok(());
        }
        let pending = tx.pending_reviewers(org_id, rid).await?;
        let progress = self.review_details(&mut *tx, review.clone(), None).await?.progress;
        review.overdue_notified_at = Some(now);
        tx.update_access_review(&review).await?;
        let change = Change::new(AuditAction::AccessReviewOverdue, "access_review", review_id)
            .after(serde_json::json!({
                "name": review.name,
                "dueDate": review.due_date,
                "undecidedItems": progress.undecided(),
                "reviewers": pending
                    .iter()
                    .map(|(user, n)| serde_json::json!({ "userId": user, "undecidedItems": n }))
                    .collect::<Vec<_>>(),
            }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
