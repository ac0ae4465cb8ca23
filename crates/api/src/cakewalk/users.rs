//! `/api/v1/users`: the user directory (Cakewalk reads plus create/update extensions).
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::user::split_name;
use portcullis_domain::{OrgRole, User, UserStatus};
use portcullis_service::{NewUser, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{CursorQuery, List, Record};
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{double_option, ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

/// `UserDetailedViewModelV1`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role_id: i32,
    /// `User`, `Billing`, `Workspaces`, `Administrator` or `Owner`.
    pub role_name: &'static str,
    pub status_id: i32,
    /// `Active` (1), `Invited` (2) or `Deactivated` (3).
    pub status_name: &'static str,
    pub last_login: Option<DateTime<Utc>>,
    pub manager_id: Option<Uuid>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.full_name(),
            status_id: u.status().id(),
            status_name: u.status().cakewalk_name(),
            email: u.email,
            role_id: u.role.id(),
            role_name: u.role.cakewalk_name(),
            last_login: u.last_login,
            manager_id: u.manager_id,
        }
    }
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    pub name: String,
    pub email: String,
    pub manager_id: Option<Uuid>,
    /// Defaults to `User`.
    pub role_name: Option<String>,
    /// Defaults to `Active`.
    pub status_name: Option<String>,
}

/// Body of `PATCH /api/v1/users/{userId}`: only the fields present change; `managerId: null`
/// removes the manager.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserBody {
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
    pub role_name: Option<String>,
    pub status_name: Option<String>,
}

const USERS: &str = "/api/v1/users";

fn parse_role(name: Option<&str>) -> Result<Option<OrgRole>, ApiError> {
    name.map(OrgRole::parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}

fn parse_status(name: Option<&str>) -> Result<Option<UserStatus>, ApiError> {
    name.map(UserStatus::parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Lists the organization's users, 100 per page, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "Users",
    params(CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<UserView>),
        (status = 400, description = "Invalid cursor", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<UserView>>, ApiError> {
    let users = state.service.list_users(&ctx, query.page()?).await?;
    Ok(Json(List::from_page(users, USERS, &query, UserView::from)))
}

/// Detailed information about one user.
#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}",
    tag = "Users",
    params(("userId" = Uuid, Path, description = "The user's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<UserView>),
        (status = 400, description = "Malformed id", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_user(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<Json<Record<UserView>>, ApiError> {
    let user = state.service.get_user(&ctx, user_id).await?;
    Ok(Json(Record::new(user.into(), format!("{USERS}/{user_id}"))))
}

/// Creates a user (extension). New users are `Active` unless `statusName` says otherwise.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "Users",
    request_body = CreateUserBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<UserView>),
        (status = 400, description = "Invalid name, e-mail, role or status", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, description = "Manager not found", body = ProblemDetails),
        (status = 409, description = "E-mail already used in the organization", body = ProblemDetails),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> Result<(StatusCode, Json<Record<UserView>>), ApiError> {
    let (first_name, last_name) = split_name(&body.name);
    let new = NewUser {
        first_name,
        last_name,
        email: body.email,
        manager_id: body.manager_id,
        role: parse_role(body.role_name.as_deref())?,
        status: parse_status(body.status_name.as_deref())?.unwrap_or(UserStatus::Active),
    };
    let user = state.service.create_user(&ctx, new).await?;
    let link = format!("{USERS}/{}", user.id);
    Ok((StatusCode::CREATED, Json(Record::new(user.into(), link))))
}

/// Changes a user (extension): name, e-mail, manager, role or status.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{userId}",
    tag = "Users",
    params(("userId" = Uuid, Path, description = "The user's id")),
    request_body = UpdateUserBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<UserView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, description = "User or manager not found", body = ProblemDetails),
        (status = 409, description = "E-mail taken, manager cycle, or last owner", body = ProblemDetails),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<Record<UserView>>, ApiError> {
    let (first_name, last_name) = body.name.as_deref().map(split_name).unzip();
    let patch = UserPatch {
        first_name,
        last_name,
        email: body.email,
        manager_id: body.manager_id,
        role: parse_role(body.role_name.as_deref())?,
        status: parse_status(body.status_name.as_deref())?,
    };
    let user = state.service.update_user(&ctx, user_id, patch).await?;
    Ok(Json(Record::new(user.into(), format!("{USERS}/{user_id}"))))
}
