//! `/api/v1/OrganizationSettings` (extension): the organization's governance settings, joiner /
//! mover / leaver automation included.
use axum::extract::State;
use axum::Json;
use portcullis_domain::{
    GroupLeaveAction, LeaverAccessAction, OrganizationSettings, OrganizationSettingsPatch,
};
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
    /// Joiner: when the identity provider (SCIM) adds a user created less than
    /// `joinerWindowHours` ago to a group, the group's default apps are approved at once
    /// (implicitly approved requests) instead of following the approval policy. Default false.
    pub no_touch_onboarding: bool,
    /// How long after creation a user counts as a joiner, in hours (1 to 720; default 24).
    #[schema(minimum = 1, maximum = 720)]
    pub joiner_window_hours: i64,
    /// Mover: what leaving a group does. `RemoveAccess` (default) opens a Remove-Access request
    /// for each default app of the group the user still holds, unless another group of theirs
    /// also gives it or a removal is already open (the requests follow the removal policy);
    /// `Keep` leaves accesses alone.
    #[schema(example = "RemoveAccess")]
    pub group_leave_action: &'static str,
    /// Leaver: `RemoveAccess` (default) opens an approved Remove-Access request per access
    /// (Automatic apps are removed at once, Manual apps get an action task); `RevokeAtOnce`
    /// removes every access at once.
    #[schema(example = "RemoveAccess")]
    pub leaver_access_action: &'static str,
}

impl From<OrganizationSettings> for OrganizationSettingsView {
    fn from(s: OrganizationSettings) -> Self {
        Self {
            allow_same_approver_for_multiple_steps: s.allow_same_approver_for_multiple_steps,
            no_touch_onboarding: s.no_touch_onboarding,
            joiner_window_hours: s.joiner_window_hours,
            group_leave_action: s.group_leave_action.name(),
            leaver_access_action: s.leaver_access_action.name(),
        }
    }
}

/// Body of `PATCH /api/v1/OrganizationSettings`: only the settings present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationSettingsBody {
    pub allow_same_approver_for_multiple_steps: Option<bool>,
    pub no_touch_onboarding: Option<bool>,
    /// 1 to 720.
    #[schema(minimum = 1, maximum = 720)]
    pub joiner_window_hours: Option<i64>,
    /// `RemoveAccess` or `Keep`.
    #[schema(example = "Keep")]
    pub group_leave_action: Option<String>,
    /// `RemoveAccess` or `RevokeAtOnce`.
    #[schema(example = "RevokeAtOnce")]
    pub leaver_access_action: Option<String>,
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
        (status = 400, description = "Malformed body, an unknown setting or value, or joinerWindowHours outside 1..=720", body = ProblemDetails),
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
        no_touch_onboarding: body.no_touch_onboarding,
        joiner_window_hours: body.joiner_window_hours,
        group_leave_action: parse(body.group_leave_action.as_deref(), GroupLeaveAction::parse)?,
        leaver_access_action: parse(
            body.leaver_access_action.as_deref(),
            LeaverAccessAction::parse,
        )?,
    };
    let settings = state.service.update_organization_settings(&ctx, patch).await?;
    Ok(Json(Record::new(settings.into(), SETTINGS.to_string())))
}

/// A given enum setting, parsed with its exact spelling (400 for any other value).
fn parse<T>(
    given: Option<&str>,
    parse: fn(&str) -> Result<T, portcullis_domain::DomainError>,
) -> Result<Option<T>, ApiError> {
    given.map(parse).transpose().map_err(|e| ApiError::bad_request(e.to_string()))
}
