//! `/api/v1/Requests` and `/api/v1/Tasks`: requests through approval policies, and their tasks.
//! Both accept an API credential or a user's bearer token.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{
    Decision, Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus,
};
use portcullis_service::{NewRequest, RequestDetails, RequestFilter, TaskDetails, TaskFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::work_apps::UserSimplifiedView;
use super::{path_with_filters, CursorQuery, List, Record};
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
            decided_by_user_id: t.decided_by_user_id,
            decided_at: t.decided_at,
            comment: t.comment,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    pub id: Uuid,
    /// One of the five RequestType values.
    pub request_type: &'static str,
    /// `Pending`, `Approved`, `Declined`, `Completed`, `Cancelled` or `Failed`.
    pub status: &'static str,
    pub work_app_id: Uuid,
    pub target_user_id: Option<Uuid>,
    pub permission_level_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub justification: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// The policy and the version of it this request follows.
    pub policy_id: Uuid,
    pub policy_version: i32,
    pub cancelled_by_user_id: Option<Uuid>,
    /// The group whose membership caused the request, if any.
    pub source_group_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Review tasks in step order, then the action task.
    pub tasks: Vec<RequestTaskView>,
}

impl From<RequestDetails> for RequestView {
    fn from(d: RequestDetails) -> Self {
        let r = d.request;
        Self {
            id: r.id,
            request_type: r.request_type.name(),
            status: r.status.name(),
            work_app_id: r.work_app_id,
            target_user_id: r.target_user_id,
            permission_level_id: r.permission_level_id,
            created_by_user_id: r.created_by_user_id,
            justification: r.justification,
            expires_at: r.expires_at,
            policy_id: r.policy_id,
            policy_version: r.policy_version,
            cancelled_by_user_id: r.cancelled_by_user_id,
            source_group_id: r.source_group_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            tasks: d.tasks.into_iter().map(Into::into).collect(),
        }
    }
}

/// The `request` sub-object of `TaskDetailedViewModelV1`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskRequestView {
    pub id: Uuid,
    pub request_type: &'static str,
    pub request_status: &'static str,
    pub requested_by_user_id: Option<Uuid>,
    pub cancelled_by_user_id: Option<Uuid>,
    pub work_app_id: Uuid,
    pub permission_level_id: Option<Uuid>,
    pub target_user_id: Option<Uuid>,
    pub request_purpose: String,
    pub source_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Request> for TaskRequestView {
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
    pub request: TaskRequestView,
    pub snoozed_till: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Object>)]
    pub offboarding_metadata: Option<serde_json::Value>,
    pub assignee_ids: Vec<Uuid>,
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
            request: TaskRequestView::from(&d.request),
            snoozed_till: None,
            offboarding_metadata: None,
            assignee_ids: t.assignee_ids,
            step: t.step,
            comment: t.comment,
            decided_at: t.decided_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantAccessBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    /// Required when the app has permission levels.
    pub permission_level_id: Option<Uuid>,
    /// The requester (defaults to the bearer user, if any).
    pub created_by_user_id: Option<Uuid>,
    pub justification: Option<String>,
    /// The granted access expires at this time.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveAccessBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    pub created_by_user_id: Option<Uuid>,
    pub justification: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePermissionBody {
    pub work_app_id: Uuid,
    pub target_user_id: Uuid,
    pub permission_level_id: Uuid,
    pub created_by_user_id: Option<Uuid>,
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

/// Optional body of Approve / Decline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionBody {
    pub comment: Option<String>,
    /// With an API credential: the user on whose behalf the decision is made.
    pub user_id: Option<Uuid>,
}

/// Optional body of Cancel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelBody {
    /// With an API credential: the user on whose behalf the request is cancelled.
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct RequestQuery {
    pub cursor: Option<String>,
    /// Pending, Approved, Declined, Completed, Cancelled or Failed.
    pub status: Option<String>,
    pub target_user_id: Option<Uuid>,
    pub work_app_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TaskQuery {
    pub cursor: Option<String>,
    /// Open, Approved, Declined, Completed or Cancelled.
    pub status: Option<String>,
    pub assignee_user_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
}

async fn create(
    state: AppState,
    ctx: portcullis_service::Ctx,
    new: NewRequest,
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
    let details = state.service.create_request(&ctx, new).await?;
    let link = format!("{REQUESTS}/{}", details.request.id);
    Ok((StatusCode::CREATED, Json(Record::new(details.into(), link))))
}

/// Requests access to a work app for a user, through the resolved approval policy.
#[utoipa::path(
    post,
    path = "/api/v1/Requests/GrantAccess",
    tag = "Requests",
    request_body = GrantAccessBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = Record<RequestView>),
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
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
    let new = NewRequest {
        request_type: RequestType::GrantAccess,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: body.permission_level_id,
        created_by_user_id: body.created_by_user_id,
        justification: body.justification,
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
        (status = 201, body = Record<RequestView>),
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
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
    let new = NewRequest {
        request_type: RequestType::RemoveAccess,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: None,
        created_by_user_id: body.created_by_user_id,
        justification: body.justification,
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
        (status = 201, body = Record<RequestView>),
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
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
    let new = NewRequest {
        request_type: RequestType::ChangePermissionLevel,
        work_app_id: body.work_app_id,
        target_user_id: Some(body.target_user_id),
        permission_level_id: Some(body.permission_level_id),
        created_by_user_id: body.created_by_user_id,
        justification: body.justification,
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
        (status = 201, body = Record<RequestView>),
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
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
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
        (status = 201, body = Record<RequestView>),
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
) -> Result<(StatusCode, Json<Record<RequestView>>), ApiError> {
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
    let status = query
        .status
        .as_deref()
        .map(RequestStatus::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let filter = RequestFilter {
        status,
        target_user_id: query.target_user_id,
        work_app_id: query.work_app_id,
    };
    let path = path_with_filters(
        REQUESTS,
        &[
            ("status", status.map(|s| s.name().to_string())),
            ("targetUserId", query.target_user_id.map(|u| u.to_string())),
            ("workAppId", query.work_app_id.map(|a| a.to_string())),
        ],
    );
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_requests(&ctx, filter, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, RequestView::from)))
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
    let status = query
        .status
        .as_deref()
        .map(TaskStatus::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let filter = TaskFilter {
        status,
        assignee_user_id: query.assignee_user_id,
        request_id: query.request_id,
    };
    let path = path_with_filters(
        TASKS,
        &[
            ("status", status.map(|s| s.name().to_string())),
            ("assigneeUserId", query.assignee_user_id.map(|u| u.to_string())),
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
    let details = state.service.decide(&ctx, task_id, decision, body.comment, body.user_id).await?;
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
