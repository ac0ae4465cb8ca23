//! Notifications (extension): `/api/v1/NotificationSettings` (the organization's Slack URL,
//! reminders, digest and overrides) and `/api/v1/users/{userId}/NotificationPreferences` (one
//! person's choices by category and channel).
use axum::extract::State;
use axum::Json;
use portcullis_domain::{
    NotificationCategory, NotificationChannel, NotificationPreference, NotificationSettingsPatch,
};
use portcullis_service::{NotificationSettingsView, PreferenceView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{NoQuery, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{AnyCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_notification_settings, update_notification_settings))
        .routes(routes!(get_notification_preferences, update_notification_preferences))
}

const SETTINGS: &str = "/api/v1/NotificationSettings";
/// Categories (8) times channels (2).
const MAX_CHOICES: usize = 16;
const MAX_CATEGORIES: usize = 8;
const MAX_CHANNELS: usize = 2;

/// The organization's notification settings. The Slack URL is a secret: it is never shown,
/// only whether one is set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettingsResponse {
    /// Is a Slack incoming-webhook URL set (notifications are then also posted to Slack)?
    pub slack_webhook_configured: bool,
    /// Remind the assignees of a task open longer than this, once per period (hours, 1 to 720;
    /// default 24).
    #[schema(minimum = 1, maximum = 720)]
    pub task_reminder_hours: i64,
    /// Send each person with open tasks one digest a day (default false).
    pub digest_enabled: bool,
    /// Categories nobody receives.
    pub disabled_categories: Vec<&'static str>,
    /// Channels (`Email`, `Slack`) nobody receives anything on.
    pub disabled_channels: Vec<&'static str>,
    /// Categories people cannot turn off.
    pub mandatory_categories: Vec<&'static str>,
}

impl From<NotificationSettingsView> for NotificationSettingsResponse {
    fn from(v: NotificationSettingsView) -> Self {
        let s = v.settings;
        Self {
            slack_webhook_configured: v.slack_webhook_configured,
            task_reminder_hours: s.task_reminder_hours,
            digest_enabled: s.digest_enabled,
            disabled_categories: s.disabled_categories.iter().map(|c| c.name()).collect(),
            disabled_channels: s.disabled_channels.iter().map(|c| c.name()).collect(),
            mandatory_categories: s.mandatory_categories.iter().map(|c| c.name()).collect(),
        }
    }
}

/// Body of `PATCH /api/v1/NotificationSettings`: only the settings present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettingsBody {
    /// The Slack incoming-webhook URL (`https://hooks.slack.com/services/…`), stored encrypted
    /// and never shown; `""` removes it. Checked against the server's egress policy like webhook
    /// targets.
    pub slack_webhook_url: Option<String>,
    #[schema(minimum = 1, maximum = 720)]
    pub task_reminder_hours: Option<i64>,
    pub digest_enabled: Option<bool>,
    /// Categories: `TaskAssigned`, `RequestDecided`, `RequestCompleted`, `ReviewStarted`,
    /// `ReviewDueSoon`, `ActionTaskWaiting`, `TaskReminder`, `Digest`.
    #[schema(value_type = Option<Vec<String>>, max_items = 8)]
    pub disabled_categories: Option<BoundedVec<String, MAX_CATEGORIES>>,
    /// `Email`, `Slack`.
    #[schema(value_type = Option<Vec<String>>, max_items = 2)]
    pub disabled_channels: Option<BoundedVec<String, MAX_CHANNELS>>,
    #[schema(value_type = Option<Vec<String>>, max_items = 8)]
    pub mandatory_categories: Option<BoundedVec<String, MAX_CATEGORIES>>,
}

/// One person's choice for one category on one channel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceResponse {
    #[schema(example = "TaskAssigned")]
    pub category: &'static str,
    #[schema(example = "Email")]
    pub channel: &'static str,
    /// The person's choice (default true).
    pub enabled: bool,
    /// The organization makes this category mandatory: it is delivered whatever `enabled` says.
    pub mandatory: bool,
    /// Whether it is delivered, after the organization's overrides.
    pub effective: bool,
}

impl From<PreferenceView> for PreferenceResponse {
    fn from(p: PreferenceView) -> Self {
        Self {
            category: p.category.name(),
            channel: p.channel.name(),
            enabled: p.enabled,
            mandatory: p.mandatory,
            effective: p.effective,
        }
    }
}

/// Every category on every channel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesResponse {
    pub preferences: Vec<PreferenceResponse>,
}

/// One choice to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferenceChoice {
    #[schema(example = "Digest")]
    pub category: String,
    #[schema(example = "Email")]
    pub channel: String,
    pub enabled: bool,
}

/// Body of `PATCH …/NotificationPreferences`: the choices to set (the others stay).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesBody {
    #[schema(value_type = Vec<PreferenceChoice>, max_items = 16)]
    pub preferences: BoundedVec<PreferenceChoice, MAX_CHOICES>,
}

/// The organization's notification settings (API credentials, and administrators and owners
/// with a bearer token).
#[utoipa::path(
    get,
    path = "/api/v1/NotificationSettings",
    tag = "Notifications",
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<NotificationSettingsResponse>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "A user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn get_notification_settings(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<Record<NotificationSettingsResponse>>, ApiError> {
    let settings = state.service.notification_settings(&ctx).await?;
    Ok(Json(Record::new(settings.into(), SETTINGS.to_string())))
}

/// Changes notification settings (a read-write credential, or an administrator or owner with a
/// bearer token); audited as `notification_settings.updated` (the Slack URL only as
/// `slackWebhookConfigured`).
#[utoipa::path(
    patch,
    path = "/api/v1/NotificationSettings",
    tag = "Notifications",
    request_body = NotificationSettingsBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<NotificationSettingsResponse>),
        (status = 400, description = "Malformed body, an unknown property, category or channel, taskReminderHours outside 1..=720, a category both disabled and mandatory, or a Slack URL that is not http(s) or that the egress policy refuses", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, or a user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn update_notification_settings(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<NotificationSettingsBody>,
) -> Result<Json<Record<NotificationSettingsResponse>>, ApiError> {
    let patch = NotificationSettingsPatch {
        slack_webhook_url: body.slack_webhook_url.map(|url| Some(url).filter(|u| !u.is_empty())),
        task_reminder_hours: body.task_reminder_hours,
        digest_enabled: body.digest_enabled,
        disabled_categories: parse_all(body.disabled_categories, NotificationCategory::parse)?,
        disabled_channels: parse_all(body.disabled_channels, NotificationChannel::parse)?,
        mandatory_categories: parse_all(body.mandatory_categories, NotificationCategory::parse)?,
    };
    let settings = state.service.update_notification_settings(&ctx, patch).await?;
    Ok(Json(Record::new(settings.into(), SETTINGS.to_string())))
}

/// A person's notification preferences: every category on every channel, with the
/// organization's overrides. The person themself, an administrator or owner, or a credential.
#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}/NotificationPreferences",
    tag = "Notifications",
    params(("userId" = Uuid, Path, description = "The user's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<PreferencesResponse>),
        (status = 400, description = "Malformed id", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "A user asking for someone else's preferences who is not an administrator or owner", body = ProblemDetails),
        (status = 404, description = "No such user in this organization", body = ProblemDetails),
    )
)]
pub async fn get_notification_preferences(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<Record<PreferencesResponse>>, ApiError> {
    let prefs = state.service.notification_preferences(&ctx, user_id).await?;
    Ok(Json(record(prefs, user_id)))
}

/// Sets some of a person's choices (the others stay); audited as
/// `notification_preferences.updated`. The person themself, an administrator or owner, or a
/// read-write credential.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{userId}/NotificationPreferences",
    tag = "Notifications",
    params(("userId" = Uuid, Path, description = "The user's id")),
    request_body = PreferencesBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<PreferencesResponse>),
        (status = 400, description = "Malformed body or id, an unknown property, category or channel, more than 16 choices", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, or a user changing someone else's preferences who is not an administrator or owner", body = ProblemDetails),
        (status = 404, description = "No such user in this organization", body = ProblemDetails),
    )
)]
pub async fn update_notification_preferences(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PreferencesBody>,
) -> Result<Json<Record<PreferencesResponse>>, ApiError> {
    let mut choices = Vec::new();
    for (i, c) in body.preferences.into_inner().into_iter().enumerate() {
        let bad = |e: portcullis_domain::DomainError| {
            ApiError::bad_request(format!("preferences[{i}]: {e}"))
        };
        choices.push(NotificationPreference {
            category: NotificationCategory::parse(&c.category).map_err(bad)?,
            channel: NotificationChannel::parse(&c.channel).map_err(bad)?,
            enabled: c.enabled,
        });
    }
    let prefs = state.service.update_notification_preferences(&ctx, user_id, &choices).await?;
    Ok(Json(record(prefs, user_id)))
}

fn record(prefs: Vec<PreferenceView>, user_id: Uuid) -> Record<PreferencesResponse> {
    Record::new(
        PreferencesResponse { preferences: prefs.into_iter().map(Into::into).collect() },
        format!("/api/v1/users/{user_id}/NotificationPreferences"),
    )
}

/// Every name of a given list, parsed with its exact spelling (400 for any other value).
fn parse_all<T, const N: usize>(
    given: Option<BoundedVec<String, N>>,
    parse: fn(&str) -> Result<T, portcullis_domain::DomainError>,
) -> Result<Option<Vec<T>>, ApiError> {
    given
        .map(|names| names.into_inner().iter().map(|n| parse(n)).collect::<Result<Vec<T>, _>>())
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}
