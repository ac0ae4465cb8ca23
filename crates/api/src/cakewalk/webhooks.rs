//! `/api/v1/Webhooks` (subscriptions and deliveries), `/api/Keys` and `/api/v1/AuditLog`.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{AuditEvent, Delivery, DeliveryAttempt, WebhookSubscription};
use portcullis_service::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{path_with_filters, CursorQuery, Links, List, NoQuery, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
        .routes(routes!(public_key))
        .routes(routes!(audit_log))
}

const WEBHOOKS: &str = "/api/v1/Webhooks";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: Uuid,
    /// The receiving URL; credentials in it (user info, secret-looking query values) are
    /// shown as `***`.
    pub target_url: String,
    pub events: Vec<String>,
    pub description: String,
    /// False once disabled after failing for 5 days.
    pub enabled: bool,
    pub failing_since: Option<DateTime<Utc>>,
    /// Set while the subscription's deliveries pause after failing again and again (circuit
    /// breaker): none is sent before this time, then one probe. `…/Test` and `…/Retry` end it.
    pub paused_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Standard Webhooks signing secret (`whsec_…`): only in the creation response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<WebhookSubscription> for WebhookView {
    fn from(s: WebhookSubscription) -> Self {
        Self {
            id: s.id,
            target_url: s.target_url,
            events: s.events,
            description: s.description,
            enabled: s.enabled,
            failing_since: s.failing_since,
            paused_until: s.paused_until,
            created_at: s.created_at,
            secret: None,
        }
    }
}

/// Most event types one subscription may list.
const MAX_EVENTS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// http:// or https:// URL that receives POSTs, on a public address (unless the server allows
    /// others). Credentials in it are stored encrypted and shown masked.
    pub target_url: String,
    /// Event types to receive (see the README for the list).
    #[schema(value_type = Vec<String>, max_items = 100)]
    pub events: BoundedVec<String, MAX_EVENTS>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The POST's id: its `webhook-id` header, the same on each retry.
    pub id: Uuid,
    /// The first event the POST carries (a POST carries up to 100 events).
    pub event_id: Uuid,
    pub event_type: String,
    /// Every event the POST carries, in the order of its body.
    pub event_ids: Vec<Uuid>,
    pub event_count: usize,
    /// `Pending`, `Delivered` or `Failed` (given up).
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempt_history: Vec<AttemptView>,
}

fn delivery_view((d, attempts): (Delivery, Vec<DeliveryAttempt>)) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        event_count: d.event_ids.len(),
        event_ids: d.event_ids,
        status: d.status.name(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
        attempt_history: attempts
            .into_iter()
            .map(|a| AttemptView {
                attempt: a.attempt,
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `credential`, `user` or `system`.
    pub actor_type: &'static str,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// The user the actor named as acting for (`userId`, `createdByUserId`,
    /// `triggeredByUserId`) when that is not the actor itself; `actorId` stays the real actor.
    pub on_behalf_of_user_id: Option<Uuid>,
    /// `mcp` when the call came from an AI assistant over the MCP server; absent for the API and
    /// the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The MCP client that made the call (its registered name, or its `User-Agent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        let parse = |s: Option<String>| s.and_then(|t| serde_json::from_str(&t).ok());
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_type: e.actor.kind(),
            actor_id: e.actor.id(),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: parse(e.before),
            after: parse(e.after),
            request_id: e.request_id,
            on_behalf_of_user_id: e.on_behalf_of,
            source: e.source.as_ref().map(|s| s.source.clone()),
            client_name: e.source.map(|s| s.client_name),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub cursor: Option<String>,
    /// Id of the credential or user that acted.
    pub actor: Option<Uuid>,
    /// Id of the changed object.
    pub target: Option<Uuid>,
    /// An action (`user.created`) or a prefix (`user`).
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

/// Lists webhook subscriptions (secrets are never shown again).
#[utoipa::path(
    get, path = "/api/v1/Webhooks", tag = "Webhooks",
    security(("API Key" = [], "API Secret" = [])),
    responses((status = 200, body = List<WebhookView>), (status = 401, body = ProblemDetails))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<List<WebhookView>>, ApiError> {
    let subs = state.service.list_subscriptions(&ctx).await?;
    Ok(Json(List {
        data: subs.into_iter().map(Into::into).collect(),
        links: Links { self_link: WEBHOOKS.into(), next: None },
    }))
}

/// Subscribes a URL to events; the response is the only time `secret` is shown.
#[utoipa::path(
    post, path = "/api/v1/Webhooks", tag = "Webhooks", request_body = CreateWebhookBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<WebhookView>),
        (status = 400, description = "Not an http(s) URL, an address the egress policy refuses (loopback, private, link-local…), unknown or no event types", body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails),
        (status = 409, description = "The organization has as many webhooks as allowed (`--max-webhooks-per-org`, default 25)", body = ProblemDetails),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateWebhookBody>,
) -> Result<(StatusCode, Json<Record<WebhookView>>), ApiError> {
    let created = state
        .service
        .create_subscription(&ctx, &body.target_url, &body.events, body.description.as_deref())
        .await?;
    let link = format!("{WEBHOOKS}/{}", created.subscription.id);
    let mut view = WebhookView::from(created.subscription);
    view.secret = Some(created.secret);
    Ok((StatusCode::CREATED, Json(Record::new(view, link))))
}

/// Deletes a subscription; undelivered events are no longer sent to it.
#[utoipa::path(
    delete, path = "/api/v1/Webhooks/{webhookId}", tag = "Webhooks",
    params(("webhookId" = Uuid, Path, description = "The subscription's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Deleted"), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_subscription(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the `test` event (`{"message":"Hello, World!"}`) to this subscription.
#[utoipa::path(
    post, path = "/api/v1/Webhooks/{webhookId}/Test", tag = "Webhooks",
    params(("webhookId" = Uuid, Path, description = "The subscription's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 202, description = "Queued", body = Record<DeliveryView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn test_webhook(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<Record<DeliveryView>>), ApiError> {
    let delivery = state.service.test_subscription(&ctx, id).await?;
    let link = format!("{WEBHOOKS}/{id}/Deliveries");
    Ok((StatusCode::ACCEPTED, Json(Record::new(delivery_view((delivery, Vec::new())), link))))
}

/// Deliveries of a subscription with their attempts, status codes and next retry.
#[utoipa::path(
    get, path = "/api/v1/Webhooks/{webhookId}/Deliveries", tag = "Webhooks",
    params(("webhookId" = Uuid, Path, description = "The subscription's id"), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<DeliveryView>), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<DeliveryView>>, ApiError> {
    let page = state.service.list_deliveries(&ctx, id, query.page()?).await?;
    Ok(Json(List::from_page(page, &format!("{WEBHOOKS}/{id}/Deliveries"), &query, delivery_view)))
}

/// Makes a delivery due again now (also one that was given up).
#[utoipa::path(
    post, path = "/api/v1/Webhooks/{webhookId}/Deliveries/{deliveryId}/Retry", tag = "Webhooks",
    params(("webhookId" = Uuid, Path, description = "The subscription's id"), ("deliveryId" = Uuid, Path, description = "The delivery's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 202, description = "Queued"), (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails), (status = 403, body = ProblemDetails), (status = 404, body = ProblemDetails),
    )
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((id, delivery_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.service.retry_delivery(&ctx, id, delivery_id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The organization's RSA public key (PEM) for verifying webhook `X-SIGNATURE` headers.
#[utoipa::path(
    get, path = "/api/Keys", tag = "Webhooks",
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, description = "PEM-encoded SubjectPublicKeyInfo", content_type = "application/x-pem-file", body = String),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn public_key(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
) -> Result<impl IntoResponse, ApiError> {
    let pem = state.service.public_key_pem(&ctx).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem))
}

/// The append-only audit log, oldest first, 100 per page.
#[utoipa::path(
    get, path = "/api/v1/AuditLog", tag = "AuditLog", params(AuditQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses((status = 200, body = List<AuditEventView>), (status = 400, body = ProblemDetails), (status = 401, body = ProblemDetails))
)]
pub async fn audit_log(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<List<AuditEventView>>, ApiError> {
    let path = path_with_filters(
        "/api/v1/AuditLog",
        &[
            ("actor", query.actor.map(|a| a.to_string())),
            ("target", query.target.map(|t| t.to_string())),
            ("action", query.action.clone()),
            ("since", query.since.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))),
        ],
    );
    if query.action.as_deref().is_some_and(|a| a.chars().any(char::is_control) || a.len() > 200) {
        return Err(ApiError::bad_request(
            "action must be a short action name such as user.created",
        ));
    }
    let filter = AuditFilter {
        actor_id: query.actor,
        target_id: query.target,
        action: query.action,
        since: query.since,
    };
    let cursor = CursorQuery { cursor: query.cursor };
    let page = state.service.audit_log(&ctx, filter, cursor.page()?).await?;
    Ok(Json(List::from_page(page, &path, &cursor, AuditEventView::from)))
}
