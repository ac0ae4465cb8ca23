//! `/api/v1/Requests` and `/api/v1/Tasks`: requests through approval policies, and their tasks.
//! Both accept an API credential or a user's bearer token.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{
    validate, Decision, Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus,
};
use portcullis_service::{NewRequest, RequestDetails, RequestFilter, TaskDetails, TaskFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::policies::parse_request_type;
use super::work_apps::UserSimplifiedView;
use super::{path_with_filters, CursorQuery, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{AnyCaller, ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_grant_access))
        .routes(routes!(create_remove_access))
        .routes(routes!(create_change_permission))
        .routes(routes!(create_add_new_managed_work_app))
        .routes(routes!(create_archive_work_app))
        .routes(routes!(list_requests))
        .routes(routes!(get_request))
        .routes(routes!(cancel_request))
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
        .routes(routes!(approve_task))
        .routes(routes!(decline_task))
        .routes(routes!(reassign_task))
}

const REQUESTS: &str = "/api/v1/Requests";
const TASKS: &str = "/api/v1/Tasks";

/// A task as listed inside its request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestTaskView {
    pub id: Uuid,
    /// `Review` or `Action`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `Open`, `Approved`, `Declined`, `Completed` or `Cancelled`.
    pub status: &'static str,
    pub step: i32,
    pub assignee_ids: Vec<Uuid>,
    /// Why the task has nobody assigned ("No eligible approver: …"), until an operator assigns
    /// someone (`PUT /api/v1/Tasks/{taskId}/Assignees`).
    pub unassigned_reason: Option<String>,
    pub decided_by_user_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Task> for RequestTaskView {
    fn from(t: Task) -> Self {
        Self {
            id: t.id,
            kind: t.kind.name(),
            status: t.status.name(),
            step: t.step,
            assignee_ids: t.assignee_ids,
            unassigned_reason: t.unassigned_reason,
            decided_by_user_id: t.decided_by_user_id,
            decided_at: t.decided_at,
            comment: t.comment,
            created_at: t.created_at,
        }
    }
}

/// The published request shape: the `request` object of `TaskDetailedViewModelV1`, also the
/// start of every request this API returns.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestModelView {
    pub id: Uuid,
    /// One of the five RequestType values.
    pub request_type: &'static str,
    /// `Pending`, `Approved`, `Declined`, `Completed`, `Cancelled` or `Failed`.
    pub request_status: &'static str,
    pub requested_by_user_id: Option<Uuid>,
    pub cancelled_by_user_id: Option<Uuid>,
    pub work_app_id: Uuid,
    pub permission_level_id: Option<Uuid>,
    pub target_user_id: Option<Uuid>,
    /// Why the request was made (`grantAccessPurpose`, … or `justification` at creation).
    pub request_purpose: String,
    /// The group whose membership caused the request, if any.
    pub source_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Request> for RequestModelView {
    fn from(r: &Request) -> Self {
        Self {
            id: r.id,
            request_type: r.request_type.name(),
            request_status: r.status.name(),
            requested_by_user_id: r.created_by_user_id,
            cancelled_by_user_id: r.cancelled_by_user_id,
            work_app_id: r.work_app_id,
            permission_level_id: r.permission_level_id,
            target_user_id: r.target_user_id,
            request_purpose: r.justification.clone(),
            source_id: r.source_group_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A request: the published request shape, plus our names for some of its fields (`status`,
/// `createdByUserId`, `justification`, `sourceGroupId`, kept for existing clients) and the
/// extensions (expiry, policy, tasks).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    #[serde(flatten)]
    pub model: RequestModelView,
    /// The same as `requestStatus`.
    pub status: &'static str,
    /// The same as `requestedByUserId`.
    pub created_by_user_id: Option<Uuid>,
    /// The same as `requestPurpose`.
    pub justification: String,
    /// The same as `sourceId`.
    pub source_group_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The policy and the version of it this request follows.
    pub policy_id: Uuid,
    pub policy_version: i32,
    /// Why the request cannot move on by itself: its open task has no eligible approver
    /// (separation of duties), until an operator assigns someone. Null otherwise.
    pub blocked_reason: Option<String>,
    /// Review tasks in step order, then the action task.
    pub tasks: Vec<RequestTaskView>,
}

impl From<RequestDetails> for RequestView {
    fn from(d: RequestDetails) -> Self {
        let r = d.request;
        Self {
            model: RequestModelView::from(&r),
            status: r.status.name(),
            created_by_user_id: r.created_by_user_id,
            justification: r.justification,
            source_group_id: r.source_group_id,
            expires_at: r.expires_at,
            policy_id: r.policy_id,
            policy_version: r.policy_version,
            blocked_reason: d
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Open)
                .find_map(|t| t.unassigned_reason.clone()),
            tasks: d.tasks.into_iter().map(Into::into).collect(),
        }
    }
}

/// A created request (201): the request in `data`, and its id as `requestId` both at the top
/// level and in `data`, where Cakewalk clients read it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRequest {
    pub request_id: Uuid,
    pub data: CreatedRequestView,
    pub links: super::Links,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRequestView {
    pub request_id: Uuid,
    #[serde(flatten)]
    pub request: RequestView,
}

/// `TaskDetailedViewModelV1`, plus the extensions `assigneeIds`, `step`, `comment`, `decidedAt`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub id: Uuid,
    /// `Review` or `Action`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub created_at: DateTime<Utc>,
    /// `Open`, `Approved`, `Declined`, `Completed` or `Cancelled`.
    pub status: &'static str,
    pub last_updated_at: DateTime<Utc>,
    /// An action task carried out automatically.
    pub is_autoprovisioning: bool,
    pub is_action_step: Option<bool>,
    /// The first assignee.
    pub assigned_user: Option<UserSimplifiedView>,
    pub claimers: Vec<UserSimplifiedView>,
    pub executed_by_user: Option<UserSimplifiedView>,
    pub request: RequestModelView,
    pub snoozed_till: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Object>)]
    pub offboarding_metadata: Option<serde_json::Value>,
    pub assignee_ids: Vec<Uuid>,
    /// Why the task has nobody assigned ("No eligible approver: …"); null once it has.
    pub unassigned_reason: Option<String>,
    pub step: i32,
    pub comment: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<TaskDetails> for TaskView {
    fn from(d: TaskDetails) -> Self {
        let t = d.task;
        let automatic = d.app_mode == portcullis_domain::ProvisioningMode::Automatic;
        Self {
            id: t.id,
            kind: t.kind.name(),
            created_at: t.created_at,
            status: t.status.name(),
            last_updated_at: t.updated_at,
            is_autoprovisioning: t.kind == TaskKind::Action && automatic,
            is_action_step: Some(t.kind == TaskKind::Action),
            assigned_user: d.assignees.first().map(UserSimplifiedView::from),
            claimers: Vec::new(),
            executed_by_user: d.decided_by.as_ref().map(UserSimplifiedView::from),
            request: RequestModelView::from(&d.request),
            snoozed_till: None,
            offboarding_metadata: None,
            assignee_ids: t.assignee_ids,
            unassigned_reason: t.unassigned_reason,
            step: t.step,
            comment: t.comment,
            decided_at: t.decided_at,
        }
    }
}

/// `POST /Requests/GrantAccess`: Cakewalk's body (`createdByUserId`, `targetUserId`,
/// `workAppId`, `grantAccessPurpose`, `permissionLevelId`) and our `justification`/`expiresAt`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantAccessBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    /// Required when the app has permission levels.
    pub permission_level_id: Option<Uuid>,
    /// The requester (defaults to the bearer user, if any).
    pub created_by_user_id: Option<Uuid>,
    /// Why access is needed: 1 to 1024 characters.
    #[schema(min_length = 1, max_length = 1024)]
    pub grant_access_purpose: Option<String>,
    /// The older name of the purpose (up to 2,000 characters, may be empty). With
    /// `grantAccessPurpose` too, both must say the same.
    pub justification: Option<String>,
    /// The granted access expires at this time.
    pub expires_at: Option<DateTime<Utc>>,
}

/// `POST /Requests/RemoveAccess`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveAccessBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    pub created_by_user_id: Option<Uuid>,
    /// Why access should be removed: 1 to 1024 characters.
    #[schema(min_length = 1, max_length = 1024)]
    pub remove_access_purpose: Option<String>,
    /// The older name of the purpose (see `GrantAccessBody.justification`).
    pub justification: Option<String>,
}

/// `POST /Requests/ChangePermission`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePermissionBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    pub permission_level_id: Uuid,
    pub created_by_user_id: Option<Uuid>,
    /// Why the level should change: 1 to 1024 characters.
    #[schema(min_length = 1, max_length = 1024)]
    pub change_permission_purpose: Option<String>,
    /// The older name of the purpose (see `GrantAccessBody.justification`).
    pub justification: Option<String>,
}

/// Body of the app-level requests (add an Unmanaged app as Managed; archive an app).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkAppRequestBody {
    pub work_app_id: Uuid,
    pub created_by_user_id: Option<Uuid>,
    pub justification: Option<String>,
}

/// The purpose of a new request, from Cakewalk's field (`grantAccessPurpose`, …: 1 to 1024
/// characters) or our older `justification` (today's rule: optional, up to 2,000 characters).
/// Both may be given only if they say the same (after trimming); otherwise 400.
fn request_purpose(
    field: &str,
    purpose: Option<String>,
    justification: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(purpose) = purpose else { return Ok(justification) };
    let purpose =
        validate::purpose(field, &purpose).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if justification.is_some_and(|j| j.trim() != purpose) {
        return Err(ApiError::bad_request(format!(
            "{field} and justification are two names for the same text; give one of them"
        )));
    }
    Ok(Some(purpose))
}

/// Optional body of Approve / Decline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionBody {
    pub comment: Option<String>,
    /// The user on whose behalf the decision is made. With an API credential: an active assignee
    /// of the task whom separation of duties lets decide it (403 otherwise), recorded as the
    /// decider (the audit log keeps the credential and this user). With a bearer token: only
    /// yourself.
    pub user_id: Option<Uuid>,
    /// Another name for `userId` (the name Cakewalk's other write bodies use); with both, they
    /// must be the same user.
    pub triggered_by_user_id: Option<Uuid>,
}

/// Body of `PUT /Tasks/{taskId}/Assignees`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssigneesBody {
    /// 1 to 100 active users of the organization whom separation of duties lets decide the
    /// task (not the requester, not the target user, not the approver of an earlier step).
    #[schema(value_type = Vec<Uuid>, max_items = 100)]
    pub user_ids: BoundedVec<Uuid, 100>,
}

/// Optional body of Cancel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelBody {
    /// With an API credential: the user on whose behalf the request is cancelled.
    pub user_id: Option<Uuid>,
}

/// Query of `GET /Requests`. Cakewalk documents filters by status, type and last-updated time
/// without naming them; these are ASP.NET-style camelCase names.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestQuery {
    /// Opaque cursor from a previous page's `links.next`; omit for the first page.
    pub cursor: Option<String>,
    /// Pending, Approved, Declined, Completed, Cancelled or Failed (any case).
    pub status: Option<String>,
    /// GrantAccessRequest, RemoveAccessRequest, ChangePermissionLevelRequest,
    /// AddNewManagedWorkAppRequest or ArchiveWorkAppRequest.
    pub request_type: Option<String>,
    /// Only requests last updated strictly after this time (RFC 3339, e.g.
    /// `2025-06-20T21:20:47.191Z`).
    pub last_updated_after: Option<DateTime<Utc>>,
    pub target_user_id: Option<Uuid>,
    pub work_app_id: Option<Uuid>,
}

/// Query of `GET /Tasks`: Cakewalk's `GET /Tasks?userId={userId}` (a user's tasks, optionally
/// by status) and our further filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskQuery {
    /// Opaque cursor from a previous page's `links.next`; omit for the first page.
    pub cursor: Option<String>,
    /// Only tasks assigned to this user.
    pub user_id: Option<Uuid>,
    /// Open, Approved, Declined, Completed or Cancelled (any case).
    pub status: Option<String>,
    /// Another name for `userId`; with both, they must be the same user.
    pub assignee_user_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
}

/// One filter given under two names (`userId` and `assigneeUserId`, …): either, or both alike.
fn one_of(
    (name, value): (&str, Option<Uuid>),
    (alias, alias_value): (&str, Option<Uuid>),
) -> Result<Option<Uuid>, ApiError> {
    match (value, alias_value) {
        (Some(a), Some(b)) if a != b => Err(ApiError::bad_request(format!(
            "{name} and {alias} name the same user; give one of them (or the same id in both)"
        ))),
        (value, alias_value) => Ok(value.or(alias_value)),
    }
}

type Created = (StatusCode, Json<CreatedRequest>);

async fn create(
    state: AppState,
    ctx: portcullis_service::Ctx,
    new: NewRequest,
) -> Result<Created, ApiError> {
    let details = state.service.create_request(&ctx, new).await?;
    let request_id = details.request.id;
    let Record { data, links } = Record::new(details.into(), format!("{REQUESTS}/{request_id}"));
    let data = CreatedRequestView { request_id, request: data };
    Ok((StatusCode::CREATED, Json(CreatedRequest { request_id, data, links })))
}

/// Requests access to a work app for a user, through the resolved approval policy.
#[utoipa::path(
    post,
    path = "/api/v1/Requests/GrantAccess",
    tag = "Requests",
    request_body = GrantAccessBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = CreatedRequest),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown work app, user or level", body = ProblemDetails),
        (status = 409, description = "The user already has access, an open request exists, or the app is archived", body = ProblemDetails),
    )
)]
pub async fn create_grant_access(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<GrantAccessBody>,
) -> Result<Created, ApiError> {
    let new = NewRequest {
        request_type: RequestType::GrantAccess,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: body.permission_level_id,
        created_by_user_id: body.created_by_user_id,
        justification: request_purpose(
            "grantAccessPurpose",
            body.grant_access_purpose,
            body.justification,
        )?,
        expires_at: body.expires_at,
    };
    create(state, ctx, new).await
}

/// Requests the removal of a user's access.
#[utoipa::path(
    post,
    path = "/api/v1/Requests/RemoveAccess",
    tag = "Requests",
    request_body = RemoveAccessBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = CreatedRequest),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "No such access, or an open request exists", body = ProblemDetails),
    )
)]
pub async fn create_remove_access(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<RemoveAccessBody>,
) -> Result<Created, ApiError> {
    let new = NewRequest {
        request_type: RequestType::RemoveAccess,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: None,
        created_by_user_id: body.created_by_user_id,
        justification: request_purpose(
            "removeAccessPurpose",
            body.remove_access_purpose,
            body.justification,
        )?,
        expires_at: None,
    };
    create(state, ctx, new).await
}

/// Requests a change of a user's permission level.
#[utoipa::path(
    post,
    path = "/api/v1/Requests/ChangePermission",
    tag = "Requests",
    request_body = ChangePermissionBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = CreatedRequest),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "No access to change, same level, or an open request exists", body = ProblemDetails),
    )
)]
pub async fn create_change_permission(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<ChangePermissionBody>,
) -> Result<Created, ApiError> {
    let new = NewRequest {
        request_type: RequestType::ChangePermissionLevel,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: Some(body.permission_level_id),
        created_by_user_id: body.created_by_user_id,
        justification: request_purpose(
            "changePermissionPurpose",
            body.change_permission_purpose,
            body.justification,
        )?,
        expires_at: None,
    };
    create(state, ctx, new).await
}

/// Requests that an Unmanaged work app becomes Managed (extension).
#[utoipa::path(
    post,
    path = "/api/v1/Requests/AddNewManagedWorkApp",
    tag = "Requests",
    request_body = WorkAppRequestBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = CreatedRequest),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The app is not Unmanaged, or an open request exists", body = ProblemDetails),
    )
)]
pub async fn create_add_new_managed_work_app(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<WorkAppRequestBody>,
) -> Result<Created, ApiError> {
    create(state, ctx, app_request(RequestType::AddNewManagedWorkApp, body)).await
}

/// Requests that a work app is archived (extension).
#[utoipa::path(
    post,
    path = "/api/v1/Requests/ArchiveWorkApp",
    tag = "Requests",
    request_body = WorkAppRequestBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = CreatedRequest),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "Already archived, or an open request exists", body = ProblemDetails),
    )
)]
pub async fn create_archive_work_app(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<WorkAppRequestBody>,
) -> Result<Created, ApiError> {
    create(state, ctx, app_request(RequestType::ArchiveWorkApp, body)).await
}

fn app_request(request_type: RequestType, body: WorkAppRequestBody) -> NewRequest {
    NewRequest {
        request_type,
        work_app_id: body.work_app_id,
        target_user_id: None,
        permission_level_id: None,
        created_by_user_id: body.created_by_user_id,
        justification: body.justification,
        expires_at: None,
    }
}

/// Lists requests, newest last; a user with a bearer token sees only requests about themselves
/// unless they are an administrator.
#[utoipa::path(
    get,
    path = "/api/v1/Requests",
    tag = "Requests",
    params(RequestQuery),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = List<RequestView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_requests(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(query): ApiQuery<RequestQuery>,
) -> Result<Json<List<RequestView>>, ApiError> {
    let status = query.status.as_deref().map(RequestStatus::parse).transpose().map_err(invalid)?;
    let request_type = query.request_type.as_deref().map(parse_request_type).transpose()?;
    let filter = RequestFilter {
        status,
        request_type,
        target_user_id: query.target_user_id,
        work_app_id: query.work_app_id,
        updated_after: query.last_updated_after,
    };
    let path = path_with_filters(
        REQUESTS,
        &[
            ("status", status.map(|s| s.name().to_string())),
            ("requestType", request_type.map(|t| t.name().to_string())),
            ("lastUpdatedAfter", query.last_updated_after.map(timestamp)),
            ("targetUserId", query.target_user_id.map(|u| u.to_string())),
            ("workAppId", query.work_app_id.map(|a| a.to_string())),
        ],
    );
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_requests(&ctx, filter, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, RequestView::from)))
}

fn invalid(e: portcullis_domain::DomainError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// A timestamp as links show it (RFC 3339, milliseconds, `Z`: nothing to escape in a URL).
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One request with its tasks.
#[utoipa::path(
    get,
    path = "/api/v1/Requests/{requestId}",
    tag = "Requests",
    params(("requestId" = Uuid, Path, description = "The request's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<RequestView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_request(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(request_id): ApiPath<Uuid>,
) -> Result<Json<Record<RequestView>>, ApiError> {
    let details = state.service.get_request(&ctx, request_id).await?;
    Ok(Json(Record::new(details.into(), format!("{REQUESTS}/{request_id}"))))
}

/// Cancels an open (Pending or Approved) request and its open tasks.
#[utoipa::path(
    post,
    path = "/api/v1/Requests/{requestId}/Cancel",
    tag = "Requests",
    params(("requestId" = Uuid, Path, description = "The request's id")),
    request_body(content = Option<CancelBody>, description = "Optional"),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<RequestView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The request has already ended", body = ProblemDetails),
    )
)]
pub async fn cancel_request(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(request_id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<Record<RequestView>>, ApiError> {
    let details = state.service.cancel(&ctx, request_id, body.user_id).await?;
    Ok(Json(Record::new(details.into(), format!("{REQUESTS}/{request_id}"))))
}

/// Lists tasks; a user with a bearer token sees only their own unless they are an administrator.
#[utoipa::path(
    get,
    path = "/api/v1/Tasks",
    tag = "Tasks",
    params(TaskQuery),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = List<TaskView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<List<TaskView>>, ApiError> {
    let status = query.status.as_deref().map(TaskStatus::parse).transpose().map_err(invalid)?;
    let user_id = one_of(("userId", query.user_id), ("assigneeUserId", query.assignee_user_id))?;
    let filter = TaskFilter { status, assignee_user_id: user_id, request_id: query.request_id };
    let path = path_with_filters(
        TASKS,
        &[
            ("userId", user_id.map(|u| u.to_string())),
            ("status", status.map(|s| s.name().to_string())),
            ("requestId", query.request_id.map(|r| r.to_string())),
        ],
    );
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_tasks(&ctx, filter, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, TaskView::from)))
}

/// Detailed information on one task.
#[utoipa::path(
    get,
    path = "/api/v1/Tasks/{taskId}",
    tag = "Tasks",
    params(("taskId" = Uuid, Path, description = "The task's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<TaskView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_task(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(task_id): ApiPath<Uuid>,
) -> Result<Json<Record<TaskView>>, ApiError> {
    let details = state.service.get_task(&ctx, task_id).await?;
    Ok(Json(Record::new(details.into(), format!("{TASKS}/{task_id}"))))
}

async fn decide(
    state: AppState,
    ctx: portcullis_service::Ctx,
    task_id: Uuid,
    decision: Decision,
    body: DecisionBody,
) -> Result<Json<Record<TaskView>>, ApiError> {
    let on_behalf_of =
        one_of(("userId", body.user_id), ("triggeredByUserId", body.triggered_by_user_id))?;
    let details = state.service.decide(&ctx, task_id, decision, body.comment, on_behalf_of).await?;
    Ok(Json(Record::new(details.into(), format!("{TASKS}/{task_id}"))))
}

/// Approves (completes) a task. Approving the last review step approves the request; approving
/// an action task records the change and completes the request.
#[utoipa::path(
    post,
    path = "/api/v1/Tasks/{taskId}/Approve",
    tag = "Tasks",
    params(("taskId" = Uuid, Path, description = "The task's id")),
    request_body(content = Option<DecisionBody>, description = "Optional"),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<TaskView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, or a user who is neither assignee nor administrator", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The task is not Open", body = ProblemDetails),
    )
)]
pub async fn approve_task(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(task_id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json<Record<TaskView>>, ApiError> {
    decide(state, ctx, task_id, Decision::Approve, body).await
}

/// Declines a task. Declining a review declines the request and cancels its other open tasks;
/// declining an action task fails the request.
#[utoipa::path(
    post,
    path = "/api/v1/Tasks/{taskId}/Decline",
    tag = "Tasks",
    params(("taskId" = Uuid, Path, description = "The task's id")),
    request_body(content = Option<DecisionBody>, description = "Optional"),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<TaskView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The task is not Open", body = ProblemDetails),
    )
)]
pub async fn decline_task(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(task_id): ApiPath<Uuid>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json<Record<TaskView>>, ApiError> {
    decide(state, ctx, task_id, Decision::Decline, body).await
}

/// Gives an open task new assignees (extension): how an operator resolves a request whose task
/// opened with "No eligible approver", or hands work to someone else. A read-write credential or
/// an ADMINISTRATOR/OWNER who is neither the requester nor the target user of the request.
#[utoipa::path(
    put,
    path = "/api/v1/Tasks/{taskId}/Assignees",
    tag = "Tasks",
    params(("taskId" = Uuid, Path, description = "The task's id")),
    request_body = AssigneesBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<TaskView>),
        (status = 400, description = "No or too many users, a user who is not active, or one separation of duties keeps from the task", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, not an administrator, or the requester/target of the request", body = ProblemDetails),
        (status = 404, description = "Unknown task or user", body = ProblemDetails),
        (status = 409, description = "The task is not Open", body = ProblemDetails),
    )
)]
pub async fn reassign_task(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(task_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AssigneesBody>,
) -> Result<Json<Record<TaskView>>, ApiError> {
    let details = state.service.reassign_task(&ctx, task_id, &body.user_ids).await?;
    Ok(Json(Record::new(details.into(), format!("{TASKS}/{task_id}"))))
}
