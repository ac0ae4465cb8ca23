//! Access reviews: Cakewalk's `POST /api/v1/AccessReviews`, and the extensions in its style to
//! follow a campaign, decide its items, close or cancel it and export the evidence.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::access_reviews::{Person, MAX_BULK_DECISIONS, MAX_REVIEW_APPS};
use portcullis_domain::{
    AccessReviewPatch, AccessReviewStatus, AccessReviewType, ItemDecision, NewAccessReview,
    ReviewDecision, ReviewItemDetail, UndecidedItems,
};
use portcullis_service::{AccessReviewDetails, DecisionFilter, ReviewItemFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{path_with_filters, CursorQuery, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{double_option, AnyCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_access_reviews, create_access_review))
        .routes(routes!(get_access_review, update_access_review))
        .routes(routes!(list_items))
        .routes(routes!(decide_item))
        .routes(routes!(decide_items))
        .routes(routes!(close_access_review))
        .routes(routes!(cancel_access_review))
        .routes(routes!(export_access_review))
}

const ACCESS_REVIEWS: &str = "/api/v1/AccessReviews";

fn review_path(id: Uuid) -> String {
    format!("{ACCESS_REVIEWS}/{id}")
}

fn bad(e: portcullis_domain::DomainError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// How far a campaign has come (for a reviewer who is not an administrator: their own items).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub items: i64,
    pub decided: i64,
    pub undecided: i64,
    pub keep: i64,
    pub revoke: i64,
    pub change_level: i64,
    /// Items nobody may review (every candidate is the item's own user).
    pub unassigned: i64,
    /// After closing: items per outcome (`Kept`, `Revoked`, `LevelChanged`, `RemovalRequested`,
    /// `LevelChangeRequested`, `AccessGone`, `Skipped`).
    #[schema(value_type = Object, additional_properties = true)]
    pub outcomes: std::collections::BTreeMap<&'static str, i64>,
}

/// An access review (certification campaign).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessReviewView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// `WorkAppOwner`, `Manager` or `CurrentUser`.
    pub access_review_type: &'static str,
    pub due_date: DateTime<Utc>,
    /// The apps as asked; empty: every Managed app when the campaign started.
    pub work_app_ids: Vec<Uuid>,
    pub created_by_user_id: Uuid,
    /// `Open`, `Overdue` (open, past the due date), `Closed` or `Cancelled`.
    pub status: &'static str,
    /// What closing does with undecided items: `Keep` (the default) or `Revoke`.
    pub undecided_items: &'static str,
    /// Close by itself once the due date has passed.
    pub close_at_due_date: bool,
    /// Overdue with items still undecided.
    pub reminders_due: bool,
    pub progress: ProgressView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_user_id: Option<Uuid>,
}

impl From<AccessReviewDetails> for AccessReviewView {
    fn from(d: AccessReviewDetails) -> Self {
        let p = &d.progress;
        let progress = ProgressView {
            items: p.items,
            decided: p.decided,
            undecided: p.undecided(),
            keep: p.keep,
            revoke: p.revoke,
            change_level: p.change_level,
            unassigned: p.unassigned,
            outcomes: p.outcomes.iter().map(|(o, n)| (o.name(), *n)).collect(),
        };
        let r = d.review;
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            access_review_type: r.review_type.name(),
            due_date: r.due_date,
            work_app_ids: r.work_app_ids,
            created_by_user_id: r.created_by_user_id,
            status: d.status.name(),
            undecided_items: r.undecided_items.name(),
            close_at_due_date: r.close_at_due_date,
            reminders_due: d.reminders_due,
            progress,
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            closed_by_user_id: r.closed_by_user_id,
        }
    }
}

/// A person named by an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

impl From<Person> for PersonView {
    fn from(p: Person) -> Self {
        Self { id: p.id, name: p.name, email: p.email }
    }
}

/// A work app or a permission level, by id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: Uuid,
    pub name: String,
}

/// One access under review: the access as it was when the campaign started, its reviewers, the
/// decision, and what closing carried out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessReviewItemView {
    pub id: Uuid,
    pub access_review_id: Uuid,
    /// Whose access it is.
    pub user: PersonView,
    pub work_app: NamedRef,
    pub permission_level: Option<NamedRef>,
    /// `Direct`, `Group` or `Request`.
    pub source: &'static str,
    pub granted_at: DateTime<Utc>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub reviewers: Vec<PersonView>,
    /// Why the item has no reviewer.
    pub unassigned_reason: Option<String>,
    /// `Keep`, `Revoke`, `ChangeLevel`, or null while undecided.
    pub decision: Option<&'static str>,
    /// The level a `ChangeLevel` decision moves the access to.
    pub new_permission_level: Option<NamedRef>,
    pub comment: Option<String>,
    /// Null when an API credential decided for the organization.
    pub decided_by_user_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// After closing: `Kept`, `Revoked`, `LevelChanged`, `RemovalRequested`,
    /// `LevelChangeRequested`, `AccessGone` or `Skipped`.
    pub outcome: Option<&'static str>,
    pub outcome_note: Option<String>,
    /// The Remove-Access / Change-Permission request opened for a Manual app.
    pub request_id: Option<Uuid>,
    pub carried_out_at: Option<DateTime<Utc>>,
}

impl From<ReviewItemDetail> for AccessReviewItemView {
    fn from(d: ReviewItemDetail) -> Self {
        let i = d.item;
        Self {
            id: i.id,
            access_review_id: i.review_id,
            user: d.user.into(),
            work_app: NamedRef { id: i.work_app_id, name: d.app_name },
            permission_level: i
                .permission_level_id
                .map(|id| NamedRef { id, name: d.level_name.unwrap_or_default() }),
            source: i.source.name(),
            granted_at: i.granted_at,
            access_expires_at: i.access_expires_at,
            reviewers: d.reviewers.into_iter().map(PersonView::from).collect(),
            unassigned_reason: i.unassigned_reason,
            decision: i.decision.map(ReviewDecision::name),
            new_permission_level: i
                .decision_level_id
                .map(|id| NamedRef { id, name: d.decision_level_name.unwrap_or_default() }),
            comment: i.comment,
            decided_by_user_id: i.decided_by_user_id,
            decided_at: i.decided_at,
            outcome: i.outcome.map(|o| o.name()),
            outcome_note: i.outcome_note,
            request_id: i.outcome_request_id,
            carried_out_at: i.carried_out_at,
        }
    }
}

/// Cakewalk's `CreateAccessReviewRequestV1` (no other properties).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccessReviewBody {
    /// 1–200 characters; unique per organization.
    #[schema(min_length = 1)]
    pub name: String,
    pub description: Option<String>,
    /// `WorkAppOwner` (the app's owners review), `Manager` (the user's manager) or `CurrentUser`
    /// (the person named by `createdByUserId`).
    pub access_review_type: String,
    /// In the future.
    pub due_date: DateTime<Utc>,
    /// The apps to review; if empty, every Managed work app.
    #[schema(value_type = Vec<Uuid>, max_items = 1000)]
    pub work_app_ids: BoundedVec<Uuid, MAX_REVIEW_APPS>,
    /// The user that appears as creator (an active user; with a bearer token, oneself).
    pub created_by_user_id: Uuid,
}

/// Changes to an open campaign (extension); absent properties are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccessReviewBody {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// In the future.
    pub due_date: Option<DateTime<Utc>>,
    /// `Keep` or `Revoke`: what closing does with undecided items.
    pub undecided_items: Option<String>,
    /// Close by itself once the due date has passed.
    pub close_at_due_date: Option<bool>,
}

/// A decision on one item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemDecisionBody {
    /// `Keep`, `Revoke` or `ChangeLevel`.
    pub decision: String,
    /// With `ChangeLevel`: the new level (another level of the item's app).
    pub permission_level_id: Option<Uuid>,
    /// Up to 2,000 characters.
    pub comment: Option<String>,
    /// With an API credential: the reviewer deciding (an active reviewer of the item).
    pub user_id: Option<Uuid>,
}

/// One entry of a bulk decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkDecisionEntry {
    pub item_id: Uuid,
    /// `Keep`, `Revoke` or `ChangeLevel`.
    pub decision: String,
    pub permission_level_id: Option<Uuid>,
    pub comment: Option<String>,
}

/// Decisions on many items, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkItemDecisionBody {
    /// 1 to 1,000 items, each once.
    #[schema(value_type = Vec<BulkDecisionEntry>, max_items = 1000)]
    pub decisions: BoundedVec<BulkDecisionEntry, MAX_BULK_DECISIONS>,
    /// With an API credential: the reviewer deciding.
    pub user_id: Option<Uuid>,
}

/// Query of `GET /AccessReviews`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessReviewQuery {
    /// Opaque cursor from a previous page's `links.next`; omit for the first page.
    pub cursor: Option<String>,
    /// Open, Overdue, Closed or Cancelled (any case).
    pub status: Option<String>,
}

/// Query of `GET /AccessReviews/{id}/Items`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemQuery {
    /// Opaque cursor from a previous page's `links.next`; omit for the first page.
    pub cursor: Option<String>,
    /// Only items this user reviews.
    pub reviewer_id: Option<Uuid>,
    /// Keep, Revoke, ChangeLevel, Undecided or Decided (any of the three; any case).
    pub decision: Option<String>,
    pub work_app_id: Option<Uuid>,
    /// Only items about this user's access.
    pub user_id: Option<Uuid>,
}

/// Query of `GET /AccessReviews/{id}/Export`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (the default) or `json`.
    pub format: Option<String>,
}

/// The JSON export: the campaign and every item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessReviewExport {
    pub access_review: AccessReviewView,
    pub exported_at: DateTime<Utc>,
    pub items: Vec<AccessReviewItemView>,
}

/// Starts an access review: snapshots the live accesses of the apps (every Managed app when
/// `workAppIds` is empty) and assigns each its reviewers. Administrators and read-write
/// credentials.
#[utoipa::path(
    post,
    path = "/api/v1/AccessReviews",
    tag = "AccessReviews",
    request_body = CreateAccessReviewBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = Record<AccessReviewView>),
        (status = 400, description = "Bad name, type or due date (not in the future), an unknown property, or createdByUserId not active", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key, not an administrator, or createdByUserId not oneself with a bearer token", body = ProblemDetails),
        (status = 404, description = "Unknown createdByUserId or work app", body = ProblemDetails),
        (status = 409, description = "The name is taken, or a work app is archived", body = ProblemDetails),
    )
)]
pub async fn create_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<CreateAccessReviewBody>,
) -> Result<(StatusCode, Json<Record<AccessReviewView>>), ApiError> {
    let new = NewAccessReview {
        name: body.name,
        description: body.description,
        review_type: AccessReviewType::parse(&body.access_review_type).map_err(bad)?,
        due_date: body.due_date,
        work_app_ids: body.work_app_ids.into_inner(),
        created_by_user_id: body.created_by_user_id,
    };
    let details = state.service.create_access_review(&ctx, new).await?;
    let path = review_path(details.review.id);
    Ok((StatusCode::CREATED, Json(Record::new(details.into(), path))))
}

/// Lists access reviews (extension), oldest first; a reviewer who is not an administrator sees
/// the campaigns in which they review items.
#[utoipa::path(
    get,
    path = "/api/v1/AccessReviews",
    tag = "AccessReviews",
    params(AccessReviewQuery),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = List<AccessReviewView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_access_reviews(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(query): ApiQuery<AccessReviewQuery>,
) -> Result<Json<List<AccessReviewView>>, ApiError> {
    let status = query.status.as_deref().map(AccessReviewStatus::parse).transpose().map_err(bad)?;
    let path =
        path_with_filters(ACCESS_REVIEWS, &[("status", status.map(|s| s.name().to_string()))]);
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_access_reviews(&ctx, status, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, AccessReviewView::from)))
}

/// One access review with its progress (extension).
#[utoipa::path(
    get,
    path = "/api/v1/AccessReviews/{accessReviewId}",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<AccessReviewView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Record<AccessReviewView>>, ApiError> {
    let details = state.service.get_access_review(&ctx, id).await?;
    Ok(Json(Record::new(details.into(), review_path(id))))
}

/// Changes an open access review (extension): name, description, due date, and the settings
/// `undecidedItems` and `closeAtDueDate`.
#[utoipa::path(
    patch,
    path = "/api/v1/AccessReviews/{accessReviewId}",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id")),
    request_body = UpdateAccessReviewBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<AccessReviewView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The campaign has ended, or the name is taken", body = ProblemDetails),
    )
)]
pub async fn update_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateAccessReviewBody>,
) -> Result<Json<Record<AccessReviewView>>, ApiError> {
    let patch = AccessReviewPatch {
        name: body.name,
        description: body.description,
        due_date: body.due_date,
        undecided_items: body
            .undecided_items
            .as_deref()
            .map(UndecidedItems::parse)
            .transpose()
            .map_err(bad)?,
        close_at_due_date: body.close_at_due_date,
    };
    let details = state.service.update_access_review(&ctx, id, patch).await?;
    Ok(Json(Record::new(details.into(), review_path(id))))
}

/// The items of an access review (extension), by id; a reviewer who is not an administrator
/// sees only the items they review.
#[utoipa::path(
    get,
    path = "/api/v1/AccessReviews/{accessReviewId}/Items",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id"), ItemQuery),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = List<AccessReviewItemView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_items(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ItemQuery>,
) -> Result<Json<List<AccessReviewItemView>>, ApiError> {
    let decision = match query.decision.as_deref() {
        None => None,
        Some(d) if d.trim().eq_ignore_ascii_case("Undecided") => Some(DecisionFilter::Undecided),
        Some(d) if d.trim().eq_ignore_ascii_case("Decided") => Some(DecisionFilter::Decided),
        Some(d) => Some(DecisionFilter::Is(ReviewDecision::parse(d).map_err(|_| {
            ApiError::bad_request(format!(
                "unknown decision '{d}': expected Keep, Revoke, ChangeLevel, Undecided or Decided"
            ))
        })?)),
    };
    let filter = ReviewItemFilter {
        reviewer_id: query.reviewer_id,
        decision,
        work_app_id: query.work_app_id,
        user_id: query.user_id,
        item_id: None,
    };
    let decision_name = decision.map(|d| match d {
        DecisionFilter::Undecided => "Undecided".to_string(),
        DecisionFilter::Decided => "Decided".to_string(),
        DecisionFilter::Is(d) => d.name().to_string(),
    });
    let path = path_with_filters(
        &format!("{}/Items", review_path(id)),
        &[
            ("reviewerId", query.reviewer_id.map(|u| u.to_string())),
            ("decision", decision_name),
            ("workAppId", query.work_app_id.map(|a| a.to_string())),
            ("userId", query.user_id.map(|u| u.to_string())),
        ],
    );
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_access_review_items(&ctx, id, filter, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, AccessReviewItemView::from)))
}

fn item_decision(
    decision: &str,
    permission_level_id: Option<Uuid>,
    comment: Option<String>,
) -> Result<ItemDecision, ApiError> {
    Ok(ItemDecision {
        decision: ReviewDecision::parse(decision).map_err(bad)?,
        permission_level_id,
        comment,
    })
}

/// Decides one item (extension): `Keep`, `Revoke` or `ChangeLevel` (+ `permissionLevelId`). A
/// decision replaces an earlier one until the campaign closes.
#[utoipa::path(
    post,
    path = "/api/v1/AccessReviews/{accessReviewId}/Items/{itemId}/Decision",
    tag = "AccessReviews",
    params(
        ("accessReviewId" = Uuid, Path, description = "The access review's id"),
        ("itemId" = Uuid, Path, description = "The item's id"),
    ),
    request_body = ItemDecisionBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<AccessReviewItemView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key; the item is about the caller's own access (separation of duties); userId not an active reviewer of the item", body = ProblemDetails),
        (status = 404, description = "Unknown campaign or item, or an item the caller does not review", body = ProblemDetails),
        (status = 409, description = "The campaign is closed or cancelled", body = ProblemDetails),
    )
)]
pub async fn decide_item(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath((id, item_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ItemDecisionBody>,
) -> Result<Json<Record<AccessReviewItemView>>, ApiError> {
    let decision = item_decision(&body.decision, body.permission_level_id, body.comment)?;
    let detail =
        state.service.decide_access_review_item(&ctx, id, item_id, decision, body.user_id).await?;
    let path = format!("{}/Items/{item_id}", review_path(id));
    Ok(Json(Record::new(detail.into(), path)))
}

/// Decides many items at once (extension; e.g. "keep all"): all or none.
#[utoipa::path(
    post,
    path = "/api/v1/AccessReviews/{accessReviewId}/Items/Decisions",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id")),
    request_body = BulkItemDecisionBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, description = "Every decision recorded; the campaign with its progress", body = Record<AccessReviewView>),
        (status = 400, description = "No decisions, an item given twice, or a bad decision (the detail names the entry)", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The campaign is closed or cancelled", body = ProblemDetails),
    )
)]
pub async fn decide_items(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BulkItemDecisionBody>,
) -> Result<Json<Record<AccessReviewView>>, ApiError> {
    if body.decisions.is_empty() {
        return Err(ApiError::bad_request("decisions: give 1 to 1000 decisions"));
    }
    let mut decisions = Vec::with_capacity(body.decisions.len());
    for (i, entry) in body.decisions.into_iter().enumerate() {
        let decision = item_decision(&entry.decision, entry.permission_level_id, entry.comment)
            .map_err(|e| ApiError::bad_request(format!("decisions[{i}]: {}", e.message)))?;
        decisions.push((entry.item_id, decision));
    }
    let details =
        state.service.decide_access_review_items(&ctx, id, decisions, body.user_id).await?;
    Ok(Json(Record::new(details.into(), review_path(id))))
}

/// Closes an open access review and carries its decisions out (extension).
#[utoipa::path(
    post,
    path = "/api/v1/AccessReviews/{accessReviewId}/Close",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<AccessReviewView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "Already closed or cancelled", body = ProblemDetails),
    )
)]
pub async fn close_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Record<AccessReviewView>>, ApiError> {
    let details = state.service.close_access_review(&ctx, id).await?;
    Ok(Json(Record::new(details.into(), review_path(id))))
}

/// Cancels an open access review (extension): nothing is carried out.
#[utoipa::path(
    post,
    path = "/api/v1/AccessReviews/{accessReviewId}/Cancel",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<AccessReviewView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "Already closed or cancelled", body = ProblemDetails),
    )
)]
pub async fn cancel_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Record<AccessReviewView>>, ApiError> {
    let details = state.service.cancel_access_review(&ctx, id).await?;
    Ok(Json(Record::new(details.into(), review_path(id))))
}

/// The evidence (extension): every item with its decision, reviewers, decider, time, comment
/// and what was carried out, as CSV (default) or JSON.
#[utoipa::path(
    get,
    path = "/api/v1/AccessReviews/{accessReviewId}/Export",
    tag = "AccessReviews",
    params(("accessReviewId" = Uuid, Path, description = "The access review's id"), ExportQuery),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, description = "format=csv: one CSV row per item; format=json: the campaign and its items",
            content((String = "text/csv"), (AccessReviewExport = "application/json"))),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "A reviewer who is not an administrator", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn export_access_review(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref().map(str::trim) {
        None => true,
        Some(f) if f.eq_ignore_ascii_case("csv") => true,
        Some(f) if f.eq_ignore_ascii_case("json") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format: unknown export format '{other}': expected csv or json"
            )))
        }
    };
    let (details, items) = state.service.export_access_review(&ctx, id).await?;
    let exported_at = state.service.clock().now();
    let disposition = |ext: &str| format!("attachment; filename=\"access-review-{id}.{ext}\"");
    if csv {
        let body = csv_export(&items);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition("csv")),
            ],
            body,
        )
            .into_response());
    }
    let export = json_export(details, items, exported_at);
    Ok(([(header::CONTENT_DISPOSITION, disposition("json"))], Json(export)).into_response())
}

/// The JSON export: the campaign and every item, as the API shows them.
pub fn json_export(
    details: AccessReviewDetails,
    items: Vec<ReviewItemDetail>,
    exported_at: DateTime<Utc>,
) -> AccessReviewExport {
    AccessReviewExport {
        access_review: details.into(),
        exported_at,
        items: items.into_iter().map(AccessReviewItemView::from).collect(),
    }
}

/// The CSV columns of the export, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "itemId",
    "userId",
    "userName",
    "userEmail",
    "workAppId",
    "workAppName",
    "permissionLevelId",
    "permissionLevelName",
    "source",
    "grantedAt",
    "reviewerIds",
    "reviewerEmails",
    "decision",
    "newPermissionLevelId",
    "newPermissionLevelName",
    "comment",
    "decidedByUserId",
    "decidedAt",
    "outcome",
    "outcomeNote",
    "requestId",
    "carriedOutAt",
];

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; a value a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
/// prefixed with `'`.
fn csv_field(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The CSV export: a header and one row per item (RFC 4180, CRLF line ends).
pub fn csv_export(items: &[ReviewItemDetail]) -> String {
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
    };
    let id = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for d in items {
        let i = &d.item;
        let reviewers =
            |f: fn(&Person) -> String| d.reviewers.iter().map(f).collect::<Vec<_>>().join(" ");
        let row = [
            i.id.to_string(),
            i.user_id.to_string(),
            d.user.name.clone(),
            d.user.email.clone(),
            i.work_app_id.to_string(),
            d.app_name.clone(),
            id(i.permission_level_id),
            d.level_name.clone().unwrap_or_default(),
            i.source.name().to_string(),
            time(Some(i.granted_at)),
            reviewers(|p| p.id.to_string()),
            reviewers(|p| p.email.clone()),
            i.decision.map(|d| d.name().to_string()).unwrap_or_default(),
            id(i.decision_level_id),
            d.decision_level_name.clone().unwrap_or_default(),
            i.comment.clone().unwrap_or_default(),
            id(i.decided_by_user_id),
            time(i.decided_at),
            i.outcome.map(|o| o.name().to_string()).unwrap_or_default(),
            i.outcome_note.clone().unwrap_or_default(),
            id(i.outcome_request_id),
            time(i.carried_out_at),
        ];
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@sum"), "'@sum");
        assert_eq!(csv_field(""), "");
    }
}
