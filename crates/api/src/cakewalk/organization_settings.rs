//! `/api/v1/OrganizationSettings` (extension): the organization's governance settings.
use axum::extract::State;
use axum::Json;
use portcullis_domain::{OrganizationSettings, OrganizationSettingsPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NoQuery, Record};
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{AnyCaller, ApiJson, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization_settings, update_organization_settings))
}

const SETTINGS: &str = "/api/v1/OrganizationSettings";

/// The organization's governance settings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSettingsView {
    /// May one person approve more than one review step of the same request? Default false:
    /// whoever approved an earlier step is not an approver of a later one. The requester and the
    /// target user never decide a task of the request, whatever this says.
    pub allow_same_approver_for_multiple_steps: bool,
}

impl From<OrganizationSettings> for OrganizationSettingsView {
    fn from(s: OrganizationSettings) -> Self {
        Self { allow_same_approver_for_multiple_steps: s.allow_same_approver_for_multiple_steps }
    }
}

/// Body of `PATCH /api/v1/OrganizationSettings`: only the settings present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationSettingsBody {
    pub allow_same_approver_for_multiple_steps: Option<bool>,
}

/// The organization's governance settings (API credentials, and administrators and owners with
/// a bearer token).
#[utoipa::path(
    get,
    path = "/api/v1/OrganizationSettings",
    tag = "OrganizationSettings",
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<OrganizationSettingsView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "A user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn get_organization_settings(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<Record<OrganizationSettingsView>>, ApiError> {
    let settings = state.service.organization_settings(&ctx).await?;
    Ok(Json(Record::new(settings.into(), SETTINGS.to_string())))
}

/// Changes governance settings (a read-write credential, or an administrator or owner with a
/// bearer token); audited as `organization.settings_updated`.
#[utoipa::path(
    patch,
    path = "/api/v1/OrganizationSettings",
    tag = "OrganizationSettings",
    request_body = OrganizationSettingsBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<OrganizationSettingsView>),
        (status = 400, description = "Malformed body or an unknown setting", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, or a user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn update_organization_settings(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<OrganizationSettingsBody>,
) -> Result<Json<Record<OrganizationSettingsView>>, ApiError> {
    let patch = OrganizationSettingsPatch {
        allow_same_approver_for_multiple_steps: body.allow_same_approver_for_multiple_steps,
    };
    let settings = state.service.update_organization_settings(&ctx, patch).await?;
    Ok(Json(Record::new(settings.into(), SETTINGS.to_string())))
}
