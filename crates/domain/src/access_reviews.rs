//! Access reviews (certification campaigns): a snapshot of the live accesses of some apps, each
//! access an item that its reviewers keep, revoke or move to another level; closing the campaign
//! carries the decisions out.
//!
//! The pure rules live here:
//!
//! - who reviews an item ([`resolve_reviewers`]): the app's owners, the user's manager, or the
//!   person named as the campaign's creator, under the separation-of-duties rule of
//!   [`crate::duties`] — nobody reviews their own access; such items, and items without a
//!   reviewer, go to the organization's administrators;
//! - who may decide an item ([`check_decider`]) and whether a decision fits it
//!   ([`check_decision`]);
//! - what closing does to each item ([`close_action`]): at once for Automatic apps, through a
//!   Remove-Access / Change-Permission request (its action task) for Manual apps, and undecided
//!   items as the campaign says (keep by default, or revoke);
//! - when a campaign is Overdue ([`AccessReview::status_at`]).
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{validate, AccessSource, Assignment, DomainError, Duties, ProvisioningMode};

/// Most work apps a campaign may name (an empty list means every Managed app).
pub const MAX_REVIEW_APPS: usize = 1000;

/// Most items one bulk decision may carry.
pub const MAX_BULK_DECISIONS: usize = 1000;

crate::wire_enum! {
    /// Who reviews the items of a campaign (Cakewalk's `accessReviewType`).
    pub enum AccessReviewType: "accessReviewType", exact {
        /// The owners of each item's work app.
        WorkAppOwner = 1 => "WorkAppOwner",
        /// Each item's user's manager.
        Manager = 2 => "Manager",
        /// The person named as the campaign's creator (`createdByUserId`).
        CurrentUser = 3 => "CurrentUser",
    }
}

crate::wire_enum! {
    /// Where a campaign is. `Overdue` is never stored: it is an `Open` campaign past its due date.
    pub enum AccessReviewStatus: "access review status", case_insensitive {
        Open = 1 => "Open",
        Overdue = 2 => "Overdue",
        Closed = 3 => "Closed",
        Cancelled = 4 => "Cancelled",
    }
}

crate::wire_enum! {
    /// A reviewer's decision on one access.
    pub enum ReviewDecision: "decision", case_insensitive {
        Keep = 1 => "Keep",
        Revoke = 2 => "Revoke",
        /// Move the access to another permission level of its app (`permissionLevelId`).
        ChangeLevel = 3 => "ChangeLevel",
    }
}

crate::wire_enum! {
    /// What closing a campaign does with the items nobody decided.
    pub enum UndecidedItems: "undecidedItems", case_insensitive {
        /// The default: undecided accesses stay.
        Keep = 1 => "Keep",
        /// Undecided accesses are revoked as if a reviewer had decided so.
        Revoke = 2 => "Revoke",
    }
}

crate::wire_enum! {
    /// What closing the campaign did with one item.
    pub enum ItemOutcome: "outcome", exact {
        /// Nothing to do: kept (decided or undecided), or already at the decided level.
        Kept = 1 => "Kept",
        /// The access was removed at once (Automatic app).
        Revoked = 2 => "Revoked",
        /// The access was moved to the decided level at once (Automatic app).
        LevelChanged = 3 => "LevelChanged",
        /// A Remove-Access request was opened; its action task awaits the app's owners (Manual app).
        RemovalRequested = 4 => "RemovalRequested",
        /// A Change-Permission request was opened; its action task awaits the app's owners.
        LevelChangeRequested = 5 => "LevelChangeRequested",
        /// The access was no longer there (removed or expired since the snapshot).
        AccessGone = 6 => "AccessGone",
        /// Not carried out; the note says why (an open request for the same access).
        Skipped = 7 => "Skipped",
    }
}

/// A certification campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReview {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Unique per organization, case-insensitively.
    pub name: String,
    pub description: Option<String>,
    pub review_type: AccessReviewType,
    pub due_date: DateTime<Utc>,
    /// The apps as asked; empty means every Managed app when the campaign started.
    pub work_app_ids: Vec<Uuid>,
    /// The person who appears as the creator (and reviews every item of a `CurrentUser` campaign).
    pub created_by_user_id: Uuid,
    /// Stored status: `Open`, `Closed` or `Cancelled` (see [`AccessReview::status_at`]).
    pub status: AccessReviewStatus,
    pub undecided_items: UndecidedItems,
    /// Close by itself once the due date has passed (otherwise closing stays explicit).
    pub close_at_due_date: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was closed or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed or cancelled it (a person; `None` for a credential or the server).
    pub closed_by_user_id: Option<Uuid>,
    /// When the server recorded that it became overdue (reminders due), once.
    pub overdue_notified_at: Option<DateTime<Utc>>,
}

impl AccessReview {
    /// The status shown at `now`: an open campaign at or past its due date is `Overdue`.
    pub fn status_at(&self, now: DateTime<Utc>) -> AccessReviewStatus {
        match self.status {
            AccessReviewStatus::Open if now >= self.due_date => AccessReviewStatus::Overdue,
            other => other,
        }
    }

    /// Still taking decisions (Open or Overdue)?
    pub fn is_open(&self) -> bool {
        self.status == AccessReviewStatus::Open
    }

    /// Refuses a change to a campaign that has ended (409).
    pub fn check_open(&self, what: &str) -> Result<(), DomainError> {
        if self.is_open() {
            return Ok(());
        }
        Err(DomainError::Conflict(format!(
            "access review {} is {}: {what} only while it is open",
            self.id,
            self.status.name()
        )))
    }

    /// Are reminders due: past the due date with items still undecided?
    pub fn reminders_due(&self, now: DateTime<Utc>, undecided: i64) -> bool {
        self.status_at(now) == AccessReviewStatus::Overdue && undecided > 0
    }

    /// Should the server close it by itself at `now`?
    pub fn closes_itself_at(&self, now: DateTime<Utc>) -> bool {
        self.close_at_due_date && self.status_at(now) == AccessReviewStatus::Overdue
    }
}

/// Cakewalk's `CreateAccessReviewRequestV1`.
#[derive(Debug, Clone)]
pub struct NewAccessReview {
    pub name: String,
    pub description: Option<String>,
    pub review_type: AccessReviewType,
    pub due_date: DateTime<Utc>,
    pub work_app_ids: Vec<Uuid>,
    pub created_by_user_id: Uuid,
}

impl NewAccessReview {
    /// The campaign, validated: a name, a due date in the future, at most [`MAX_REVIEW_APPS`]
    /// apps (each once). Undecided items are kept and closing is explicit until changed.
    pub fn build(
        &self,
        id: Uuid,
        org_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<AccessReview, DomainError> {
        let name = validate::name("name", &self.name)?;
        let description = self
            .description
            .as_deref()
            .map(|d| validate::text("description", Some(d)))
            .transpose()?;
        check_due_date(self.due_date, now)?;
        if self.work_app_ids.len() > MAX_REVIEW_APPS {
            return Err(DomainError::invalid(format!(
                "workAppIds: at most {MAX_REVIEW_APPS} work apps (an empty list reviews every \
                 managed app)"
            )));
        }
        let mut apps: Vec<Uuid> = Vec::with_capacity(self.work_app_ids.len());
        for app in &self.work_app_ids {
            if !apps.contains(app) {
                apps.push(*app);
            }
        }
        Ok(AccessReview {
            id,
            org_id,
            name,
            description,
            review_type: self.review_type,
            due_date: self.due_date,
            work_app_ids: apps,
            created_by_user_id: self.created_by_user_id,
            status: AccessReviewStatus::Open,
            undecided_items: UndecidedItems::Keep,
            close_at_due_date: false,
            created_at: now,
            updated_at: now,
            closed_at: None,
            closed_by_user_id: None,
            overdue_notified_at: None,
        })
    }
}

fn check_due_date(due: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DomainError> {
    if due <= now {
        return Err(DomainError::invalid("dueDate must be in the future"));
    }
    Ok(())
}

/// Changes to an open campaign; `None` leaves a property alone.
#[derive(Debug, Clone, Default)]
pub struct AccessReviewPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    /// A new due date, in the future (an overdue campaign becomes Open again).
    pub due_date: Option<DateTime<Utc>>,
    pub undecided_items: Option<UndecidedItems>,
    pub close_at_due_date: Option<bool>,
}

impl AccessReviewPatch {
    /// Validates and applies the patch (all of it, or nothing). Only an open campaign changes.
    pub fn apply(&self, review: &mut AccessReview, now: DateTime<Utc>) -> Result<(), DomainError> {
        review.check_open("it can be changed")?;
        let mut next = review.clone();
        if let Some(name) = &self.name {
            next.name = validate::name("name", name)?;
        }
        if let Some(description) = &self.description {
            next.description = description
                .as_deref()
                .map(|d| validate::text("description", Some(d)))
                .transpose()?;
        }
        if let Some(due) = self.due_date {
            check_due_date(due, now)?;
            if due != next.due_date {
                // Overdue again later: the reminder is due again then.
                next.overdue_notified_at = None;
            }
            next.due_date = due;
        }
        if let Some(undecided) = self.undecided_items {
            next.undecided_items = undecided;
        }
        if let Some(close) = self.close_at_due_date {
            next.close_at_due_date = close;
        }
        *review = next;
        Ok(())
    }
}

/// One access under review: the snapshot of the access, its reviewers, the decision, and after
/// closing what was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReviewItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub review_id: Uuid,
    pub user_id: Uuid,
    pub work_app_id: Uuid,
    /// The level the access had when the campaign started.
    pub permission_level_id: Option<Uuid>,
    pub source: AccessSource,
    pub granted_at: DateTime<Utc>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub reviewer_ids: Vec<Uuid>,
    /// Why the item has no reviewer (everyone who could review it is kept out).
    pub unassigned_reason: Option<String>,
    pub decision: Option<ReviewDecision>,
    /// The level a `ChangeLevel` decision moves the access to.
    pub decision_level_id: Option<Uuid>,
    pub comment: Option<String>,
    /// Who decided (`None` for a credential deciding for the organization).
    pub decided_by_user_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub outcome: Option<ItemOutcome>,
    pub outcome_note: Option<String>,
    /// The Remove-Access / Change-Permission request opened for a Manual app.
    pub outcome_request_id: Option<Uuid>,
    pub carried_out_at: Option<DateTime<Utc>>,
}

/// A person as an item shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    /// First and last name.
    pub name: String,
    pub email: String,
}

/// An item with the names a person reads: the user, the app, the levels and the reviewers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItemDetail {
    pub item: AccessReviewItem,
    pub user: Person,
    pub app_name: String,
    pub level_name: Option<String>,
    pub decision_level_name: Option<String>,
    /// In the order they were assigned.
    pub reviewers: Vec<Person>,
}

/// How far a campaign has come: counts of its items (or of one reviewer's items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewProgress {
    pub items: i64,
    pub decided: i64,
    pub keep: i64,
    pub revoke: i64,
    pub change_level: i64,
    /// Items nobody may review (see [`NO_ELIGIBLE_REVIEWER`]).
    pub unassigned: i64,
    /// After closing: how many items ended with each outcome.
    pub outcomes: std::collections::BTreeMap<ItemOutcome, i64>,
}

impl ReviewProgress {
    pub fn undecided(&self) -> i64 {
        self.items - self.decided
    }
}

/// A decision as sent, before it is checked against its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDecision {
    pub decision: ReviewDecision,
    pub permission_level_id: Option<Uuid>,
    pub comment: Option<String>,
}

/// Checks a decision against its item: `ChangeLevel` needs `permissionLevelId`, a level of the
/// item's app (`app_levels`) other than the one it has; `Keep` and `Revoke` take none. Returns
/// the comment trimmed (`None` when empty).
pub fn check_decision(
    d: &ItemDecision,
    item: &AccessReviewItem,
    app_levels: &[Uuid],
) -> Result<Option<String>, DomainError> {
    let comment = d
        .comment
        .as_deref()
        .map(|c| validate::text("comment", Some(c)))
        .transpose()?
        .filter(|c| !c.is_empty());
    match (d.decision, d.permission_level_id) {
        (ReviewDecision::ChangeLevel, None) => {
            Err(DomainError::invalid("permissionLevelId is required with the decision ChangeLevel"))
        }
        (ReviewDecision::ChangeLevel, Some(level)) => {
            if !app_levels.contains(&level) {
                return Err(DomainError::invalid(format!(
                    "permissionLevelId: {level} is not a permission level of work app {}",
                    item.work_app_id
                )));
            }
            if item.permission_level_id == Some(level) {
                return Err(DomainError::invalid(format!(
                    "permissionLevelId: the access already has level {level}; decide Keep instead"
                )));
            }
            Ok(comment)
        }
        (_, Some(_)) => {
            Err(DomainError::invalid("permissionLevelId applies only to the decision ChangeLevel"))
        }
        (_, None) => Ok(comment),
    }
}

/// A decision checked against its item, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDecision {
    pub item_id: Uuid,
    pub decision: ReviewDecision,
    pub permission_level_id: Option<Uuid>,
    pub comment: Option<String>,
}

/// Who wants to decide an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecider {
    /// A person with their own bearer token (administrators and owners may decide any item).
    Bearer { id: Uuid, admin: bool },
    /// The user an API credential names (`userId`).
    Named { id: Uuid, active: bool },
    /// An API credential deciding for the organization.
    Organization,
}

/// Why someone may not decide an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeciderRefusal {
    /// The caller may not even see the item (answered 404, so that ids do not leak).
    NotVisible,
    /// Refused with this message (403).
    Forbidden(String),
}

/// May `decider` decide `item`? Separation of duties first — nobody decides an item about their
/// own access, whatever their role — then: a reviewer of the item, or a bearer administrator; a
/// user a credential names must be an active reviewer; a credential may decide for the
/// organization.
pub fn check_decider(
    item: &AccessReviewItem,
    decider: ReviewDecider,
) -> Result<(), DeciderRefusal> {
    let duties = Duties::of_access(item.user_id);
    match decider {
        ReviewDecider::Organization => Ok(()),
        ReviewDecider::Bearer { id, admin } => {
            let reviewer = item.reviewer_ids.contains(&id);
            if !reviewer && !admin {
                return Err(DeciderRefusal::NotVisible);
            }
            if duties.conflict(id).is_some() {
                return Err(DeciderRefusal::Forbidden(
                    "Separation of duties: you may not decide this item: it is about your own \
                     access"
                        .into(),
                ));
            }
            Ok(())
        }
        ReviewDecider::Named { id, active } => {
            if duties.conflict(id).is_some() {
                return Err(DeciderRefusal::Forbidden(format!(
                    "Separation of duties: user {id} may not decide this item: it is about their \
                     own access"
                )));
            }
            if !(active && item.reviewer_ids.contains(&id)) {
                return Err(DeciderRefusal::Forbidden(format!(
                    "userId: user {id} is not an active reviewer of this item; a decision is \
                     recorded as a user's only when that user may decide it"
                )));
            }
            Ok(())
        }
    }
}

/// What reviewer resolution needs to know about one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemSubject {
    pub item_id: Uuid,
    pub user_id: Uuid,
    pub work_app_id: Uuid,
    /// The user's manager and whether the manager is active.
    pub manager: Option<(Uuid, bool)>,
}

/// What reviewer resolution needs to know about the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewerFacts {
    /// The active owners of each app, in their order.
    pub owners: HashMap<Uuid, Vec<Uuid>>,
    /// The organization's active administrators and owners.
    pub admins: Vec<Uuid>,
    /// The campaign's `createdByUserId` (an active user when the campaign starts).
    pub creator: Uuid,
}

/// The reason an item has no reviewer.
pub const NO_ELIGIBLE_REVIEWER: &str = "No eligible reviewer: the item is about the access of \
     the only candidates, the organization's administrators and owners included (nobody reviews \
     their own access). An API credential can decide it for the organization.";

/// The reviewers of one item: by the campaign's type, minus the item's user (nobody reviews
/// their own access); if nobody is left, the organization's administrators and owners minus the
/// item's user (the separation-of-duties rule of [`Duties::assign`]).
pub fn resolve_reviewers(
    review_type: AccessReviewType,
    item: &ItemSubject,
    facts: &ReviewerFacts,
) -> Assignment {
    let duties = Duties::of_access(item.user_id);
    let resolved: Vec<Uuid> = match review_type {
        AccessReviewType::WorkAppOwner => {
            facts.owners.get(&item.work_app_id).cloned().unwrap_or_default()
        }
        AccessReviewType::Manager => {
            duties.manager(&item.manager.into_iter().collect::<Vec<_>>()).into_iter().collect()
        }
        AccessReviewType::CurrentUser => vec![facts.creator],
    };
    item_reviewers(item.user_id, &resolved, &facts.admins)
}

/// The reviewers of an item about `user`'s access given its `resolved` candidates: those of
/// them who are not the user; if nobody is left, the organization's administrators and owners
/// (`admins`) who are not the user; else nobody, with [`NO_ELIGIBLE_REVIEWER`]. Also how an item
/// is reassigned when its reviewer leaves the organization or stops being the user's manager.
pub fn item_reviewers(user: Uuid, resolved: &[Uuid], admins: &[Uuid]) -> Assignment {
    let mut assignment = Duties::of_access(user).assign(resolved, admins);
    if assignment.assignees.is_empty() {
        assignment.unassigned_reason = Some(NO_ELIGIBLE_REVIEWER.to_string());
    }
    assignment
}

/// What closing needs to know about one item whose effective decision is not Keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseFacts {
    pub mode: ProvisioningMode,
    /// The live access's level now (`None`: no live access any more).
    pub live_level: Option<Option<Uuid>>,
    /// An open request for the same user and app, if any.
    pub open_request: Option<Uuid>,
}

/// An item whose effective decision is not Keep, as closing reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseItem {
    pub item_id: Uuid,
    pub user_id: Uuid,
    pub work_app_id: Uuid,
    pub decision: Option<ReviewDecision>,
    pub decision_level_id: Option<Uuid>,
    pub facts: CloseFacts,
}

/// What closing recorded for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedOut {
    pub item_id: Uuid,
    pub outcome: ItemOutcome,
    pub note: Option<String>,
    pub request_id: Option<Uuid>,
}

/// What closing does with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Nothing.
    Nothing,
    /// Remove the access now.
    RemoveNow,
    /// Move the access to this level now.
    ChangeNow(Option<Uuid>),
    /// Open a Remove-Access request (its action task goes to the app's owners).
    RequestRemoval,
    /// Open a Change-Permission request to this level.
    RequestChange(Option<Uuid>),
}

/// The decision an item is closed with: its own, or for an undecided item the campaign's
/// setting.
pub fn effective_decision(
    decision: Option<ReviewDecision>,
    undecided: UndecidedItems,
) -> ReviewDecision {
    decision.unwrap_or(match undecided {
        UndecidedItems::Keep => ReviewDecision::Keep,
        UndecidedItems::Revoke => ReviewDecision::Revoke,
    })
}

/// What closing does with an item, its outcome, and a note when the outcome needs one. Nothing is
/// changed for an access that is gone, or already at the decided level; a Manual app's change
/// goes through a request unless one is already open for the same access.
pub fn close_action(
    decision: ReviewDecision,
    decision_level: Option<Uuid>,
    facts: CloseFacts,
) -> (CloseAction, ItemOutcome, Option<String>) {
    let automatic = facts.mode == ProvisioningMode::Automatic;
    let skipped = |id: Uuid| {
        (
            CloseAction::Nothing,
            ItemOutcome::Skipped,
            Some(format!("request {id} for this user and work app was already open")),
        )
    };
    match (decision, facts.live_level) {
        (ReviewDecision::Keep, _) => (CloseAction::Nothing, ItemOutcome::Kept, None),
        (_, None) => (CloseAction::Nothing, ItemOutcome::AccessGone, None),
        (ReviewDecision::ChangeLevel, Some(level)) if level == decision_level => (
            CloseAction::Nothing,
            ItemOutcome::Kept,
            Some("the access already had the decided level".into()),
        ),
        (ReviewDecision::Revoke, Some(_)) if automatic => {
            (CloseAction::RemoveNow, ItemOutcome::Revoked, None)
        }
        (ReviewDecision::ChangeLevel, Some(_)) if automatic => {
            (CloseAction::ChangeNow(decision_level), ItemOutcome::LevelChanged, None)
        }
        (_, Some(_)) if facts.open_request.is_some() => {
            skipped(facts.open_request.unwrap_or_default())
        }
        (ReviewDecision::Revoke, Some(_)) => {
            (CloseAction::RequestRemoval, ItemOutcome::RemovalRequested, None)
        }
        (ReviewDecision::ChangeLevel, Some(_)) => {
            (CloseAction::RequestChange(decision_level), ItemOutcome::LevelChangeRequested, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(n: u8) -> Uuid {
        Uuid::from_u128(u128::from(n) + 1)
    }

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(secs)
    }

    fn review() -> AccessReview {
        NewAccessReview {
            name: " Q1 review ".into(),
            description: None,
            review_type: AccessReviewType::WorkAppOwner,
            due_date: t(100),
            work_app_ids: vec![u(1), u(2), u(1)],
            created_by_user_id: u(9),
        }
        .build(u(50), u(51), t(0))
        .expect("valid")
    }

    fn item(user: u8, reviewers: &[u8], level: Option<u8>) -> AccessReviewItem {
        AccessReviewItem {
            id: u(100),
            org_id: u(51),
            review_id: u(50),
            user_id: u(user),
            work_app_id: u(1),
            permission_level_id: level.map(u),
            source: AccessSource::Direct,
            granted_at: t(0),
            access_expires_at: None,
            reviewer_ids: reviewers.iter().copied().map(u).collect(),
            unassigned_reason: None,
            decision: None,
            decision_level_id: None,
            comment: None,
            decided_by_user_id: None,
            decided_at: None,
            outcome: None,
            outcome_note: None,
            outcome_request_id: None,
            carried_out_at: None,
        }
    }

    #[test]
    fn a_new_campaign_is_trimmed_deduplicated_open_and_keeps_undecided_items() {
        let r = review();
        assert_eq!(r.name, "Q1 review");
        assert_eq!(r.work_app_ids, vec![u(1), u(2)]);
        assert_eq!(r.status, AccessReviewStatus::Open);
        assert_eq!(r.undecided_items, UndecidedItems::Keep);
        assert!(!r.close_at_due_date);
        let past = NewAccessReview { due_date: t(0), ..new_of(&r) };
        assert!(matches!(past.build(u(50), u(51), t(0)), Err(DomainError::Invalid(_))));
        let unnamed = NewAccessReview { name: "  ".into(), ..new_of(&r) };
        assert!(unnamed.build(u(50), u(51), t(0)).is_err());
        let many = NewAccessReview {
            work_app_ids: (0..=MAX_REVIEW_APPS as u128).map(Uuid::from_u128).collect(),
            ..new_of(&r)
        };
        assert!(many.build(u(50), u(51), t(0)).is_err());
    }

    fn new_of(r: &AccessReview) -> NewAccessReview {
        NewAccessReview {
            name: r.name.clone(),
            description: r.description.clone(),
            review_type: r.review_type,
            due_date: r.due_date,
            work_app_ids: r.work_app_ids.clone(),
            created_by_user_id: r.created_by_user_id,
        }
    }

    #[test]
    fn a_patch_applies_to_open_campaigns_only_and_all_or_nothing() {
        let mut r = review();
        let patch = AccessReviewPatch {
            undecided_items: Some(UndecidedItems::Revoke),
            close_at_due_date: Some(true),
            due_date: Some(t(200)),
            description: Some(Some(" why ".into())),
            ..AccessReviewPatch::default()
        };
        patch.apply(&mut r, t(150)).expect("open");
        assert_eq!(
            (r.undecided_items, r.close_at_due_date, r.due_date, r.description.as_deref()),
            (UndecidedItems::Revoke, true, t(200), Some("why"))
        );
        let bad = AccessReviewPatch {
            name: Some("Renamed".into()),
            due_date: Some(t(10)),
            ..AccessReviewPatch::default()
        };
        assert!(bad.apply(&mut r, t(150)).is_err());
        assert_eq!(r.name, "Q1 review", "nothing of a refused patch applies");
        r.status = AccessReviewStatus::Closed;
        let err = AccessReviewPatch::default().apply(&mut r, t(150)).unwrap_err();
        assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    }

    #[test]
    fn change_level_needs_another_level_of_the_same_app() {
        let it = item(1, &[2], Some(10));
        let levels = [u(10), u(11)];
        let d = |decision, level: Option<u8>| ItemDecision {
            decision,
            permission_level_id: level.map(u),
            comment: Some("  fine  ".into()),
        };
        assert_eq!(
            check_decision(&d(ReviewDecision::Keep, None), &it, &levels),
            Ok(Some("fine".into()))
        );
        assert!(check_decision(&d(ReviewDecision::ChangeLevel, Some(11)), &it, &levels).is_ok());
        for bad in [
            d(ReviewDecision::ChangeLevel, None),
            d(ReviewDecision::ChangeLevel, Some(10)),
            d(ReviewDecision::ChangeLevel, Some(12)),
            d(ReviewDecision::Revoke, Some(11)),
            d(ReviewDecision::Keep, Some(11)),
        ] {
            assert!(matches!(check_decision(&bad, &it, &levels), Err(DomainError::Invalid(_))));
        }
        let blank = ItemDecision { comment: Some("   ".into()), ..d(ReviewDecision::Revoke, None) };
        assert_eq!(check_decision(&blank, &it, &levels), Ok(None));
    }

    #[test]
    fn overdue_is_an_open_campaign_at_or_past_its_due_date() {
        let mut r = review();
        assert_eq!(r.status_at(t(99)), AccessReviewStatus::Open);
        assert_eq!(r.status_at(t(100)), AccessReviewStatus::Overdue);
        assert!(r.reminders_due(t(100), 1));
        assert!(!r.reminders_due(t(100), 0));
        assert!(!r.closes_itself_at(t(100)));
        r.close_at_due_date = true;
        assert!(r.closes_itself_at(t(100)) && !r.closes_itself_at(t(99)));
        r.status = AccessReviewStatus::Closed;
        assert_eq!(r.status_at(t(1000)), AccessReviewStatus::Closed);
        assert!(!r.closes_itself_at(t(1000)));
    }

    fn any_decision() -> impl Strategy<Value = ReviewDecision> {
        prop_oneof![
            Just(ReviewDecision::Keep),
            Just(ReviewDecision::Revoke),
            Just(ReviewDecision::ChangeLevel)
        ]
    }

    fn any_type() -> impl Strategy<Value = AccessReviewType> {
        prop_oneof![
            Just(AccessReviewType::WorkAppOwner),
            Just(AccessReviewType::Manager),
            Just(AccessReviewType::CurrentUser)
        ]
    }

    fn people(n: usize) -> impl Strategy<Value = Vec<Uuid>> {
        proptest::collection::vec((0u8..6).prop_map(u), 0..n)
    }

    proptest! {
        #[test]
        fn nobody_reviews_their_own_access_and_nobody_left_goes_to_the_administrators(
            review_type in any_type(),
            user in (0u8..6).prop_map(u),
            owners in people(4),
            manager in proptest::option::of(((0u8..6).prop_map(u), any::<bool>())),
            creator in (0u8..6).prop_map(u),
            admins in people(4),
        ) {
            let item = ItemSubject { item_id: u(200), user_id: user, work_app_id: u(1), manager };
            let facts = ReviewerFacts {
                owners: HashMap::from([(u(1), owners.clone())]),
                admins: admins.clone(),
                creator,
            };
            let a = resolve_reviewers(review_type, &item, &facts);
            prop_assert!(!a.assignees.contains(&user), "{:?} reviews their own access", user);
            prop_assert_eq!(a.assignees.is_empty(), a.unassigned_reason.is_some());
            let own: Vec<Uuid> = match review_type {
                AccessReviewType::WorkAppOwner => owners.clone(),
                AccessReviewType::Manager => manager.filter(|(_, active)| *active).map(|(m, _)| m).into_iter().collect(),
                AccessReviewType::CurrentUser => vec![creator],
            };
            let eligible: Vec<Uuid> = own.iter().copied().filter(|id| *id != user).collect();
            if eligible.is_empty() {
                // The administrators, minus the item's user, each once.
                prop_assert!(a.assignees.iter().all(|id| admins.contains(id)));
                for admin in admins.iter().filter(|id| **id != user) {
                    prop_assert!(a.assignees.contains(admin));
                }
            } else {
                prop_assert!(a.assignees.iter().all(|id| eligible.contains(id)));
                prop_assert!(eligible.iter().all(|id| a.assignees.contains(id)));
            }
        }

        #[test]
        fn a_reviewer_decides_their_items_only_and_never_their_own_access(
            user in 0u8..5,
            reviewers in proptest::collection::vec(0u8..5, 0..3),
            person in 0u8..5,
            admin in any::<bool>(),
            active in any::<bool>(),
        ) {
            let it = item(user, &reviewers, None);
            let reviewer = it.reviewer_ids.contains(&u(person));
            let own = person == user;
            let bearer = check_decider(&it, ReviewDecider::Bearer { id: u(person), admin });
            match (reviewer || admin, own) {
                (false, _) => prop_assert_eq!(bearer, Err(DeciderRefusal::NotVisible)),
                (true, true) => prop_assert!(matches!(bearer, Err(DeciderRefusal::Forbidden(_)))),
                (true, false) => prop_assert_eq!(bearer, Ok(())),
            }
            let named = check_decider(&it, ReviewDecider::Named { id: u(person), active });
            prop_assert_eq!(named.is_ok(), reviewer && active && !own);
            prop_assert!(!matches!(named, Err(DeciderRefusal::NotVisible)));
            prop_assert_eq!(check_decider(&it, ReviewDecider::Organization), Ok(()));
        }

        #[test]
        fn closing_changes_only_live_accesses_that_a_decision_changes(
            decision in proptest::option::of(any_decision()),
            revoke_undecided in any::<bool>(),
            automatic in any::<bool>(),
            live_level in proptest::option::of(proptest::option::of((0u8..3).prop_map(u))),
            decision_level in proptest::option::of((0u8..3).prop_map(u)),
            open_request in proptest::option::of(Just(u(77))),
        ) {
            let undecided = if revoke_undecided { UndecidedItems::Revoke } else { UndecidedItems::Keep };
            let effective = effective_decision(decision, undecided);
            if decision.is_none() {
                prop_assert_eq!(effective, if revoke_undecided { ReviewDecision::Revoke } else { ReviewDecision::Keep });
            }
            let mode = if automatic { ProvisioningMode::Automatic } else { ProvisioningMode::Manual };
            let (action, outcome, note) =
                close_action(effective, decision_level, CloseFacts { mode, live_level, open_request });
            // Keep, a gone access, or the decided level already there: nothing happens.
            if effective == ReviewDecision::Keep
                || live_level.is_none()
                || (effective == ReviewDecision::ChangeLevel && live_level == Some(decision_level))
            {
                prop_assert_eq!(action, CloseAction::Nothing);
                prop_assert!(matches!(outcome, ItemOutcome::Kept | ItemOutcome::AccessGone));
                prop_assert_eq!(outcome == ItemOutcome::AccessGone, effective != ReviewDecision::Keep && live_level.is_none());
            } else if automatic {
                // Automatic apps change at once, whatever requests are open.
                let expected = match effective {
                    ReviewDecision::Revoke => (CloseAction::RemoveNow, ItemOutcome::Revoked),
                    _ => (CloseAction::ChangeNow(decision_level), ItemOutcome::LevelChanged),
                };
                prop_assert_eq!((action, outcome), expected);
                prop_assert!(note.is_none());
            } else if open_request.is_some() {
                prop_assert_eq!((action, outcome), (CloseAction::Nothing, ItemOutcome::Skipped));
                prop_assert!(note.is_some_and(|n| n.contains(&u(77).to_string())));
            } else {
                // Manual apps never change at once: a request's action task does it.
                let expected = match effective {
                    ReviewDecision::Revoke => (CloseAction::RequestRemoval, ItemOutcome::RemovalRequested),
                    _ => (CloseAction::RequestChange(decision_level), ItemOutcome::LevelChangeRequested),
                };
                prop_assert_eq!((action, outcome), expected);
            }
        }

        #[test]
        fn the_shown_status_is_overdue_exactly_when_open_and_due(
            due in 0i64..100, now in 0i64..100, stored in 0usize..3,
        ) {
            let stored = [AccessReviewStatus::Open, AccessReviewStatus::Closed, AccessReviewStatus::Cancelled][stored];
            let r = AccessReview { due_date: t(due), status: stored, ..review() };
            let shown = r.status_at(t(now));
            prop_assert_eq!(shown == AccessReviewStatus::Overdue, stored == AccessReviewStatus::Open && now >= due);
            if shown != AccessReviewStatus::Overdue {
                prop_assert_eq!(shown, stored);
            }
        }
    }
}
