//! `/api/v1/UsersGroups`: groups, membership (joining grants the default apps), default and hidden
//! work apps.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{DefaultWorkApp, UsersGroup};
use portcullis_service::GroupPatch;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::users::UserView;
use super::work_apps::WorkAppView;
use super::{CursorQuery, Links, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use portcullis_domain::groups::MAX_GROUP_ADD;
use portcullis_domain::workapp::MAX_BULK_GRANT;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(list_members, add_members))
        .routes(routes!(remove_member))
        .routes(routes!(default_work_apps, set_default_work_apps))
        .routes(routes!(hidden_work_apps, set_hidden_work_apps))
}

const GROUPS: &str = "/api/v1/UsersGroups";

/// A users group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsersGroupView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// Groups synchronised from an identity provider carry its id; Portcullis groups have none.
    pub external_id: Option<String>,
    /// Where the group comes from (`Portcullis` for groups created here).
    pub source: &'static str,
    pub number_of_users: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UsersGroup> for UsersGroupView {
    fn from(g: UsersGroup) -> Self {
        Self {
            id: g.id,
            name: g.name,
            description: g.description,
            external_id: None,
            source: "Portcullis",
            number_of_users: g.member_count,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A default work app: the app, and the level members get.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultWorkAppView {
    #[serde(flatten)]
    pub work_app: WorkAppView,
    pub default_permission_level_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupBody {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroupBody {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// `AddUsersToGroupRequestModelV1`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddUsersBody {
    /// 1 to 1,000 users of the organization.
    #[schema(value_type = Vec<Uuid>, max_items = 1000)]
    pub user_ids: BoundedVec<Uuid, MAX_GROUP_ADD>,
    /// The user on whose behalf the change is made: the recorded actor and requests' creator.
    pub triggered_by_user_id: Option<Uuid>,
    /// true: the default-app access requests are approved at once, without review tasks.
    #[serde(default)]
    pub implicitly_approve_requests: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultWorkAppEntry {
    pub work_app_id: Uuid,
    /// Required when the app has permission levels; absent otherwise.
    pub permission_level_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultWorkAppsBody {
    #[schema(value_type = Vec<DefaultWorkAppEntry>, max_items = 10000)]
    pub data: BoundedVec<DefaultWorkAppEntry, MAX_BULK_GRANT>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HiddenWorkAppEntry {
    pub work_app_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HiddenWorkAppsBody {
    #[schema(value_type = Vec<HiddenWorkAppEntry>, max_items = 10000)]
    pub data: BoundedVec<HiddenWorkAppEntry, MAX_BULK_GRANT>,
}

fn whole_list<T>(data: Vec<T>, path: String) -> List<T> {
    List { data, links: Links { self_link: path, next: None } }
}

/// Lists the organization's users groups.
#[utoipa::path(
    get, path = "/api/v1/UsersGroups", tag = "UsersGroups", params(CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses((status = 200, body = List<UsersGroupView>), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails))
)]
pub async fn list_groups(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<UsersGroupView>>, ApiError> {
    let page = state.service.list_groups(&ctx, query.page()?).await?;
    Ok(Json(List::from_page(page, GROUPS, &query, UsersGroupView::from)))
}

/// Creates a users group (extension); names are unique per organization.
#[utoipa::path(
    post, path = "/api/v1/UsersGroups", tag = "UsersGroups", request_body = CreateGroupBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<UsersGroupView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 409, description = "Name already used", body = ProblemDetails),
    )
)]
pub async fn create_group(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateGroupBody>,
) -> Result<(StatusCode, Json<Record<UsersGroupView>>), ApiError> {
    let group = state.service.create_group(&ctx, &body.name, body.description.as_deref()).await?;
    let link = format!("{GROUPS}/{}", group.id);
    Ok((StatusCode::CREATED, Json(Record::new(group.into(), link))))
}

/// Detailed information about one users group.
#[utoipa::path(
    get, path = "/api/v1/UsersGroups/{usersGroupId}", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<UsersGroupView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_group(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
) -> Result<Json<Record<UsersGroupView>>, ApiError> {
    let group = state.service.get_group(&ctx, group_id).await?;
    Ok(Json(Record::new(group.into(), format!("{GROUPS}/{group_id}"))))
}

/// Renames or describes a group (extension).
#[utoipa::path(
    patch, path = "/api/v1/UsersGroups/{usersGroupId}", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    request_body = UpdateGroupBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<UsersGroupView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails), (status = 409, body = ProblemDetails),
    )
)]
pub async fn update_group(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateGroupBody>,
) -> Result<Json<Record<UsersGroupView>>, ApiError> {
    let patch = GroupPatch { name: body.name, description: body.description };
    let group = state.service.update_group(&ctx, group_id, patch).await?;
    Ok(Json(Record::new(group.into(), format!("{GROUPS}/{group_id}"))))
}

/// Deletes a group (extension); its members keep their accesses.
#[utoipa::path(
    delete, path = "/api/v1/UsersGroups/{usersGroupId}", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Deleted"), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn delete_group(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_group(&ctx, group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Users in the group, 100 per page.
#[utoipa::path(
    get, path = "/api/v1/UsersGroups/{usersGroupId}/Users", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID."), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<UserView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<UserView>>, ApiError> {
    let page = state.service.list_group_members(&ctx, group_id, query.page()?).await?;
    Ok(Json(List::from_page(page, &format!("{GROUPS}/{group_id}/Users"), &query, UserView::from)))
}

/// Adds users to a users group.
///
/// New members get a GrantAccessRequest for each default work app of the group they lack; with
/// `implicitlyApproveRequests: true` those are approved at once, without review tasks. Adding an
/// existing member is a no-op. All-or-nothing: an unknown group or user changes nothing.
#[utoipa::path(
    post, path = "/api/v1/UsersGroups/{usersGroupId}/Users", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    request_body(content = AddUsersBody, description = "Request model to add users to a users group"),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, description = "Created"),
        (status = 400, description = "Empty or oversized userIds, or a malformed id", body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown group or user", body = ProblemDetails),
    )
)]
pub async fn add_members(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddUsersBody>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .add_group_members(
            &ctx,
            group_id,
            &body.user_ids,
            body.triggered_by_user_id,
            body.implicitly_approve_requests,
        )
        .await?;
    Ok(StatusCode::CREATED)
}

/// Removes one user from a users group; by the organization's `groupLeaveAction`, a Remove-Access
/// request opens for each default app of the group the user loses (default), or accesses stay.
#[utoipa::path(
    delete, path = "/api/v1/UsersGroups/{usersGroupId}/Users/{userId}", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID."), ("userId" = Uuid, Path, description = "The user's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Removed"), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown group, or the user is not a member", body = ProblemDetails),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((group_id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.service.remove_group_member(&ctx, group_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Work apps granted to members of the group by default.
#[utoipa::path(
    get, path = "/api/v1/UsersGroups/{usersGroupId}/DefaultWorkApps", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID."), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<DefaultWorkAppView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn default_work_apps(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<DefaultWorkAppView>>, ApiError> {
    query.page()?;
    let apps = state.service.group_default_apps(&ctx, group_id).await?;
    let data = apps
        .into_iter()
        .map(|(d, level)| DefaultWorkAppView {
            work_app: d.into(),
            default_permission_level_id: level,
        })
        .collect();
    Ok(Json(whole_list(data, format!("{GROUPS}/{group_id}/DefaultWorkApps"))))
}

/// Replaces the group's default work apps (extension); entries are validated like bulk-grant
/// entries.
#[utoipa::path(
    put, path = "/api/v1/UsersGroups/{usersGroupId}/DefaultWorkApps", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    request_body = DefaultWorkAppsBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Replaced"),
        (status = 400, description = "Missing or superfluous permissionLevelId, malformed entry", body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown group, app or level", body = ProblemDetails),
        (status = 409, description = "An app is archived", body = ProblemDetails),
    )
)]
pub async fn set_default_work_apps(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DefaultWorkAppsBody>,
) -> Result<StatusCode, ApiError> {
    let apps: Vec<DefaultWorkApp> = body
        .data
        .into_iter()
        .map(|e| DefaultWorkApp {
            work_app_id: e.work_app_id,
            permission_level_id: e.permission_level_id,
        })
        .collect();
    state.service.set_group_default_apps(&ctx, group_id, &apps).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Work apps hidden from the group's members in the catalogue.
#[utoipa::path(
    get, path = "/api/v1/UsersGroups/{usersGroupId}/HiddenWorkApps", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID."), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<WorkAppView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn hidden_work_apps(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<WorkAppView>>, ApiError> {
    query.page()?;
    let apps = state.service.group_hidden_apps(&ctx, group_id).await?;
    let data = apps.into_iter().map(WorkAppView::from).collect();
    Ok(Json(whole_list(data, format!("{GROUPS}/{group_id}/HiddenWorkApps"))))
}

/// Replaces the group's hidden work apps (extension).
#[utoipa::path(
    put, path = "/api/v1/UsersGroups/{usersGroupId}/HiddenWorkApps", tag = "UsersGroups",
    params(("usersGroupId" = Uuid, Path, description = "The users group ID.")),
    request_body = HiddenWorkAppsBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Replaced"), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown group or app", body = ProblemDetails),
    )
)]
pub async fn set_hidden_work_apps(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(group_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<HiddenWorkAppsBody>,
) -> Result<StatusCode, ApiError> {
    let ids: Vec<Uuid> = body.data.into_iter().map(|e| e.work_app_id).collect();
    state.service.set_group_hidden_apps(&ctx, group_id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}
