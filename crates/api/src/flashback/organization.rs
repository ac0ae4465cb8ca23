//! `/organization/...`: the organization and its users, Flashback style.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{OrgRole, Organization, OrganizationPatch, User, UserStatus};
use portcullis_service::{NewUser, UserPatch};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{parse_id, parse_org_role, Message};
use crate::error::{ApiError, FlashbackError};
use crate::extract::{double_option, ApiJson, ApiPath, BearerCaller};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organization, update_organization))
        .routes(routes!(list_org_users, create_org_user))
        .routes(routes!(get_org_user, update_org_user, delete_org_user))
        .routes(routes!(activate_org_user))
        .routes(routes!(resend_invitation))
}

/// The Organization object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
    pub domain: String,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub zipcode: Option<String>,
    pub phone: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub repos_disabled: bool,
    pub website: Option<String>,
    /// Snake case, as the Flashback API spells it.
    #[serde(rename = "is_business")]
    pub is_business: bool,
    pub mfa_enforced: bool,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id,
            name: o.name,
            domain: o.domain,
            address1: o.address1,
            address2: o.address2,
            city: o.city,
            zipcode: o.zipcode,
            phone: o.phone,
            state: o.state,
            country: o.country,
            deleted_at: o.deleted_at,
            repos_disabled: o.repos_disabled,
            website: o.website,
            is_business: o.is_business,
            mfa_enforced: o.mfa_enforced,
        }
    }
}

/// `{success, data: Organization}`, with a message after an update.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub success: bool,
    pub data: OrganizationView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// Any subset of the organization's profile; fields not listed here are not changeable and are
/// ignored (a body with none of these answers 400 "No valid fields to update").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrganizationBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address1: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address2: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub zipcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(rename = "is_business")]
    pub is_business: Option<bool>,
    pub mfa_enforced: Option<bool>,
}

impl From<UpdateOrganizationBody> for OrganizationPatch {
    fn from(b: UpdateOrganizationBody) -> Self {
        Self {
            name: b.name,
            address1: b.address1,
            address2: b.address2,
            city: b.city,
            zipcode: b.zipcode,
            phone: b.phone,
            state: b.state,
            country: b.country,
            website: b.website,
            is_business: b.is_business,
            mfa_enforced: b.mfa_enforced,
        }
    }
}

/// The OrgUser object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgUserView {
    pub id: Uuid,
    pub email: String,
    /// First name.
    pub name: String,
    pub last_name: String,
    pub org_id: Uuid,
    /// The person's e-mail is validated (they signed in once, or an administrator confirmed it).
    pub validated: bool,
    /// Set when the user was deleted (soft delete).
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub role: OrgRoleView,
}

/// A role as Flashback shows it: `orgRole`, `orgRoleDescription`, `orgRoles`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgRoleView {
    /// 0 USER, 1 BILLING, 2 WORKSPACES, 254 ADMINISTRATORS, 255 OWNER.
    pub org_role: u8,
    pub org_role_description: &'static str,
    /// Every role this role includes (itself and those below it).
    pub org_roles: Vec<u8>,
}

impl From<OrgRole> for OrgRoleView {
    fn from(role: OrgRole) -> Self {
        Self {
            org_role: role.flashback_number(),
            org_role_description: role.flashback_name(),
            org_roles: role.included_roles().into_iter().map(OrgRole::flashback_number).collect(),
        }
    }
}

impl From<User> for OrgUserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.first_name,
            last_name: u.last_name,
            org_id: u.org_id,
            validated: u.validated,
            deleted_at: u.deleted_at,
            role: u.role.into(),
        }
    }
}

/// `{success, data: OrgUser[], total}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUsersResponse {
    pub success: bool,
    pub data: Vec<OrgUserView>,
    pub total: usize,
}

/// `{success, data: OrgUser, message}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgUserResponse {
    pub success: bool,
    pub data: OrgUserView,
    pub message: &'static str,
}

/// Body of `POST /organization/users`. The user starts not validated: they validate their
/// account by signing in for the first time. Portcullis has no passwords: `password`,
/// `sendInvite`, `provider` and `authMethod` are accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrgUserBody {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Numeric org role; defaults to 0 (USER).
    pub org_role: Option<i64>,
    /// Ignored: Portcullis keeps no passwords.
    #[schema(value_type = Option<String>)]
    #[allow(dead_code, reason = "accepted so existing clients work; never used")]
    pub password: Option<IgnoredAny>,
    /// Ignored: the `user.invited` event is always recorded.
    #[schema(value_type = Option<bool>)]
    #[allow(dead_code, reason = "accepted so existing clients work; never used")]
    pub send_invite: Option<IgnoredAny>,
    /// Ignored.
    #[schema(value_type = Option<String>)]
    #[allow(dead_code, reason = "accepted so existing clients work; never used")]
    pub provider: Option<IgnoredAny>,
    /// Ignored (LOCAL, GOOGLE, GITHUB, MICROSOFT).
    #[schema(value_type = Option<String>)]
    #[allow(dead_code, reason = "accepted so existing clients work; never used")]
    pub auth_method: Option<IgnoredAny>,
}

/// Body of `PUT /organization/users/{userId}`; absent fields are left alone. `email` is an
/// extension.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrgUserBody {
    /// First name.
    pub name: Option<String>,
    pub last_name: Option<String>,
    /// Numeric org role.
    pub org_role: Option<i64>,
    pub email: Option<String>,
}

const NOT_FOUND: &str = "User not found";

/// The organization's errors carry `data: null`.
fn org_error(err: impl Into<ApiError>) -> ApiError {
    err.into().with_flashback_keys(json!({ "data": null }))
}

/// The caller's organization (any member). Another organization's id answers 404, not 403.
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
        (status = 404, description = "Organization not found", body = FlashbackError),
    )
)]
pub async fn get_organization(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(org_id): ApiPath<String>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let org_id = parse_id(&org_id, "Organization not found").map_err(org_error)?;
    let org = state.service.get_organization(&ctx, org_id).await.map_err(org_error)?;
    Ok(Json(OrganizationResponse { success: true, data: org.into(), message: None }))
}

/// Changes any subset of the organization's profile (ADMINISTRATORS or OWNER).
#[utoipa::path(
    put,
    path = "/organization/{orgId}",
    tag = "Organization",
    params(("orgId" = String, Path, description = "The organization's id")),
    request_body = UpdateOrganizationBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrganizationResponse),
        (status = 400, description = "No valid fields to update; invalid value", body = FlashbackError),
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
    let org_id = parse_id(&org_id, "Organization not found").map_err(org_error)?;
    let org = state.service.update_organization(&ctx, org_id, &body.into()).await.map_err(|e| {
        org_error(ApiError::from(e).reword(
            StatusCode::FORBIDDEN,
            "Insufficient permissions: only OWNER and ADMINISTRATOR roles can modify organization",
        ))
    })?;
    Ok(Json(OrganizationResponse {
        success: true,
        data: org.into(),
        message: Some("Organization updated successfully"),
    }))
}

/// Every user of the organization (WORKSPACES or higher).
#[utoipa::path(
    get,
    path = "/organization/users",
    tag = "Organization",
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUsersResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, description = "Below WORKSPACES: `data: []`, `total: 0`", body = FlashbackError),
    )
)]
pub async fn list_org_users(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
) -> Result<Json<OrgUsersResponse>, ApiError> {
    let users = state.service.list_all_users(&ctx).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to view users")
            .with_flashback_keys(json!({ "data": [], "total": 0 }))
    })?;
    let data: Vec<OrgUserView> = users.into_iter().map(Into::into).collect();
    Ok(Json(OrgUsersResponse { success: true, total: data.len(), data }))
}

/// Creates a user (WORKSPACES or higher, never above one's own role); 201.
#[utoipa::path(
    post,
    path = "/organization/users",
    tag = "Organization",
    request_body = CreateOrgUserBody,
    security(("Bearer" = [])),
    responses(
        (status = 201, body = OrgUserResponse),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 409, description = "E-mail already used", body = FlashbackError),
    )
)]
pub async fn create_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiJson(body): ApiJson<CreateOrgUserBody>,
) -> Result<(StatusCode, Json<OrgUserResponse>), ApiError> {
    let new = NewUser {
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        manager_id: None,
        role: body.org_role.map(parse_org_role).transpose()?,
        status: UserStatus::Invited,
    };
    let user = state.service.create_user(&ctx, new).await.map_err(|e| {
        ApiError::from(e).reword(StatusCode::FORBIDDEN, "Insufficient permissions to create users")
    })?;
    let data = user.into();
    let message = "User created successfully. The user validates their account by signing in.";
    Ok((StatusCode::CREATED, Json(OrgUserResponse { success: true, data, message })))
}

/// One user, as the bare OrgUser object (WORKSPACES or higher, or oneself).
#[utoipa::path(
    get,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserView),
        (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn get_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<OrgUserView>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    let user = state.service.get_directory_user(&ctx, user_id).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to view users")
            .reword(StatusCode::NOT_FOUND, NOT_FOUND)
    })?;
    Ok(Json(user.into()))
}

/// Changes a user's first name, last name, role (or e-mail, an extension): WORKSPACES or higher,
/// never above one's own role.
#[utoipa::path(
    put,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = UpdateOrgUserBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = OrgUserResponse),
        (status = 400, description = "Invalid role combination (`data: {}`)", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
        (status = 409, description = "E-mail already used; the last owner", body = FlashbackError),
    )
)]
pub async fn update_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateOrgUserBody>,
) -> Result<Json<OrgUserResponse>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    let role = body.org_role.map(parse_org_role).transpose().map_err(|_| {
        ApiError::bad_request("Invalid role combination").with_flashback_keys(json!({ "data": {} }))
    })?;
    let patch = UserPatch {
        first_name: body.name,
        last_name: body.last_name,
        email: body.email,
        role,
        ..UserPatch::default()
    };
    let user = state.service.update_user(&ctx, user_id, patch).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to update users")
            .reword(StatusCode::NOT_FOUND, NOT_FOUND)
    })?;
    Ok(Json(OrgUserResponse {
        success: true,
        data: user.into(),
        message: "User updated successfully",
    }))
}

/// Soft-deletes a user: `deletedAt` is set and their tokens stop working at once.
#[utoipa::path(
    delete,
    path = "/organization/users/{userId}",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Cannot delete yourself", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
        (status = 409, description = "The last active owner", body = FlashbackError),
    )
)]
pub async fn delete_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    state.service.delete_user(&ctx, user_id).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to delete users")
            .reword(StatusCode::NOT_FOUND, NOT_FOUND)
    })?;
    Ok(Message::ok("User deleted successfully"))
}

/// Restores a deleted user (clears `deletedAt`).
#[utoipa::path(
    post,
    path = "/organization/users/{userId}/activate",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "User is not deleted", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn activate_org_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    state.service.restore_user(&ctx, user_id).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to activate users")
            .reword(StatusCode::NOT_FOUND, NOT_FOUND)
    })?;
    Ok(Message::ok("User activated successfully"))
}

/// Records the invitation of a user who has not validated their account again, and sends the
/// `user.invited` webhook event.
#[utoipa::path(
    post,
    path = "/organization/users/{userId}/resend-invitation",
    tag = "Organization",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "User is already validated, or deleted", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn resend_invitation(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    state.service.resend_invitation(&ctx, user_id).await.map_err(|e| {
        ApiError::from(e)
            .reword(StatusCode::FORBIDDEN, "Insufficient permissions to invite users")
            .reword(StatusCode::NOT_FOUND, NOT_FOUND)
    })?;
    Ok(Message::ok("Invitation sent successfully"))
}
