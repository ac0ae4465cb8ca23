//! `/workspace`: workspaces and their READ/WRITE/ADMIN members, Flashback style.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{User, Workspace, WorkspaceMember, WorkspaceRole};
use portcullis_service::workspaces::WorkspaceDetails;
use portcullis_service::ServiceError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{parse_id, Message};
use crate::error::{ApiError, FlashbackError};
use crate::extract::{ApiJson, ApiPath, BearerCaller, OptionalJson};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(list_workspace_users, add_workspace_user))
        .routes(routes!(update_workspace_user, remove_workspace_user))
}

/// A workspace as create and update answer it (`{id, name, orgId}` and our extra keys).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    pub id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    pub created_by_user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Workspace> for WorkspaceView {
    fn from(w: Workspace) -> Self {
        Self {
            id: w.id,
            name: w.name,
            org_id: w.org_id,
            created_by_user_id: w.created_by_user_id,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A workspace as GET answers it: with its `users`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceWithUsersView {
    #[serde(flatten)]
    pub workspace: WorkspaceView,
    /// The caller's role in the workspace (READ, WRITE, ADMIN), or null for org administrators
    /// who are not members (an extension).
    pub role: Option<&'static str>,
    pub users: Vec<WorkspaceUserView>,
}

impl From<WorkspaceDetails> for WorkspaceWithUsersView {
    fn from(d: WorkspaceDetails) -> Self {
        Self {
            workspace: d.workspace.into(),
            role: d.caller_role.map(WorkspaceRole::name),
            users: d.members.into_iter().map(WorkspaceUserView::from).collect(),
        }
    }
}

/// `{success, workspace}` after a create or an update.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceResponse {
    pub success: bool,
    pub workspace: WorkspaceView,
}

/// `{success, workspace}` of `GET /workspace/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDetailsResponse {
    pub success: bool,
    pub workspace: WorkspaceWithUsersView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspacesResponse {
    pub success: bool,
    pub workspaces: Vec<WorkspaceWithUsersView>,
}

/// The member's user, as a workspace shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceMemberUserView {
    pub id: Uuid,
    /// First name.
    pub name: String,
    pub last_name: String,
    pub email: String,
    /// Numeric org role.
    pub org_role: Option<u8>,
}

/// A member of a workspace.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceUserView {
    pub user_id: Uuid,
    /// READ, WRITE or ADMIN.
    pub role: &'static str,
    pub user: WorkspaceMemberUserView,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<(WorkspaceMember, User)> for WorkspaceUserView {
    fn from((m, u): (WorkspaceMember, User)) -> Self {
        Self {
            user_id: u.id,
            role: m.role.name(),
            user: WorkspaceMemberUserView {
                id: u.id,
                org_role: Some(u.role.flashback_number()),
                name: u.first_name,
                last_name: u.last_name,
                email: u.email,
            },
            added_at: m.added_at,
            updated_at: m.updated_at,
        }
    }
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

/// Body of `PUT /workspace/{id}`: the name is optional (without it nothing changes).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateWorkspaceBody {
    pub name: Option<String>,
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
    parse_id(raw, "Workspace not found")
}

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    parse_id(raw, "User not found in workspace")
}

/// The operation's documented 403 message.
fn denied(message: &'static str) -> impl Fn(ServiceError) -> ApiError {
    move |e| ApiError::from(e).reword(StatusCode::FORBIDDEN, message)
}

fn parse_role(raw: &str) -> Result<WorkspaceRole, ApiError> {
    WorkspaceRole::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Creates a workspace (org OWNER, ADMINISTRATOR or WORKSPACES); the creator becomes its ADMIN.
#[utoipa::path(
    post, path = "/workspace", tag = "Workspace", request_body = WorkspaceNameBody,
    security(("Bearer" = [])),
    responses(
        (status = 201, body = WorkspaceResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
    )
)]
pub async fn create_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiJson(body): ApiJson<WorkspaceNameBody>,
) -> Result<(StatusCode, Json<WorkspaceResponse>), ApiError> {
    let workspace = state
        .service
        .create_workspace(&ctx, &body.name)
        .await
        .map_err(denied("Insufficient permissions to create workspaces"))?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceResponse { success: true, workspace: workspace.into() }),
    ))
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
        workspaces: workspaces.into_iter().map(Into::into).collect(),
    }))
}

/// One workspace with its members; a workspace the caller may not see answers 404 "Workspace
/// not found or access denied".
#[utoipa::path(
    get, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = WorkspaceDetailsResponse), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 404, body = FlashbackError),
    )
)]
pub async fn get_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WorkspaceDetailsResponse>, ApiError> {
    let id = parse_id(&id, "Workspace not found or access denied")?;
    let details = state.service.get_workspace(&ctx, id).await?;
    Ok(Json(WorkspaceDetailsResponse { success: true, workspace: details.into() }))
}

/// Renames a workspace (workspace ADMIN, or org OWNER/ADMINISTRATOR).
#[utoipa::path(
    put, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    request_body = UpdateWorkspaceBody,
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
    OptionalJson(body): OptionalJson<UpdateWorkspaceBody>,
) -> Result<Json<WorkspaceResponse>, ApiError> {
    let id = workspace_id(&id)?;
    let workspace = state
        .service
        .rename_workspace(&ctx, id, body.name.as_deref())
        .await
        .map_err(denied("Insufficient permissions to update workspace"))?;
    Ok(Json(WorkspaceResponse { success: true, workspace: workspace.into() }))
}

/// Soft-deletes a workspace (workspace ADMIN, or org OWNER/ADMINISTRATOR).
#[utoipa::path(
    delete, path = "/workspace/{id}", tag = "Workspace",
    params(("id" = String, Path, description = "The unique identifier of the workspace")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn delete_workspace(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    state
        .service
        .delete_workspace(&ctx, workspace_id(&id)?)
        .await
        .map_err(denied("Insufficient permissions to delete workspace"))?;
    Ok(Message::success())
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
    let id = parse_id(&id, "Workspace not found or access denied")?;
    let members = state.service.list_workspace_members(&ctx, id).await?;
    let users = members.into_iter().map(Into::into).collect();
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
        (status = 200, description = "User added to workspace successfully", body = Message),
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
) -> Result<Json<Message>, ApiError> {
    let role = parse_role(&body.role)?;
    state.service.add_workspace_member(&ctx, workspace_id(&id)?, &body.user_id, role).await?;
    Ok(Message::success())
}

/// Changes a member's role (never demoting the last ADMIN).
#[utoipa::path(
    put, path = "/workspace/{id}/users/{userId}", tag = "Workspace",
    params(("id" = String, Path, description = "The workspace"), ("userId" = String, Path, description = "The member")),
    request_body = WorkspaceRoleBody,
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn update_workspace_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<WorkspaceRoleBody>,
) -> Result<Json<Message>, ApiError> {
    let role = parse_role(&body.role)?;
    let id = workspace_id(&id)?;
    state.service.update_workspace_member(&ctx, id, member_id(&user_id)?, role).await?;
    Ok(Message::success())
}

/// Removes a member (never the last ADMIN).
#[utoipa::path(
    delete, path = "/workspace/{id}/users/{userId}", tag = "Workspace",
    params(("id" = String, Path, description = "The workspace"), ("userId" = String, Path, description = "The member")),
    security(("Bearer" = [])),
    responses(
        (status = 200, body = Message), (status = 400, body = FlashbackError),
        (status = 401, body = FlashbackError), (status = 403, body = FlashbackError),
        (status = 404, body = FlashbackError),
    )
)]
pub async fn remove_workspace_user(
    State(state): State<AppState>,
    BearerCaller(ctx): BearerCaller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    let id = workspace_id(&id)?;
    state.service.remove_workspace_member(&ctx, id, member_id(&user_id)?).await?;
    Ok(Message::success())
}
