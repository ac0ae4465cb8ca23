//! `/workspace`: workspaces and their READ/WRITE/ADMIN members, Flashback style.
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{Workspace, WorkspaceRole};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, FlashbackError};
use crate::extract::{ApiJson, ApiPath, BearerCaller};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(list_workspace_users, add_workspace_user))
        .routes(routes!(update_workspace_user, remove_workspace_user))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    pub id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    pub created_by_user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The caller's role in the workspace (READ, WRITE, ADMIN), or null for org administrators
    /// who are not members.
    pub role: Option<&'static str>,
}

fn view(w: Workspace, role: Option<WorkspaceRole>) -> WorkspaceView {
    WorkspaceView {
        id: w.id,
        name: w.name,
        org_id: w.org_id,
        created_by_user_id: w.created_by_user_id,
        created_at: w.created_at,
        updated_at: w.updated_at,
        role: role.map(WorkspaceRole::name),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceResponse {
    pub success: bool,
    pub workspace: WorkspaceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspacesResponse {
    pub success: bool,
    pub workspaces: Vec<WorkspaceView>,
}

/// `{"success": true}`, with an optional message.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessResponse {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceUserView {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// READ, WRITE or ADMIN.
    pub role: &'static str,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceUsersResponse {
    pub success: bool,
    pub users: Vec<WorkspaceUserView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkspaceNameBody {
    pub name: String,
}

/// User addition data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddWorkspaceUserBody {
    /// The unique identifier of the user to add.
    pub user_id: String,
    /// The role to assign to the user (READ, WRITE, ADMIN).
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkspaceRoleBody {
    /// READ, WRITE or ADMIN.
    pub role: String,
}

fn workspace_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("Workspace not found"))
}

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("User is not a member of this workspace"))
}

fn parse_role(raw: &str) -> Result<WorkspaceRole, ApiError> {
    WorkspaceRole::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn ok() -> Json<SuccessResponse> {
    Json(SuccessResponse { success: true, message: None })
}

/// Creates a workspace (org OWNER, ADMINISTRATOR or WORKSPACES); the creator becomes its ADMIN.
#[utoipa::path(
    post, path = "/workspace", tag = "Workspace", request_body = WorkspaceNameBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = WorkspaceResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
    )
)]
pub async fn create_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiJson(body): ApiJson<WorkspaceNameBody>,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let workspace = state.service.create_workspace(&ctx, &body.name).await?;
    Ok(Json(WorkspaceResponse {
        success: true,
        workspace: view(workspace, Some(WorkspaceRole::Admin)),
    }))
}

/// Workspaces the caller may see: those they belong to, or all for org OWNER/ADMINISTRATOR.
#[utoipa::path(
    get, path = "/workspace", tag = "Workspace", security(("Bearer" = [])),
    responses((status = 200, body = WorkspacesResponse), (status = 400, body = FlashbackError), (status = 401, body = FlashbackError))
)]
pub async fn list_workspaces(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
) -> Result<Json<WorkspacesResponse>, ApiError> {
    let workspaces = state.service.list_workspaces(&ctx).await?;
    Ok(Json(WorkspacesResponse {
        success: true,
        workspaces: workspaces.into_iter().map(|(w, r)| view(w, r)).collect(),
    }))
}

/// One workspace.
#[utoipa::path(
    get, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = WorkspaceResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn get_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let (workspace, role) = state.service.get_workspace(&ctx, workspace_id(&id)?).await?;
    Ok(Json(WorkspaceResponse { success: true, workspace: view(workspace, role) }))
}

/// Renames a workspace (workspace ADMIN, or org OWNER/ADMINISTRATOR).
#[utoipa::path(
    put, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    request_body = WorkspaceNameBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = WorkspaceResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn update_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<WorkspaceNameBody>,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let id = workspace_id(&id)?;
    let workspace = state.service.rename_workspace(&ctx, id, &body.name).await?;
    let (_, role) = state.service.get_workspace(&ctx, id).await?;
    Ok(Json(WorkspaceResponse { success: true, workspace: view(workspace, role) }))
}

/// Soft-deletes a workspace (workspace ADMIN, or org OWNER/ADMINISTRATOR).
#[utoipa::path(
    delete, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = SuccessResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn delete_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.service.delete_workspace(&ctx, workspace_id(&id)?).await?;
    Ok(Json(SuccessResponse { success: true, message: Some("Workspace deleted".into()) }))
}

/// Members of a workspace with their roles.
#[utoipa::path(
    get, path = "/workspace/{id}/users", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = WorkspaceUsersResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn list_workspace_users(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkspaceUsersResponse>, ApiError> {
    let members = state.service.list_workspace_members(&ctx, workspace_id(&id)?).await?;
    let users = members
        .into_iter()
        .map(|(m, u)| WorkspaceUserView {
            user_id: u.id,
            name: u.name,
            email: u.email,
            role: m.role.name(),
            added_at: m.added_at,
            updated_at: m.updated_at,
        })
        .collect();
    Ok(Json(WorkspaceUsersResponse { success: true, users }))
}

/// Add User to Workspace.
///
/// Adds a user to a workspace with a specified role. The authenticated user must have ADMIN
/// access to the workspace (or be an org OWNER/ADMINISTRATOR). If the user is already a member,
/// the role is updated.
#[utoipa::path(
    post, path = "/workspace/{id}/users", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    request_body(content = AddWorkspaceUserBody, description = "User addition data"),
    security(("Bearer" = [])),
    responses(
        (status = 200, description = "User added to workspace successfully", body = SuccessResponse),
        (status = 400, description = "User not found or not validated; bad body or role", body = FlashbackError),
        (status = 401, body = FlashbackError),
        (status = 403, description = "Insufficient permissions", body = FlashbackError),
        (status = 404, description = "Target user not found", body = FlashbackError),
        (status = 500, description = "Server error", body = FlashbackError),
    )
)]
pub async fn add_workspace_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AddWorkspaceUserBody>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let role = parse_role(&body.role)?;
    state.service.add_workspace_member(&ctx, workspace_id(&id)?, &body.user_id, role).await?;
    Ok(ok())
}

/// Changes a member's role (never demoting the last ADMIN).
#[utoipa::path(
    put, path = "/workspace/{id}/users/{userId}", tag = "Workspace",
    params(("id" = String, Path, description = "The workspace"), ("userId" = String, Path, description = "The member")),
    request_body = WorkspaceRoleBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = SuccessResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn update_workspace_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<WorkspaceRoleBody>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let role = parse_role(&body.role)?;
    let id = workspace_id(&id)?;
    state.service.update_workspace_member(&ctx, id, member_id(&user_id)?, role).await?;
    Ok(ok())
}

/// Removes a member (never the last ADMIN).
#[utoipa::path(
    delete, path = "/workspace/{id}/users/{userId}", tag = "Workspace",
    params(("id" = String, Path, description = "The workspace"), ("userId" = String, Path, description = "The member")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = SuccessResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn remove_workspace_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let id = workspace_id(&id)?;
    state.service.remove_workspace_member(&ctx, id, member_id(&user_id)?).await?;
    Ok(ok())
}
