//! `/api/v1/WorkApps`: apps, permission levels, accesses and the all-or-nothing bulk grant.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::{AccessDetail, PermissionLevel, ProvisioningMode, User, WorkAppStatus};
use portcullis_service::{NewPermissionLevel, NewWorkApp, WorkAppDetails, WorkAppPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::users::UserView;
use super::{CursorQuery, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use portcullis_domain::workapp::{MAX_APP_OWNERS, MAX_BULK_GRANT};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_work_apps, create_work_app))
        .routes(routes!(get_work_app, update_work_app))
        .routes(routes!(list_accesses))
        .routes(routes!(revoke_access))
        .routes(routes!(list_permission_levels, create_permission_level))
        .routes(routes!(grant_accesses))
}

const WORK_APPS: &str = "/api/v1/WorkApps";

/// `UserSimplifiedViewModelV1`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSimplifiedView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub status_id: i32,
    pub status_name: &'static str,
}

impl From<&User> for UserSimplifiedView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            name: u.full_name(),
            email: u.email.clone(),
            status_id: u.status().id(),
            status_name: u.status().cakewalk_name(),
        }
    }
}

/// `WorkAppDetailedViewModelV1`, plus the extensions `ownerIds`, `provisioningMode`,
/// `createdAt` and `updatedAt`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkAppView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub tag_line: String,
    pub category_id: i32,
    pub category_name: String,
    /// Users with a live access.
    pub number_of_accounts: i64,
    pub is_bundle: bool,
    /// The first owner.
    pub owner: Option<UserSimplifiedView>,
    pub url: String,
    pub image_url: String,
    pub status_id: i32,
    /// `Managed`, `Unmanaged` or `Archived`.
    pub status_name: &'static str,
    pub server_locations: Vec<String>,
    pub certifications: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub ai_risk: Option<serde_json::Value>,
    /// The app's custom field values, keyed by custom field id: `{name, type, value,
    /// guidValue?}` for each field the app has a value for (see `GET …/CustomFields` for all).
    pub custom_fields:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Groups for which this app is a default app.
    pub default_users_groups: Vec<Uuid>,
    /// Groups from whose members this app is hidden.
    pub hidden_users_groups: Vec<Uuid>,
    pub owner_ids: Vec<Uuid>,
    /// `Manual` (a person carries out approved changes) or `Automatic`.
    pub provisioning_mode: &'static str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WorkAppDetails> for WorkAppView {
    fn from(d: WorkAppDetails) -> Self {
        let app = d.app;
        Self {
            id: app.id,
            name: app.name,
            description: app.description,
            tag_line: app.tag_line,
            category_id: 0,
            category_name: app.category,
            number_of_accounts: d.number_of_accounts,
            is_bundle: false,
            owner: d.owners.first().map(UserSimplifiedView::from),
            url: app.url,
            image_url: app.image_url,
            status_id: app.status.id(),
            status_name: app.status.name(),
            server_locations: Vec::new(),
            certifications: Vec::new(),
            ai_risk: None,
            custom_fields: super::custom_fields::work_app_custom_fields(d.custom_fields),
            default_users_groups: d.default_groups,
            hidden_users_groups: d.hidden_groups,
            owner_ids: app.owner_ids,
            provisioning_mode: app.provisioning_mode.name(),
            created_at: app.created_at,
            updated_at: app.updated_at,
        }
    }
}

/// `PermissionLevelViewModelV1`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionLevelView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub is_privileged: bool,
}

impl From<PermissionLevel> for PermissionLevelView {
    fn from(l: PermissionLevel) -> Self {
        Self {
            id: l.id,
            name: l.name,
            description: l.description,
            is_default: l.is_default,
            is_privileged: l.is_privileged,
        }
    }
}

/// `AccessViewModelV1`, plus the extensions `source`, `grantedAt` and `expiresAt`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessView {
    pub is_owner: bool,
    pub user: UserView,
    /// Null when the app has no permission levels.
    pub permission_level: Option<PermissionLevelView>,
    /// `Direct`, `Group` or `Request`.
    pub source: &'static str,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWorkAppBody {
    pub name: String,
    pub description: Option<String>,
    /// Users of the organization who own the app (approve as `AppOwner`).
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>, max_items = 1000)]
    pub owner_ids: BoundedVec<Uuid, MAX_APP_OWNERS>,
    /// `Manual` (default) or `Automatic`.
    pub provisioning_mode: Option<String>,
    /// `Managed` (default) or `Unmanaged`.
    pub status_name: Option<String>,
    pub category_name: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tag_line: Option<String>,
}

/// Absent fields are left alone; `statusName: "Archived"` archives the app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWorkAppBody {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 1000)]
    pub owner_ids: Option<BoundedVec<Uuid, MAX_APP_OWNERS>>,
    pub provisioning_mode: Option<String>,
    pub status_name: Option<String>,
    pub category_name: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tag_line: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePermissionLevelBody {
    pub name: String,
    /// Defaults to the name.
    pub description: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub is_privileged: bool,
}

/// `CreateWorkAppAccessRequestModelV1`, plus the extension `expiresAt`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWorkAppAccessEntry {
    /// Identifier of the work app to which access is being granted.
    pub work_app_id: Uuid,
    /// Identifier of the user being granted access.
    pub user_id: Uuid,
    /// Mandatory when the work app has at least one permission level; must be absent otherwise.
    pub permission_level_id: Option<Uuid>,
    /// Extension: the access disappears at this time (RFC 3339, in the future).
    pub expires_at: Option<DateTime<Utc>>,
}

/// `CreateWorkAppAccessRequestModelV1BulkRequestViewModel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAccessBody {
    /// 1 to 10,000 entries.
    #[schema(value_type = Vec<CreateWorkAppAccessEntry>, max_items = 10000)]
    pub data: BoundedVec<CreateWorkAppAccessEntry, MAX_BULK_GRANT>,
}

fn parse_mode(mode: Option<&str>) -> Result<Option<ProvisioningMode>, ApiError> {
    mode.map(ProvisioningMode::parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}

fn parse_status(status: Option<&str>) -> Result<Option<WorkAppStatus>, ApiError> {
    status.map(WorkAppStatus::parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Lists the organization's work apps, 100 per page.
#[utoipa::path(
    get,
    path = "/api/v1/WorkApps",
    tag = "WorkApps",
    params(CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<WorkAppView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_work_apps(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<WorkAppView>>, ApiError> {
    let page = state.service.list_work_apps(&ctx, query.page()?).await?;
    Ok(Json(List::from_page(page, WORK_APPS, &query, WorkAppView::from)))
}

/// Detailed information about one work app.
#[utoipa::path(
    get,
    path = "/api/v1/WorkApps/{workAppId}",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The work app's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<WorkAppView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_work_app(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
) -> Result<Json<Record<WorkAppView>>, ApiError> {
    let details = state.service.get_work_app(&ctx, app_id).await?;
    Ok(Json(Record::new(details.into(), format!("{WORK_APPS}/{app_id}"))))
}

/// Creates a work app (extension).
#[utoipa::path(
    post,
    path = "/api/v1/WorkApps",
    tag = "WorkApps",
    request_body = CreateWorkAppBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<WorkAppView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "An owner is not a user of the organization", body = ProblemDetails),
        (status = 409, description = "Name already used", body = ProblemDetails),
    )
)]
pub async fn create_work_app(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateWorkAppBody>,
) -> Result<(StatusCode, Json<Record<WorkAppView>>), ApiError> {
    let status = parse_status(body.status_name.as_deref())?;
    if status == Some(WorkAppStatus::Archived) {
        return Err(ApiError::bad_request("a work app cannot be created archived"));
    }
    let new = NewWorkApp {
        name: body.name,
        description: body.description,
        owner_ids: body.owner_ids.into_inner(),
        provisioning_mode: parse_mode(body.provisioning_mode.as_deref())?,
        status,
        category: body.category_name,
        url: body.url,
        image_url: body.image_url,
        tag_line: body.tag_line,
    };
    let details = state.service.create_work_app(&ctx, new).await?;
    let link = format!("{WORK_APPS}/{}", details.app.id);
    Ok((StatusCode::CREATED, Json(Record::new(details.into(), link))))
}

/// Changes a work app (extension), including archiving it.
#[utoipa::path(
    patch,
    path = "/api/v1/WorkApps/{workAppId}",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The work app's id")),
    request_body = UpdateWorkAppBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<WorkAppView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, body = ProblemDetails),
    )
)]
pub async fn update_work_app(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateWorkAppBody>,
) -> Result<Json<Record<WorkAppView>>, ApiError> {
    let patch = WorkAppPatch {
        name: body.name,
        description: body.description,
        owner_ids: body.owner_ids.map(BoundedVec::into_inner),
        provisioning_mode: parse_mode(body.provisioning_mode.as_deref())?,
        status: parse_status(body.status_name.as_deref())?,
        category: body.category_name,
        url: body.url,
        image_url: body.image_url,
        tag_line: body.tag_line,
    };
    let details = state.service.update_work_app(&ctx, app_id, patch).await?;
    Ok(Json(Record::new(details.into(), format!("{WORK_APPS}/{app_id}"))))
}

/// User accesses of one work app (live ones only), 100 per page.
#[utoipa::path(
    get,
    path = "/api/v1/WorkApps/{workAppId}/Accesses",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The work app's id"), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<AccessView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_accesses(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<AccessView>>, ApiError> {
    let (page, owners) = state.service.list_accesses(&ctx, app_id, query.page()?).await?;
    let path = format!("{WORK_APPS}/{app_id}/Accesses");
    Ok(Json(List::from_page(page, &path, &query, |d: AccessDetail| AccessView {
        is_owner: owners.contains(&d.user.id),
        source: d.access.source.name(),
        granted_at: d.access.granted_at,
        expires_at: d.access.expires_at,
        user: d.user.into(),
        permission_level: d.level.map(Into::into),
    })))
}

/// Removes a user's access to a work app at once (extension).
#[utoipa::path(
    delete,
    path = "/api/v1/WorkApps/{workAppId}/Accesses/{userId}",
    tag = "WorkApps",
    params(
        ("workAppId" = Uuid, Path, description = "The work app's id"),
        ("userId" = Uuid, Path, description = "The user's id"),
    ),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown app, or the user has no access", body = ProblemDetails),
    )
)]
pub async fn revoke_access(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((app_id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_access(&ctx, app_id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists permission levels for a specific Work App.
#[utoipa::path(
    get,
    path = "/api/v1/WorkApps/{workAppId}/PermissionLevels",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The work app's id"), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<PermissionLevelView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_permission_levels(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<PermissionLevelView>>, ApiError> {
    let page = state.service.list_permission_levels(&ctx, app_id, query.page()?).await?;
    let path = format!("{WORK_APPS}/{app_id}/PermissionLevels");
    Ok(Json(List::from_page(page, &path, &query, PermissionLevelView::from)))
}

/// Adds a permission level to a work app (extension); names are unique per app.
#[utoipa::path(
    post,
    path = "/api/v1/WorkApps/{workAppId}/PermissionLevels",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The work app's id")),
    request_body = CreatePermissionLevelBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<PermissionLevelView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The app already has a level of that name", body = ProblemDetails),
    )
)]
pub async fn create_permission_level(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreatePermissionLevelBody>,
) -> Result<(StatusCode, Json<Record<PermissionLevelView>>), ApiError> {
    let description = body.description.filter(|d| !d.trim().is_empty()).or(Some(body.name.clone()));
    let new = NewPermissionLevel {
        name: body.name,
        description,
        is_default: body.is_default,
        is_privileged: body.is_privileged,
    };
    let level = state.service.create_permission_level(&ctx, app_id, new).await?;
    let link = format!("{WORK_APPS}/{app_id}/PermissionLevels/{}", level.id);
    Ok((StatusCode::CREATED, Json(Record::new(level.into(), link))))
}

/// Creates user access entries for one or more Work Apps.
///
/// All entries are validated first and written in one transaction: one bad entry fails the
/// whole call and nothing is written. An existing access is updated to the new level; duplicate
/// entries for the same user and app collapse (the last one wins).
#[utoipa::path(
    post,
    path = "/api/v1/WorkApps/Accesses",
    tag = "WorkApps",
    request_body(content = BulkAccessBody, description = "The bulk request payload containing user access definitions."),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, description = "Created"),
        (status = 400, description = "Empty or oversized batch, malformed entry, missing or superfluous permissionLevelId", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, description = "Unknown work app, user or permission level", body = ProblemDetails),
        (status = 409, description = "A work app is archived", body = ProblemDetails),
    )
)]
pub async fn grant_accesses(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<BulkAccessBody>,
) -> Result<StatusCode, ApiError> {
    let entries: Vec<GrantEntry> = body
        .data
        .into_iter()
        .map(|e| GrantEntry {
            work_app_id: e.work_app_id,
            user_id: e.user_id,
            permission_level_id: e.permission_level_id,
            expires_at: e.expires_at,
        })
        .collect();
    state.service.grant_accesses(&ctx, &entries).await?;
    Ok(StatusCode::CREATED)
}
