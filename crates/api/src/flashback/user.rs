//! `/user/...`: one's own profile, and a user's role, Flashback style.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use portcullis_service::UserPatch;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::organization::OrgRoleView;
use super::{parse_id, parse_org_role, Message};
use crate::error::{ApiError, FlashbackError};
use crate::extract::{ApiJson, ApiPath, BearerCaller};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile))
        .routes(routes!(get_user_role, update_user))
        .routes(routes!(update_user_role))
}

const NOT_FOUND: &str = "User not found";

/// The caller's own profile and organization settings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: Uuid,
    /// First name.
    pub name: String,
    pub last_name: String,
    pub email: String,
    pub org_id: Uuid,
    #[serde(flatten)]
    pub role: OrgRoleView,
    pub validated: bool,
    /// The organization enforces multi-factor authentication.
    pub mfa_required: bool,
    pub is_business: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub success: bool,
    pub data: ProfileView,
}

/// A user's role.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRoleView {
    pub user_id: Uuid,
    #[serde(flatten)]
    pub role: OrgRoleView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoleResponse {
    pub success: bool,
    pub data: UserRoleView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRoleBody {
    /// 0 USER, 1 BILLING, 2 WORKSPACES, 254 ADMINISTRATORS, 255 OWNER.
    pub org_role: i64,
}

/// What a role change did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleChangeView {
    pub user_id: Uuid,
    pub previous_role: u8,
    pub new_role: u8,
    pub message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleChangeResponse {
    pub success: bool,
    pub data: RoleChangeView,
}

/// Body of `PUT /user/{userId}`. `password` is accepted and ignored: Portcullis keeps none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserBody {
    /// First name.
    pub name: Option<String>,
    pub last_name: Option<String>,
    /// Ignored.
    #[schema(value_type = Option<String>)]
    #[allow(dead_code, reason = "accepted so existing clients work; never used")]
    pub password: Option<IgnoredAny>,
}

/// The caller's profile: how a client learns its organization and role. Works before the
/// account is validated.
#[utoipa::path(
    get, path = "/user/profile", tag = "User", security(("Bearer" = [])),
    responses((status = 200, body = ProfileResponse), (status = 401, body = FlashbackError))
)]
pub async fn get_profile(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
) -> Result<Json<ProfileResponse>, ApiError> {
    let (user, org) = state.service.my_profile(&ctx).await?;
    Ok(Json(ProfileResponse {
        success: true,
        data: ProfileView {
            id: user.id,
            role: user.role.into(),
            name: user.first_name,
            last_name: user.last_name,
            email: user.email,
            org_id: user.org_id,
            validated: user.validated,
            mfa_required: org.mfa_enforced,
            is_business: org.is_business,
        },
    }))
}

/// A user's role (oneself, or WORKSPACES or higher).
#[utoipa::path(
    get, path = "/user/{userId}", tag = "User",
    params(("userId" = String, Path, description = "The user's id")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = UserRoleResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn get_user_role(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<UserRoleResponse>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    let user = state
        .service
        .get_directory_user(&ctx, user_id)
        .await
        .map_err(|e| ApiError::from(e).reword(StatusCode::NOT_FOUND, NOT_FOUND))?;
    Ok(Json(UserRoleResponse {
        success: true,
        data: UserRoleView { user_id: user.id, role: user.role.into() },
    }))
}

/// Changes a user's role: WORKSPACES or higher, only between roles at or below one's own; the
/// last active OWNER keeps the role.
#[utoipa::path(
    put, path = "/user/{userId}/role", tag = "User",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = UpdateRoleBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = RoleChangeResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
        (status = 409, description = "The last active owner", body = FlashbackError),
    )
)]
pub async fn update_user_role(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateRoleBody>,
) -> Result<Json<RoleChangeResponse>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    let role = parse_org_role(body.org_role)?;
    let not_found = |e| ApiError::from(e).reword(StatusCode::NOT_FOUND, NOT_FOUND);
    let before = state.service.get_user(&ctx, user_id).await.map_err(not_found)?;
    let patch = UserPatch { role: Some(role), ..UserPatch::default() };
    let after = state.service.update_user(&ctx, user_id, patch).await.map_err(not_found)?;
    Ok(Json(RoleChangeResponse {
        success: true,
        data: RoleChangeView {
            user_id,
            previous_role: before.role.flashback_number(),
            new_role: after.role.flashback_number(),
            message: "User role updated successfully",
        },
    }))
}

/// Changes a user's first and last name (oneself, or WORKSPACES or higher).
#[utoipa::path(
    put, path = "/user/{userId}", tag = "User",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = UpdateUserBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<Message>, ApiError> {
    let user_id = parse_id(&user_id, NOT_FOUND)?;
    let patch =
        UserPatch { first_name: body.name, last_name: body.last_name, ..UserPatch::default() };
    state
        .service
        .update_user(&ctx, user_id, patch)
        .await
        .map_err(|e| ApiError::from(e).reword(StatusCode::NOT_FOUND, NOT_FOUND))?;
    Ok(Message::ok("User updated successfully"))
}
