//! `/organization/...`: the organization and its users, Flashback style.
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{OrgRole, Organization, User, UserStatus};
use portcullis_service::{NewUser, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, FlashbackError};
use crate::extract::{double_option, ApiJson, ApiPath, BearerCaller};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organization, update_organization))
        .routes(routes!(list_org_users, create_org_user))
        .routes(routes!(get_org_user, update_org_user, deactivate_org_user))
        .routes(routes!(activate_org_user))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        Self { id: o.id, name: o.name, created_at: o.created_at, updated_at: o.updated_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub success: bool,
    pub organization: OrganizationView,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateOrganizationBody {
    pub name: String,
}

/// A user as the Flashback API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgUserView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub email: String,
    /// USER, BILLING, WORKSPACES, ADMINISTRATOR or OWNER.
    pub role: &'static str,
    /// ACTIVE (validated), INVITED or DEACTIVATED.
    pub status: &'static str,
    pub manager_id: Option<Uuid>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for OrgUserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            org_id: u.org_id,
            name: u.name,
            email: u.email,
            role: u.role.flashback_name(),
            status: u.status.flashback_name(),
            manager_id: u.manager_id,
            last_login: u.last_login,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUsersResponse {
    pub success: bool,
    pub users: Vec<OrgUserView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUserResponse {
    pub success: bool,
    pub user: OrgUserView,
}

/// Body of `POST /organization/users`: the user is created INVITED until activated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrgUserBody {
    pub email: String,
    pub name: String,
    /// Defaults to USER.
    pub role: Option<String>,
    pub manager_id: Option<Uuid>,
}

/// Body of `PUT /organization/users/{userId}`; absent fields are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrgUserBody {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
}

/// Flashback ids are opaque strings: one that is not a uuid simply names nothing.
fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} not found")))
}

fn parse_role(role: Option<&str>) -> Result<Option<OrgRole>, ApiError> {
    role.map(OrgRole::parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The caller's organization.
#[utoipa::path(
    get,
    path = "/organization/{orgId}",
    tag = "Organization",
    params(("orgId" = String, Path, description = "The organization's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrganizationResponse),
        (status = 400, description = "Account not validated", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn get_organization(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(org_id): ApiPath<String>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let org_id = parse_id(&org_id, "Organization")?;
    let org = state.service.get_organization(&ctx, org_id).await?;
    Ok(Json(OrganizationResponse { success: true, organization: org.into() }))
}

/// Renames the organization (ADMINISTRATOR or OWNER).
#[utoipa::path(
    put,
    path = "/organization/{orgId}",
    tag = "Organization",
    params(("orgId" = String, Path, description = "The organization's id")),
    request_body = UpdateOrganizationBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrganizationResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn update_organization(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(org_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateOrganizationBody>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let org_id = parse_id(&org_id, "Organization")?;
    let org = state.service.update_organization(&ctx, org_id, &body.name).await?;
    Ok(Json(OrganizationResponse { success: true, organization: org.into() }))
}

/// All users of the caller's organization.
#[utoipa::path(
    get,
    path = "/organization/users",
    tag = "Organization",
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUsersResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
    )
)]
pub async fn list_org_users(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
) -> Result<Json<OrgUsersResponse>, ApiError> {
    let users = state.service.list_all_users(&ctx).await?;
    Ok(Json(OrgUsersResponse { success: true, users: users.into_iter().map(Into::into).collect() }))
}

/// Invites a user into the organization (WORKSPACES role or higher).
#[utoipa::path(
    post,
    path = "/organization/users",
    tag = "Organization",
    request_body = CreateOrgUserBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, description = "Manager not found", body = FlashbackError),
        (status = 409, description = "E-mail already used", body = FlashbackError),
    )
)]
pub async fn create_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiJson(body): ApiJson<CreateOrgUserBody>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    let new = NewUser {
        name: body.name,
        email: body.email,
        manager_id: body.manager_id,
        role: parse_role(body.role.as_deref())?,
        status: UserStatus::Invited,
    };
    let user = state.service.create_user(&ctx, new).await?;
    Ok(Json(OrgUserResponse { success: true, user: user.into() }))
}

/// One user of the caller's organization.
#[utoipa::path(
    get,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn get_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    let user_id = parse_id(&user_id, "User")?;
    let user = state.service.get_user(&ctx, user_id).await?;
    Ok(Json(OrgUserResponse { success: true, user: user.into() }))
}

/// Changes a user's name, e-mail, role or manager (WORKSPACES or higher, never above one's own role).
#[utoipa::path(
    put,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = UpdateOrgUserBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
        (status = 409, body = FlashbackError),
    )
)]
pub async fn update_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateOrgUserBody>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    let user_id = parse_id(&user_id, "User")?;
    let patch = UserPatch {
        name: body.name,
        email: body.email,
        manager_id: body.manager_id,
        role: parse_role(body.role.as_deref())?,
        status: None,
    };
    let user = state.service.update_user(&ctx, user_id, patch).await?;
    Ok(Json(OrgUserResponse { success: true, user: user.into() }))
}

/// Deactivates a user: their tokens stop working; their history stays.
#[utoipa::path(
    delete,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
        (status = 409, description = "Last active owner", body = FlashbackError),
    )
)]
pub async fn deactivate_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    set_status(state, ctx, &user_id, UserStatus::Deactivated).await
}

/// Activates (validates) an invited or deactivated user.
#[utoipa::path(
    post,
    path = "/organization/users/{userId}/activate",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn activate_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    set_status(state, ctx, &user_id, UserStatus::Active).await
}

async fn set_status(
    state: AppState,
    ctx: portcullis_service::Ctx,
    user_id: &str,
    status: UserStatus,
) -> Result<Json<OrgUserResponse>, ApiError> {
    let user_id = parse_id(user_id, "User")?;
    let patch = UserPatch { status: Some(status), ..UserPatch::default() };
    let user = state.service.update_user(&ctx, user_id, patch).await?;
    Ok(Json(OrgUserResponse { success: true, user: user.into() }))
}
