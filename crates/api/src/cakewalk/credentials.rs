//! Extensions: organization API credentials and users' personal tokens.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::{AccessLevel, ApiCredential};
use portcullis_service::secrets::api_key;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Links, List, NoQuery, Record};
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_credentials, create_api_credential))
        .routes(routes!(revoke_api_credential))
        .routes(routes!(create_user_token))
        .routes(routes!(revoke_user_token))
}

const CREDENTIALS: &str = "/api/v1/ApiCredentials";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiCredentialView {
    pub id: Uuid,
    pub name: String,
    /// The `X-API-KEY` value (an identifier, not a secret).
    pub api_key: String,
    /// `ReadWrite` or `ReadOnly`.
    pub access_level: &'static str,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The `X-API-SECRET`: present only in the response that created the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<String>,
}

impl From<ApiCredential> for ApiCredentialView {
    fn from(c: ApiCredential) -> Self {
        Self {
            api_key: api_key(c.id),
            id: c.id,
            name: c.name,
            access_level: c.access_level.name(),
            created_at: c.created_at,
            revoked_at: c.revoked_at,
            api_secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiCredentialBody {
    pub name: String,
    /// `ReadWrite` (default) or `ReadOnly`; cannot be changed later.
    pub access_level: Option<String>,
}

/// Lists the organization's API credentials (secrets are never shown again).
#[utoipa::path(
    get,
    path = "/api/v1/ApiCredentials",
    tag = "ApiCredentials",
    security(("API Key" = [], "API Secret" = [])),
    responses((status = 200, body = List<ApiCredentialView>), (status = 401, body = ProblemDetails))
)]
pub async fn list_api_credentials(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<List<ApiCredentialView>>, ApiError> {
    let creds = state.service.list_api_credentials(&ctx).await?;
    Ok(Json(List {
        data: creds.into_iter().map(Into::into).collect(),
        links: Links { self_link: CREDENTIALS.into(), next: None },
    }))
}

/// Creates an API credential; the response is the only time `apiSecret` is shown.
#[utoipa::path(
    post,
    path = "/api/v1/ApiCredentials",
    tag = "ApiCredentials",
    request_body = CreateApiCredentialBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<ApiCredentialView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
    )
)]
pub async fn create_api_credential(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateApiCredentialBody>,
) -> Result<(StatusCode, Json<Record<ApiCredentialView>>), ApiError> {
    let level = body
        .access_level
        .as_deref()
        .map(AccessLevel::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .unwrap_or(AccessLevel::ReadWrite);
    let issued = state.service.create_api_credential(&ctx, &body.name, level).await?;
    let link = format!("{CREDENTIALS}/{}", issued.credential.id);
    let mut view = ApiCredentialView::from(issued.credential);
    view.api_secret = Some(issued.api_secret);
    Ok((StatusCode::CREATED, Json(Record::new(view, link))))
}

/// Revokes an API credential at once.
#[utoipa::path(
    delete,
    path = "/api/v1/ApiCredentials/{credentialId}",
    tag = "ApiCredentials",
    params(("credentialId" = Uuid, Path, description = "The credential's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn revoke_api_credential(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_api_credential(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTokenView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The bearer token: shown only in this response.
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserTokenBody {
    pub name: String,
    /// Optional expiry (RFC 3339, in the future).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Issues a personal bearer token to a user (for the Flashback-style API).
#[utoipa::path(
    post,
    path = "/api/v1/users/{userId}/Tokens",
    tag = "Users",
    params(("userId" = Uuid, Path, description = "The user's id")),
    request_body = CreateUserTokenBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<UserTokenView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "User is deactivated", body = ProblemDetails),
    )
)]
pub async fn create_user_token(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateUserTokenBody>,
) -> Result<(StatusCode, Json<Record<UserTokenView>>), ApiError> {
    let issued =
        state.service.create_user_token(&ctx, user_id, &body.name, body.expires_at).await?;
    let t = issued.token;
    let link = format!("/api/v1/users/{user_id}/Tokens/{}", t.id);
    let view = UserTokenView {
        id: t.id,
        user_id: t.user_id,
        name: t.name,
        created_at: t.created_at,
        expires_at: t.expires_at,
        token: issued.value,
    };
    Ok((StatusCode::CREATED, Json(Record::new(view, link))))
}

/// Revokes one of a user's tokens.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{userId}/Tokens/{tokenId}",
    tag = "Users",
    params(
        ("userId" = Uuid, Path, description = "The user's id"),
        ("tokenId" = Uuid, Path, description = "The token's id"),
    ),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn revoke_user_token(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath((user_id, token_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.service.revoke_user_token(&ctx, user_id, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
