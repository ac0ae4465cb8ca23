//! Access reviews: campaigns, their items (a set-based snapshot of live accesses), the items'
//! reviewers, decisions and what closing carried out.
//!
//! Everything that touches many items is one statement over the whole set: the snapshot is one
//! `INSERT … SELECT` from `accesses`, reviewers and decisions are written from one JSON array
//! each, and closing reads the items to act on in one query.
use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::access_reviews::{
    CarriedOut, CheckedDecision, CloseFacts, CloseItem, ItemSubject, Person,
};
use portcullis_domain::{
    AccessReview, AccessReviewId, AccessReviewItem, AccessReviewStatus, AccessReviewType,
    AccessSource, Assignment, ItemOutcome, Page, PageRequest, ProvisioningMode, ReviewItemDetail,
    ReviewProgress, UserId, UserStatus, WorkAppStatus,
};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_id, get_opt_ts, get_ts, id, id_array, opt_id, stored_name};
use crate::session::{Session, Writable};
use crate::sql::{query, Db, Row};
use crate::{AccessReviewFilter, DecisionFilter, ReviewItemFilter, StoreError};

const COLUMNS: &str = "r.id, r.org_id, r.name, r.description, r.review_type, r.due_date,
    r.work_app_ids_json, r.created_by_user_id, r.status, r.undecided_items, r.close_at_due_date,
    r.created_at, r.updated_at, r.closed_at, r.closed_by_user_id, r.overdue_notified_at";

const ITEM_COLUMNS: &str = "i.id, i.org_id, i.review_id, i.user_id, i.work_app_id,
    i.permission_level_id, i.source, i.granted_at, i.access_expires_at, i.unassigned_reason,
    i.decision, i.decision_level_id, i.comment, i.decided_by_user_id, i.decided_at, i.outcome,
    i.outcome_note, i.outcome_request_id, i.carried_out_at";

/// The item's campaign, in an update driven by a JSON array of item ids: written as an
/// expression so that SQLite looks the items up by id for each array entry, rather than walking
/// the campaign's items (by its index) and scanning the array for each (quadratic: seconds for a
/// thousand decisions). PostgreSQL plans it either way.
const SAME_REVIEW: &str = "(access_review_items.review_id || '')";

/// Items with their reviewer `$N` among their reviewers (or every item when `$N` is null).
fn reviewed_by(n: usize) -> String {
    format!(
        "(${n} IS NULL OR EXISTS (SELECT 1 FROM access_review_reviewers v
                                  WHERE v.item_id = i.id AND v.user_id = ${n}))"
    )
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn to_json<T: serde::Serialize>(rows: &T) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Inserts the campaign, or updates the one with its id (never its organization, type, apps,
/// creator or creation time).
async fn save_access_review(db: &mut Db, r: &AccessReview) -> Result<(), StoreError> {
    query(
        "INSERT INTO access_reviews (id, org_id, name, name_key, description, review_type, due_date,
                                     work_app_ids_json, created_by_user_id, status, undecided_items,
                                     close_at_due_date, created_at, updated_at, closed_at,
                                     closed_by_user_id, overdue_notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, name_key = excluded.name_key,
             description = excluded.description, due_date = excluded.due_date,
             status = excluded.status, undecided_items = excluded.undecided_items,
             close_at_due_date = excluded.close_at_due_date, updated_at = excluded.updated_at,
             closed_at = excluded.closed_at, closed_by_user_id = excluded.closed_by_user_id,
             overdue_notified_at = excluded.overdue_notified_at
         WHERE access_reviews.org_id = excluded.org_id",
    )
    .bind(r.id)
    .bind(r.org_id)
    .bind(&r.name)
    .bind(name_key(&r.name))
    .bind(&r.description)
    .bind(r.review_type.name())
    .bind(r.due_date)
    .bind(id_array(r.work_app_ids.iter().copied()))
    .bind(r.created_by_user_id)
    .bind(r.status.name())
    .bind(r.undecided_items.name())
    .bind(r.close_at_due_date)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.closed_at)
    .bind(r.closed_by_user_id)
    .bind(r.overdue_notified_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Fills `reviewer_ids` of the items with one query.
async fn attach_reviewer_ids(
    db: &mut Db,
    items: &mut [AccessReviewItem],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let ids_1 = db.dialect().in_json_texts("$1");
    let rows = query(format!(
        "SELECT item_id, user_id FROM access_review_reviewers
         WHERE item_id IN {ids_1} ORDER BY item_id, position"
    ))
    .bind(id_array(items.iter().map(|i| i.id)))
    .fetch_all(db)
    .await?;
    let mut by_item: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &rows {
        by_item.entry(get_id(row, "item_id")?).or_default().push(get_id(row, "user_id")?);
    }
    for item in items {
        item.reviewer_ids = by_item.remove(&item.id).unwrap_or_default();
    }
    Ok(())
}

/// Reading access reviews.
#[async_trait]
pub trait AccessReviewReads: Send {
    async fn get_access_review(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Option<AccessReview>, StoreError>;
    /// Campaigns, oldest first, by shown status (Open / Overdue at `filter.now`) and reviewer.
    async fn list_access_reviews(
        &mut self,
        org_id: Uuid,
        filter: AccessReviewFilter,
        page: PageRequest,
    ) -> Result<Page<AccessReview>, StoreError>;
    /// The progress of each campaign (of `reviewer`'s items only, when given).
    async fn access_review_progress(
        &mut self,
        org_id: Uuid,
        review_ids: &[Uuid],
        reviewer: Option<UserId>,
    ) -> Result<HashMap<Uuid, ReviewProgress>, StoreError>;
    /// Items with names and reviewers, by id, filtered.
    async fn list_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        filter: ReviewItemFilter,
        page: PageRequest,
    ) -> Result<Page<ReviewItemDetail>, StoreError>;
    /// The campaign's items among `item_ids`, with their reviewers, by id.
    async fn get_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        item_ids: &[Uuid],
    ) -> Result<Vec<AccessReviewItem>, StoreError>;
    /// What reviewer resolution needs of every item: its user, app and the user's manager.
    async fn review_item_subjects(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Vec<ItemSubject>, StoreError>;
    /// The active owners of every app the campaign has items of, in their order.
    async fn review_app_owners(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError>;
    /// The items closing acts on (decided Revoke or ChangeLevel, and the undecided ones when
    /// `revoke_undecided`), with their app's mode, the live access now and any open request (at
    /// most one per user and app: looked up through that unique index).
    async fn review_close_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        revoke_undecided: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<CloseItem>, StoreError>;
    /// Reviewers with undecided items, and how many each has.
    async fn pending_reviewers(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Vec<(Uuid, i64)>, StoreError>;
    /// Open campaigns (of any organization) past their due date that the server still has to
    /// act on: those that close themselves, and those not yet recorded as overdue.
    async fn due_access_reviews(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AccessReview>, StoreError>;
    /// The undecided items of open campaigns that `reviewer` reviews (with all their
    /// reviewers), by id; with `about`, only items about that user's access, and with
    /// `review_type`, only items of campaigns of that type.
    async fn undecided_items_reviewed_by(
        &mut self,
        org_id: Uuid,
        reviewer: UserId,
        about: Option<UserId>,
        review_type: Option<AccessReviewType>,
    ) -> Result<Vec<AccessReviewItem>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> AccessReviewReads for S {
    async fn get_access_review(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Option<AccessReview>, StoreError> {
        query(format!("SELECT {COLUMNS} FROM access_reviews r WHERE r.org_id = $1 AND r.id = $2"))
            .bind(org_id)
            .bind(review_id)
            .fetch_optional(self.db())
            .await?
            .as_ref()
            .map(decode_access_review)
            .transpose()
    }

    async fn list_access_reviews(
        &mut self,
        org_id: Uuid,
        filter: AccessReviewFilter,
        page: PageRequest,
    ) -> Result<Page<AccessReview>, StoreError> {
        // Overdue is an Open campaign at or past its due date; Open is one before it.
        let (stored, due) = match filter.status {
            None => (None, None),
            Some(AccessReviewStatus::Open) => (Some(AccessReviewStatus::Open), Some("before")),
            Some(AccessReviewStatus::Overdue) => (Some(AccessReviewStatus::Open), Some("past")),
            Some(other) => (Some(other), None),
        };
        let rows = query(format!(
            "SELECT {COLUMNS} FROM access_reviews r
             WHERE r.org_id = $1 AND r.id > $2
               AND ($3 IS NULL OR r.status = $3)
               AND ($4 IS NULL OR ($4 = 'past' AND r.due_date <= $5)
                               OR ($4 = 'before' AND r.due_date > $5))
               AND ($6 IS NULL OR EXISTS (SELECT 1 FROM access_review_reviewers v
                                          WHERE v.review_id = r.id AND v.user_id = $6))
             ORDER BY r.id LIMIT $7"
        ))
        .bind(org_id)
        .bind(page.after.map(id).unwrap_or_default())
        .bind(stored.map(AccessReviewStatus::name))
        .bind(due)
        .bind(filter.now)
        .bind(filter.reviewer_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(self.db())
        .await?;
        let reviews = rows.iter().map(decode_access_review).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(reviews, page.limit, |r| r.id))
    }

    async fn access_review_progress(
        &mut self,
        org_id: Uuid,
        review_ids: &[Uuid],
        reviewer: Option<UserId>,
    ) -> Result<HashMap<Uuid, ReviewProgress>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let mine = reviewed_by(3);
        let rows = query(format!(
            "SELECT i.review_id, COUNT(*) AS items,
                    SUM(CASE WHEN i.decision IS NOT NULL THEN 1 ELSE 0 END) AS decided,
                    SUM(CASE WHEN i.decision = 'Keep' THEN 1 ELSE 0 END) AS keep,
                    SUM(CASE WHEN i.decision = 'Revoke' THEN 1 ELSE 0 END) AS revoke,
                    SUM(CASE WHEN i.decision = 'ChangeLevel' THEN 1 ELSE 0 END) AS change_level,
                    SUM(CASE WHEN i.unassigned_reason IS NOT NULL THEN 1 ELSE 0 END) AS unassigned
             FROM access_review_items i
             WHERE i.org_id = $1 AND i.review_id IN {ids_2} AND {mine}
             GROUP BY i.review_id"
        ))
        .bind(org_id)
        .bind(id_array(review_ids.iter().copied()))
        .bind(reviewer)
        .fetch_all(&mut *db)
        .await?;
        let mut out: HashMap<Uuid, ReviewProgress> =
            review_ids.iter().map(|r| (*r, ReviewProgress::default())).collect();
        for row in &rows {
            let progress = out.entry(get_id(row, "review_id")?).or_default();
            progress.items = row.try_get("items")?;
            progress.decided = row.try_get("decided")?;
            progress.keep = row.try_get("keep")?;
            progress.revoke = row.try_get("revoke")?;
            progress.change_level = row.try_get("change_level")?;
            progress.unassigned = row.try_get("unassigned")?;
        }
        let rows = query(format!(
            "SELECT i.review_id, i.outcome, COUNT(*) AS n FROM access_review_items i
             WHERE i.org_id = $1 AND i.review_id IN {ids_2} AND {mine} AND i.outcome IS NOT NULL
             GROUP BY i.review_id, i.outcome"
        ))
        .bind(org_id)
        .bind(id_array(review_ids.iter().copied()))
        .bind(reviewer)
        .fetch_all(db)
        .await?;
        for row in &rows {
            let outcome: String = row.try_get("outcome")?;
            out.entry(get_id(row, "review_id")?)
                .or_default()
                .outcomes
                .insert(stored_name::<ItemOutcome>("outcome", &outcome)?, row.try_get("n")?);
        }
        Ok(out)
    }

    async fn list_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        filter: ReviewItemFilter,
        page: PageRequest,
    ) -> Result<Page<ReviewItemDetail>, StoreError> {
        let db = self.db();
        let mine = reviewed_by(4);
        let decision = match filter.decision {
            None => None,
            Some(DecisionFilter::Undecided) => Some("Undecided"),
            Some(DecisionFilter::Decided) => Some("Decided"),
            Some(DecisionFilter::Is(d)) => Some(d.name()),
        };
        let rows = query(format!(
            "SELECT {ITEM_COLUMNS}, u.first_name AS u_first_name, u.last_name AS u_last_name,
                    u.email AS u_email, w.name AS app_name, l.name AS level_name,
                    dl.name AS decision_level_name
             FROM access_review_items i
             JOIN users u ON u.id = i.user_id
             JOIN work_apps w ON w.id = i.work_app_id
             LEFT JOIN permission_levels l ON l.id = i.permission_level_id
             LEFT JOIN permission_levels dl ON dl.id = i.decision_level_id
             WHERE i.org_id = $1 AND i.review_id = $2 AND i.id > $3 AND {mine}
               AND ($5 IS NULL OR ($5 = 'Undecided' AND i.decision IS NULL)
                    OR ($5 = 'Decided' AND i.decision IS NOT NULL) OR i.decision = $5)
               AND ($6 IS NULL OR i.work_app_id = $6) AND ($7 IS NULL OR i.user_id = $7)
               AND ($9 IS NULL OR i.id = $9)
             ORDER BY i.id LIMIT $8"
        ))
        .bind(org_id)
        .bind(review_id)
        .bind(page.after.map(id).unwrap_or_default())
        .bind(filter.reviewer_id)
        .bind(decision)
        .bind(filter.work_app_id)
        .bind(filter.user_id)
        .bind(i64::from(page.limit) + 1)
        .bind(filter.item_id)
        .fetch_all(&mut *db)
        .await?;
        let mut details = Vec::with_capacity(rows.len());
        for row in &rows {
            let item = decode_item(row)?;
            details.push(ReviewItemDetail {
                user: Person {
                    id: item.user_id,
                    name: full_name(row, "u_first_name", "u_last_name")?,
                    email: row.try_get("u_email")?,
                },
                item,
                app_name: row.try_get("app_name")?,
                level_name: row.try_get("level_name")?,
                decision_level_name: row.try_get("decision_level_name")?,
                reviewers: Vec::new(),
            });
        }
        let mut page = Page::from_overfetch(details, page.limit, |d| d.item.id);
        if !page.items.is_empty() {
            let ids_1 = db.dialect().in_json_texts("$1");
            let rows = query(format!(
                "SELECT v.item_id, v.user_id, u.first_name, u.last_name, u.email
                 FROM access_review_reviewers v JOIN users u ON u.id = v.user_id
                 WHERE v.item_id IN {ids_1} ORDER BY v.item_id, v.position"
            ))
            .bind(id_array(page.items.iter().map(|d| d.item.id)))
            .fetch_all(db)
            .await?;
            let mut by_item: HashMap<Uuid, Vec<Person>> = HashMap::new();
            for row in &rows {
                by_item.entry(get_id(row, "item_id")?).or_default().push(Person {
                    id: get_id(row, "user_id")?,
                    name: full_name(row, "first_name", "last_name")?,
                    email: row.try_get("email")?,
                });
            }
            for d in &mut page.items {
                d.reviewers = by_item.remove(&d.item.id).unwrap_or_default();
                d.item.reviewer_ids = d.reviewers.iter().map(|p| p.id).collect();
            }
        }
        Ok(page)
    }

    async fn get_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        item_ids: &[Uuid],
    ) -> Result<Vec<AccessReviewItem>, StoreError> {
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        let rows = query(format!(
            "SELECT {ITEM_COLUMNS} FROM access_review_items i
             WHERE i.org_id = $1 AND i.review_id = $2 AND i.id IN {ids_3} ORDER BY i.id"
        ))
        .bind(org_id)
        .bind(review_id)
        .bind(id_array(item_ids.iter().copied()))
        .fetch_all(&mut *db)
        .await?;
        let mut items = rows.iter().map(decode_item).collect::<Result<Vec<_>, _>>()?;
        attach_reviewer_ids(db, &mut items).await?;
        Ok(items)
    }

    async fn review_item_subjects(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Vec<ItemSubject>, StoreError> {
        let rows = query(
            "SELECT i.id, i.user_id, i.work_app_id, u.manager_id, m.status_id AS manager_status
             FROM access_review_items i
             JOIN users u ON u.id = i.user_id
             LEFT JOIN users m ON m.id = u.manager_id
             WHERE i.org_id = $1 AND i.review_id = $2 ORDER BY i.id",
        )
        .bind(org_id)
        .bind(review_id)
        .fetch_all(self.db())
        .await?;
        rows.iter()
            .map(|row| {
                let manager = get_opt_id(row, "manager_id")?;
                let status: Option<i32> = row.try_get("manager_status")?;
                Ok(ItemSubject {
                    item_id: get_id(row, "id")?,
                    user_id: get_id(row, "user_id")?,
                    work_app_id: get_id(row, "work_app_id")?,
                    manager: manager.map(|m| (m, status == Some(UserStatus::Active.id()))),
                })
            })
            .collect()
    }

    async fn review_app_owners(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
        let rows = query(
            "SELECT o.work_app_id, o.user_id FROM work_app_owners o
             JOIN users u ON u.id = o.user_id
             WHERE o.org_id = $1 AND u.status_id = $3
               AND o.work_app_id IN (SELECT DISTINCT work_app_id FROM access_review_items
                                     WHERE org_id = $1 AND review_id = $2)
             ORDER BY o.work_app_id, o.position",
        )
        .bind(org_id)
        .bind(review_id)
        .bind(UserStatus::Active.id())
        .fetch_all(self.db())
        .await?;
        let mut owners: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for row in &rows {
            owners.entry(get_id(row, "work_app_id")?).or_default().push(get_id(row, "user_id")?);
        }
        Ok(owners)
    }

    async fn review_close_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        revoke_undecided: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<CloseItem>, StoreError> {
        let rows = query(
            "SELECT i.id, i.user_id, i.work_app_id, i.decision, i.decision_level_id,
                    w.provisioning_mode, a.user_id AS live_user,
                    a.permission_level_id AS live_level,
                    (SELECT q.id FROM requests q
                     WHERE q.work_app_id = i.work_app_id
                       AND COALESCE(q.target_user_id, '') = i.user_id
                       AND q.status IN ('Pending', 'Approved')) AS open_request_id
             FROM access_review_items i
             JOIN work_apps w ON w.id = i.work_app_id
             LEFT JOIN accesses a ON a.work_app_id = i.work_app_id AND a.user_id = i.user_id
                                 AND (a.expires_at IS NULL OR a.expires_at > $4)
             WHERE i.org_id = $1 AND i.review_id = $2
               AND (i.decision IN ('Revoke', 'ChangeLevel') OR (i.decision IS NULL AND $3))
             ORDER BY i.id",
        )
        .bind(org_id)
        .bind(review_id)
        .bind(revoke_undecided)
        .bind(now)
        .fetch_all(self.db())
        .await?;
        rows.iter()
            .map(|row| {
                let decision: Option<String> = row.try_get("decision")?;
                let mode: String = row.try_get("provisioning_mode")?;
                let live = get_opt_id(row, "live_user")?;
                Ok(CloseItem {
                    item_id: get_id(row, "id")?,
                    user_id: get_id(row, "user_id")?,
                    work_app_id: get_id(row, "work_app_id")?,
                    decision: decision.map(|d| stored_name("decision", &d)).transpose()?,
                    decision_level_id: get_opt_id(row, "decision_level_id")?,
                    facts: CloseFacts {
                        mode: stored_name::<ProvisioningMode>("provisioning_mode", &mode)?,
                        live_level: match live {
                            Some(_) => Some(get_opt_id(row, "live_level")?),
                            None => None,
                        },
                        open_request: get_opt_id(row, "open_request_id")?,
                    },
                })
            })
            .collect()
    }

    async fn pending_reviewers(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
    ) -> Result<Vec<(Uuid, i64)>, StoreError> {
        let rows = query(
            "SELECT v.user_id, COUNT(*) AS n FROM access_review_reviewers v
             JOIN access_review_items i ON i.id = v.item_id
             WHERE v.org_id = $1 AND v.review_id = $2 AND i.decision IS NULL
             GROUP BY v.user_id ORDER BY v.user_id",
        )
        .bind(org_id)
        .bind(review_id)
        .fetch_all(self.db())
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "user_id")?, row.try_get("n")?))).collect()
    }

    async fn due_access_reviews(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AccessReview>, StoreError> {
        query(format!(
            "SELECT {COLUMNS} FROM access_reviews r
             WHERE r.status = 'Open' AND r.due_date <= $1
               AND (r.close_at_due_date = TRUE OR r.overdue_notified_at IS NULL)
             ORDER BY r.due_date, r.id LIMIT $2"
        ))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.db())
        .await?
        .iter()
        .map(decode_access_review)
        .collect()
    }

    async fn undecided_items_reviewed_by(
        &mut self,
        org_id: Uuid,
        reviewer: UserId,
        about: Option<UserId>,
        review_type: Option<AccessReviewType>,
    ) -> Result<Vec<AccessReviewItem>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {ITEM_COLUMNS} FROM access_review_reviewers x
             JOIN access_review_items i ON i.id = x.item_id
             JOIN access_reviews r ON r.id = i.review_id
             WHERE x.user_id = $2 AND x.org_id = $1 AND r.status = 'Open'
               AND i.decision IS NULL
               AND ($3 IS NULL OR i.user_id = $3) AND ($4 IS NULL OR r.review_type = $4)
             ORDER BY i.id"
        ))
        .bind(org_id)
        .bind(reviewer)
        .bind(about)
        .bind(review_type.map(AccessReviewType::name))
        .fetch_all(&mut *db)
        .await?;
        let mut items = rows.iter().map(decode_item).collect::<Result<Vec<_>, _>>()?;
        attach_reviewer_ids(db, &mut items).await?;
        Ok(items)
    }
}

/// Changing access reviews.
#[async_trait]
pub trait AccessReviewWrites: Send {
    /// [`StoreError::Conflict`] when the name is taken in the organization.
    async fn insert_access_review(&mut self, review: &AccessReview) -> Result<(), StoreError>;
    /// Saves name, description, due date, status, settings and the closing facts.
    /// [`StoreError::Conflict`] when the new name is taken.
    async fn update_access_review(&mut self, review: &AccessReview) -> Result<(), StoreError>;
    /// Snapshots the live accesses at `now` of the campaign's apps (every Managed app when it
    /// names none) into items, in one `INSERT … SELECT`; returns how many. Item ids share the
    /// campaign id's first 80 bits and number the items in (app, user) order.
    async fn snapshot_review_items(
        &mut self,
        review: &AccessReview,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Writes every item's reviewers (and the reason of those without any) from one array.
    async fn assign_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        assignments: &[(Uuid, Assignment)],
    ) -> Result<(), StoreError>;
    /// Replaces the reviewers of the given items (of any campaign) and the reason of those left
    /// without any, from one array.
    async fn reassign_review_items(
        &mut self,
        org_id: Uuid,
        assignments: &[(Uuid, Assignment)],
    ) -> Result<(), StoreError>;
    /// Records decisions (replacing earlier ones) while the campaign is Open; returns how many
    /// items changed (0 once it has closed).
    async fn decide_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        decisions: &[CheckedDecision],
        decided_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Records what closing carried out for the given items, and `Kept` for every other item.
    async fn record_review_outcomes(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        outcomes: &[CarriedOut],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> AccessReviewWrites for S {
    async fn insert_access_review(&mut self, review: &AccessReview) -> Result<(), StoreError> {
        save_access_review(self.db(), review).await
    }

    async fn update_access_review(&mut self, review: &AccessReview) -> Result<(), StoreError> {
        save_access_review(self.db(), review).await
    }

    async fn snapshot_review_items(
        &mut self,
        review: &AccessReview,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let apps = if review.work_app_ids.is_empty() {
            "w.status_id = $5".to_string()
        } else {
            format!("a.work_app_id IN {}", db.dialect().in_json_texts("$5"))
        };
        // The first 24 characters of the campaign id (80 bits: its time and randomness) and a
        // 12-digit item number (digits are hex digits, and fixed-width numbers sort in order).
        let prefix = &id(review.id)[..24];
        let insert = query(format!(
            "INSERT INTO access_review_items (id, org_id, review_id, user_id, work_app_id,
                 permission_level_id, source, granted_at, access_expires_at)
             SELECT $1 || substr('000000000000' || CAST(x.n AS TEXT), length(CAST(x.n AS TEXT)) + 1),
                    $2, $3, x.user_id, x.work_app_id, x.permission_level_id, x.source,
                    x.granted_at, x.expires_at
             FROM (SELECT a.user_id, a.work_app_id, a.permission_level_id, a.source, a.granted_at,
                          a.expires_at,
                          ROW_NUMBER() OVER (ORDER BY a.work_app_id, a.user_id) AS n
                   FROM accesses a JOIN work_apps w ON w.id = a.work_app_id
                   WHERE a.org_id = $2 AND (a.expires_at IS NULL OR a.expires_at > $4)
                     AND {apps}) AS x"
        ))
        .bind(prefix)
        .bind(review.org_id)
        .bind(review.id)
        .bind(now);
        let insert = if review.work_app_ids.is_empty() {
            insert.bind(WorkAppStatus::Managed.id())
        } else {
            insert.bind(id_array(review.work_app_ids.iter().copied()))
        };
        Ok(insert.execute(db).await?.rows_affected())
    }

    async fn assign_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        assignments: &[(Uuid, Assignment)],
    ) -> Result<(), StoreError> {
        let db = self.db();
        let mut rows: Vec<(String, String, usize)> = Vec::new();
        let mut unassigned: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
        for (item, assignment) in assignments {
            for (i, user) in assignment.assignees.iter().enumerate() {
                rows.push((id(*item), id(*user), i));
            }
            if let Some(reason) = &assignment.unassigned_reason {
                unassigned.entry(reason.as_str()).or_default().push(*item);
            }
        }
        if !rows.is_empty() {
            query(format!(
                "INSERT INTO access_review_reviewers (item_id, user_id, review_id, org_id, position)
                 SELECT value ->> 0, value ->> 1, $1, $2, CAST(value ->> 2 AS INTEGER) FROM {}",
                db.dialect().json_rows("$3")
            ))
            .bind(review_id)
            .bind(org_id)
            .bind(to_json(&rows)?)
            .execute(&mut *db)
            .await?;
        }
        for (reason, items) in unassigned {
            query(format!(
                "UPDATE access_review_items SET unassigned_reason = $1
                 WHERE org_id = $2 AND review_id = $3 AND id IN {}",
                db.dialect().in_json_texts("$4")
            ))
            .bind(reason)
            .bind(org_id)
            .bind(review_id)
            .bind(id_array(items))
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }

    async fn reassign_review_items(
        &mut self,
        org_id: Uuid,
        assignments: &[(Uuid, Assignment)],
    ) -> Result<(), StoreError> {
        if assignments.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let items: Vec<(String, &Option<String>)> =
            assignments.iter().map(|(item, a)| (id(*item), &a.unassigned_reason)).collect();
        let ids_2 = db.dialect().in_json_texts("$2");
        query(format!(
            "DELETE FROM access_review_reviewers WHERE org_id = $1 AND item_id IN {ids_2}"
        ))
        .bind(org_id)
        .bind(id_array(assignments.iter().map(|(item, _)| *item)))
        .execute(&mut *db)
        .await?;
        query(format!(
            "UPDATE access_review_items SET unassigned_reason = j.value ->> 1
             FROM {} AS j
             WHERE access_review_items.id = (j.value ->> 0) AND access_review_items.org_id = $1",
            db.dialect().json_rows("$2")
        ))
        .bind(org_id)
        .bind(to_json(&items)?)
        .execute(&mut *db)
        .await?;
        let rows: Vec<(String, String, usize)> = assignments
            .iter()
            .flat_map(|(item, a)| {
                a.assignees.iter().enumerate().map(|(i, user)| (id(*item), id(*user), i))
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        query(format!(
            "INSERT INTO access_review_reviewers (item_id, user_id, review_id, org_id, position)
             SELECT j.value ->> 0, j.value ->> 1, i.review_id, i.org_id, CAST(j.value ->> 2 AS INTEGER)
             FROM {} AS j JOIN access_review_items i ON i.id = (j.value ->> 0)
             WHERE i.org_id = $1",
            db.dialect().json_rows("$2")
        ))
        .bind(org_id)
        .bind(to_json(&rows)?)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn decide_review_items(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        decisions: &[CheckedDecision],
        decided_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if decisions.is_empty() {
            return Ok(0);
        }
        let db = self.db();
        let rows: Vec<(String, &str, Option<String>, &Option<String>)> = decisions
            .iter()
            .map(|d| (id(d.item_id), d.decision.name(), opt_id(d.permission_level_id), &d.comment))
            .collect();
        let done = query(format!(
            "UPDATE access_review_items SET decision = j.value ->> 1,
                    decision_level_id = j.value ->> 2, comment = j.value ->> 3,
                    decided_by_user_id = $1, decided_at = $2
             FROM {} AS j
             WHERE access_review_items.id = (j.value ->> 0)
               AND access_review_items.org_id = $4 AND {SAME_REVIEW} = $5
               AND EXISTS (SELECT 1 FROM access_reviews r
                           WHERE r.id = $5 AND r.org_id = $4 AND r.status = 'Open')",
            db.dialect().json_rows("$3")
        ))
        .bind(decided_by)
        .bind(at)
        .bind(to_json(&rows)?)
        .bind(org_id)
        .bind(review_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected())
    }

    async fn record_review_outcomes(
        &mut self,
        org_id: Uuid,
        review_id: AccessReviewId,
        outcomes: &[CarriedOut],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        if !outcomes.is_empty() {
            let rows: Vec<(String, &str, &Option<String>, Option<String>)> = outcomes
                .iter()
                .map(|o| (id(o.item_id), o.outcome.name(), &o.note, opt_id(o.request_id)))
                .collect();
            query(format!(
                "UPDATE access_review_items SET outcome = j.value ->> 1,
                        outcome_note = j.value ->> 2, outcome_request_id = j.value ->> 3,
                        carried_out_at = $1
                 FROM {} AS j
                 WHERE access_review_items.id = (j.value ->> 0)
                   AND access_review_items.org_id = $3 AND {SAME_REVIEW} = $4",
                db.dialect().json_rows("$2")
            ))
            .bind(at)
            .bind(to_json(&rows)?)
            .bind(org_id)
            .bind(review_id)
            .execute(&mut *db)
            .await?;
        }
        query(
            "UPDATE access_review_items SET outcome = $1, carried_out_at = $2
             WHERE org_id = $3 AND review_id = $4 AND outcome IS NULL",
        )
        .bind(ItemOutcome::Kept.name())
        .bind(at)
        .bind(org_id)
        .bind(review_id)
        .execute(db)
        .await?;
        Ok(())
    }
}

fn full_name(row: &Row, first: &str, last: &str) -> Result<String, StoreError> {
    let first: String = row.try_get(first)?;
    let last: String = row.try_get(last)?;
    Ok(portcullis_domain::user::join_name(&first, &last))
}

pub(crate) fn decode_access_review(row: &Row) -> Result<AccessReview, StoreError> {
    let review_type: String = row.try_get("review_type")?;
    let status: String = row.try_get("status")?;
    let undecided: String = row.try_get("undecided_items")?;
    let apps: String = row.try_get("work_app_ids_json")?;
    Ok(AccessReview {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        review_type: stored_name("review_type", &review_type)?,
        due_date: get_ts(row, "due_date")?,
        work_app_ids: serde_json::from_str(&apps)
            .map_err(|e| StoreError::Corrupt(format!("work_app_ids_json: {e}")))?,
        created_by_user_id: get_id(row, "created_by_user_id")?,
        status: stored_name("status", &status)?,
        undecided_items: stored_name("undecided_items", &undecided)?,
        close_at_due_date: row.try_get("close_at_due_date")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
        closed_at: get_opt_ts(row, "closed_at")?,
        closed_by_user_id: get_opt_id(row, "closed_by_user_id")?,
        overdue_notified_at: get_opt_ts(row, "overdue_notified_at")?,
    })
}

pub(crate) fn decode_item(row: &Row) -> Result<AccessReviewItem, StoreError> {
    let source: String = row.try_get("source")?;
    let decision: Option<String> = row.try_get("decision")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    Ok(AccessReviewItem {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        review_id: get_id(row, "review_id")?,
        user_id: get_id(row, "user_id")?,
        work_app_id: get_id(row, "work_app_id")?,
        permission_level_id: get_opt_id(row, "permission_level_id")?,
        source: stored_name::<AccessSource>("source", &source)?,
        granted_at: get_ts(row, "granted_at")?,
        access_expires_at: get_opt_ts(row, "access_expires_at")?,
        reviewer_ids: Vec::new(),
        unassigned_reason: row.try_get("unassigned_reason")?,
        decision: decision.map(|d| stored_name("decision", &d)).transpose()?,
        decision_level_id: get_opt_id(row, "decision_level_id")?,
        comment: row.try_get("comment")?,
        decided_by_user_id: get_opt_id(row, "decided_by_user_id")?,
        decided_at: get_opt_ts(row, "decided_at")?,
        outcome: outcome.map(|o| stored_name("outcome", &o)).transpose()?,
        outcome_note: row.try_get("outcome_note")?,
        outcome_request_id: get_opt_id(row, "outcome_request_id")?,
        carried_out_at: get_opt_ts(row, "carried_out_at")?,
    })
}
