//! `/api/v1/ScimTokens` (extension): the bearer tokens an identity provider uses to sync the
//! directory over SCIM (`/scim/v2`).
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::ScimToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Links, List, NoQuery, Record};
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{AnyCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scim_tokens, create_scim_token))
        .routes(routes!(revoke_scim_token))
}

const SCIM_TOKENS: &str = "/api/v1/ScimTokens";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimTokenView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// When the identity provider last used it (refreshed at most every 5 minutes).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The bearer token the identity provider sends: present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ScimToken> for ScimTokenView {
    fn from(t: ScimToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            token: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateScimTokenBody {
    /// A label, e.g. "Okta".
    pub name: String,
}

/// Lists the organization's SCIM tokens (their values are never shown again).
#[utoipa::path(
    get,
    path = "/api/v1/ScimTokens",
    tag = "ScimTokens",
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = List<ScimTokenView>),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn list_scim_tokens(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<List<ScimTokenView>>, ApiError> {
    let tokens = state.service.list_scim_tokens(&ctx).await?;
    Ok(Json(List {
        data: tokens.into_iter().map(Into::into).collect(),
        links: Links { self_link: SCIM_TOKENS.into(), next: None },
    }))
}

/// Creates a SCIM token; the response is the only time its value is shown. Give it to the
/// identity provider as the bearer token of the SCIM connection (base URL `{server}/scim/v2`).
#[utoipa::path(
    post,
    path = "/api/v1/ScimTokens",
    tag = "ScimTokens",
    request_body = CreateScimTokenBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 201, body = Record<ScimTokenView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key, or not an administrator", body = ProblemDetails),
    )
)]
pub async fn create_scim_token(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<CreateScimTokenBody>,
) -> Result<(StatusCode, Json<Record<ScimTokenView>>), ApiError> {
    let issued = state.service.create_scim_token(&ctx, &body.name).await?;
    let link = format!("{SCIM_TOKENS}/{}", issued.token.id);
    let mut view = ScimTokenView::from(issued.token);
    view.token = Some(issued.value);
    Ok((StatusCode::CREATED, Json(Record::new(view, link))))
}

/// Revokes a SCIM token: the identity provider's next call is refused (401).
#[utoipa::path(
    delete,
    path = "/api/v1/ScimTokens/{scimTokenId}",
    tag = "ScimTokens",
    params(("scimTokenId" = Uuid, Path, description = "The SCIM token's id")),
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "Already revoked", body = ProblemDetails),
    )
)]
pub async fn revoke_scim_token(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_scim_token(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
