//! `/api/v1/Policies` and the policy assignments of work apps and permission levels.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{Approver, Policy, PolicyStep, RequestType};
use portcullis_service::{NewPolicy, PolicyPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{CursorQuery, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use portcullis_domain::governance::MAX_POLICY_STEPS;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, update_policy))
        .routes(routes!(compatible_policies))
        .routes(routes!(set_work_app_policy))
        .routes(routes!(set_permission_level_policy))
}

const POLICIES: &str = "/api/v1/Policies";

/// Who approves a step.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum ApproverName {
    Manager,
    AppOwner,
    Administrators,
    User,
    GroupMembers,
}

/// One review step: `User` needs `userId`, `GroupMembers` needs `groupId`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyStepDto {
    pub approver: ApproverName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
}

impl From<PolicyStepDto> for PolicyStep {
    fn from(s: PolicyStepDto) -> Self {
        let approver = match s.approver {
            ApproverName::Manager => Approver::Manager,
            ApproverName::AppOwner => Approver::AppOwner,
            ApproverName::Administrators => Approver::Administrators,
            ApproverName::User => Approver::User,
            ApproverName::GroupMembers => Approver::GroupMembers,
        };
        PolicyStep { approver, user_id: s.user_id, group_id: s.group_id }
    }
}

impl From<PolicyStep> for PolicyStepDto {
    fn from(s: PolicyStep) -> Self {
        let approver = match s.approver {
            Approver::Manager => ApproverName::Manager,
            Approver::AppOwner => ApproverName::AppOwner,
            Approver::Administrators => ApproverName::Administrators,
            Approver::User => ApproverName::User,
            Approver::GroupMembers => ApproverName::GroupMembers,
        };
        PolicyStepDto { approver, user_id: s.user_id, group_id: s.group_id }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    pub id: Uuid,
    pub name: String,
    /// The RequestType this policy can be used for.
    pub request_type: &'static str,
    /// Review steps in order; none means the request is approved at once.
    pub steps: Vec<PolicyStepDto>,
    /// Editing a policy that a request has followed makes a new version.
    pub version: i32,
    pub is_system: bool,
    /// The organization default for its request type.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Policy> for PolicyView {
    fn from(p: Policy) -> Self {
        Self {
            id: p.id,
            name: p.name,
            request_type: p.request_type.name(),
            steps: p.steps.into_iter().map(Into::into).collect(),
            version: p.version,
            is_system: p.is_system,
            is_default: p.is_default,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePolicyBody {
    pub name: String,
    /// One of the five RequestType values.
    pub request_type: String,
    /// Review steps in order; empty (or absent) = auto-approve.
    #[serde(default)]
    #[schema(value_type = Vec<PolicyStepDto>, max_items = 10)]
    pub steps: BoundedVec<PolicyStepDto, MAX_POLICY_STEPS>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePolicyBody {
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<PolicyStepDto>>, max_items = 10)]
    pub steps: Option<BoundedVec<PolicyStepDto, MAX_POLICY_STEPS>>,
}

/// `UpdateWorkAppPolicyRequestModelV1`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPolicyBody {
    pub policy_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyQuery {
    /// Opaque cursor from `links.next`.
    pub cursor: Option<String>,
    /// Only policies of this RequestType.
    pub request_type: Option<String>,
}

pub(crate) fn parse_request_type(name: &str) -> Result<RequestType, ApiError> {
    RequestType::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Lists policies (the ten system policies and custom ones).
#[utoipa::path(
    get,
    path = "/api/v1/Policies",
    tag = "Policies",
    params(PolicyQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<PolicyView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_policies(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<PolicyQuery>,
) -> Result<Json<List<PolicyView>>, ApiError> {
    let request_type = query.request_type.as_deref().map(parse_request_type).transpose()?;
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.list_policies(&ctx, request_type, cursor.page()?).await?;
    let path = match request_type {
        Some(t) => format!("{POLICIES}?requestType={}", t.name()),
        None => POLICIES.to_string(),
    };
    Ok(Json(List::from_page(page, &path, &cursor, PolicyView::from)))
}

/// Lists policies compatible with (usable for) a request type.
#[utoipa::path(
    get,
    path = "/api/v1/Policies/CompatiblePolicies/{requestType}",
    tag = "Policies",
    params(("requestType" = String, Path, description = "GrantAccessRequest | RemoveAccessRequest | ArchiveWorkAppRequest | ChangePermissionLevelRequest | AddNewManagedWorkAppRequest"), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<PolicyView>),
        (status = 400, description = "Unknown request type", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn compatible_policies(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(request_type): ApiPath<String>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<PolicyView>>, ApiError> {
    let request_type = parse_request_type(&request_type)?;
    let page = state.service.list_policies(&ctx, Some(request_type), query.page()?).await?;
    let path = format!("{POLICIES}/CompatiblePolicies/{}", request_type.name());
    Ok(Json(List::from_page(page, &path, &query, PolicyView::from)))
}

/// One policy at its current version.
#[utoipa::path(
    get,
    path = "/api/v1/Policies/{policyId}",
    tag = "Policies",
    params(("policyId" = Uuid, Path, description = "The policy's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<PolicyView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_policy(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(policy_id): ApiPath<Uuid>,
) -> Result<Json<Record<PolicyView>>, ApiError> {
    let policy = state.service.get_policy(&ctx, policy_id).await?;
    Ok(Json(Record::new(policy.into(), format!("{POLICIES}/{policy_id}"))))
}

/// Creates a custom policy (extension).
#[utoipa::path(
    post,
    path = "/api/v1/Policies",
    tag = "Policies",
    request_body = CreatePolicyBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<PolicyView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "A step names an unknown user or group", body = ProblemDetails),
    )
)]
pub async fn create_policy(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreatePolicyBody>,
) -> Result<(StatusCode, Json<Record<PolicyView>>), ApiError> {
    let new = NewPolicy {
        name: body.name,
        request_type: parse_request_type(&body.request_type)?,
        steps: body.steps.into_iter().map(Into::into).collect(),
    };
    let policy = state.service.create_policy(&ctx, new).await?;
    let link = format!("{POLICIES}/{}", policy.id);
    Ok((StatusCode::CREATED, Json(Record::new(policy.into(), link))))
}

/// Edits a policy (extension). If a request has followed its current version, the edit becomes
/// a new version and running requests keep the version they started with.
#[utoipa::path(
    patch,
    path = "/api/v1/Policies/{policyId}",
    tag = "Policies",
    params(("policyId" = Uuid, Path, description = "The policy's id")),
    request_body = UpdatePolicyBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<PolicyView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn update_policy(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(policy_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdatePolicyBody>,
) -> Result<Json<Record<PolicyView>>, ApiError> {
    let patch = PolicyPatch {
        name: body.name,
        steps: body.steps.map(|s| s.into_iter().map(Into::into).collect()),
    };
    let policy = state.service.update_policy(&ctx, policy_id, patch).await?;
    Ok(Json(Record::new(policy.into(), format!("{POLICIES}/{policy_id}"))))
}

/// Sets the app-level policy for a request type (used unless a permission level has its own).
#[utoipa::path(
    put,
    path = "/api/v1/WorkApps/{workAppId}/Policies/{requestType}",
    tag = "WorkApps",
    params(
        ("workAppId" = Uuid, Path, description = "The work app's id"),
        ("requestType" = String, Path, description = "A RequestType value"),
    ),
    request_body = SetPolicyBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Policy set"),
        (status = 400, description = "Unknown request type or bad body", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown work app or policy", body = ProblemDetails),
        (status = 409, description = "The policy is for another request type", body = ProblemDetails),
    )
)]
pub async fn set_work_app_policy(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((app_id, request_type)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<SetPolicyBody>,
) -> Result<StatusCode, ApiError> {
    let request_type = parse_request_type(&request_type)?;
    state.service.set_work_app_policy(&ctx, app_id, request_type, body.policy_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the policy for one permission level of an app and a request type (the most specific).
#[utoipa::path(
    put,
    path = "/api/v1/WorkApps/{workAppId}/PermissionLevels/{permissionLevelId}/Policies/{requestType}",
    tag = "WorkApps",
    params(
        ("workAppId" = Uuid, Path, description = "The work app's id"),
        ("permissionLevelId" = Uuid, Path, description = "The permission level's id"),
        ("requestType" = String, Path, description = "A RequestType value"),
    ),
    request_body = SetPolicyBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Policy set"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, description = "Unknown work app, level (of this app) or policy", body = ProblemDetails),
        (status = 409, description = "The policy is for another request type", body = ProblemDetails),
    )
)]
pub async fn set_permission_level_policy(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((app_id, level_id, request_type)): ApiPath<(Uuid, Uuid, String)>,
    ApiJson(body): ApiJson<SetPolicyBody>,
) -> Result<StatusCode, ApiError> {
    let request_type = parse_request_type(&request_type)?;
    state
        .service
        .set_permission_level_policy(&ctx, app_id, level_id, request_type, body.policy_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
