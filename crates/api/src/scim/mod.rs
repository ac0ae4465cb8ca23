//! `/scim/v2`: a SCIM 2.0 service provider (RFC 7643/7644) for identity providers such as Okta
//! and Microsoft Entra ID. Its own wire style: `application/scim+json`, the SCIM error body,
//! offset pages (`startIndex`/`count`), and the organization's SCIM bearer token.
//!
//! Discovery (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`) is public: it describes the
//! protocol, not any organization's data.
mod discovery;
mod resources;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use portcullis_service::{Ctx, ServiceError};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{body_bytes, header as header_str, is_json_body, request_id};
use crate::AppState;

pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/.search", post(resources::search_all))
        .route("/scim/v2/Users", get(resources::list_users).post(resources::create_user))
        .route("/scim/v2/Users/.search", post(resources::search_users))
        .route(
            "/scim/v2/Users/{id}",
            get(resources::get_user)
                .put(resources::replace_user)
                .patch(resources::patch_user)
                .delete(resources::delete_user),
        )
        .route("/scim/v2/Groups", get(resources::list_groups).post(resources::create_group))
        .route("/scim/v2/Groups/.search", post(resources::search_groups))
        .route(
            "/scim/v2/Groups/{id}",
            get(resources::get_group)
                .put(resources::replace_group)
                .patch(resources::patch_group)
                .delete(resources::delete_group),
        )
}

/// The identity provider, authenticated with `Authorization: Bearer <SCIM token>`.
pub struct ScimCaller(pub Ctx);

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = header_str(&parts.headers, "authorization")
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(|| {
                ServiceError::Unauthenticated(
                    "Authorization: Bearer <SCIM token> is required".into(),
                )
            })?;
        let actor = state.service.authenticate_scim(token).await?;
        if let portcullis_service::ActorKind::Scim { token_id } = actor.kind {
            crate::limits::count_identity(state, &format!("scim:{token_id}"))?;
        }
        Ok(ScimCaller(Ctx::new(actor, request_id(parts))))
    }
}

/// A SCIM request body: JSON declared as `application/scim+json` or `application/json` (or
/// undeclared). Malformed JSON is `400 invalidSyntax`.
pub struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) && !is_json_body(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The body must be application/scim+json (or application/json)",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        serde_json::from_slice(&bytes).map(ScimBody).map_err(|e| {
            let mut error = ApiError::bad_request(format!("The body is not valid JSON: {e}"));
            error.scim_type = Some("invalidSyntax");
            error
        })
    }
}

/// A SCIM response: the body as `application/scim+json`, with `Location` when it is a resource.
pub struct ScimJson {
    pub status: StatusCode,
    pub body: Value,
}

impl ScimJson {
    pub fn ok(body: Value) -> Self {
        Self { status: StatusCode::OK, body }
    }
}

impl IntoResponse for ScimJson {
    fn into_response(self) -> Response {
        let location = self.body["meta"]["location"].as_str().map(str::to_string);
        let bytes = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// The absolute base of the SCIM endpoint as the caller reached it (`meta.location` and member
/// `$ref`s are absolute URLs, RFC 7643 §3.1).
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = header_str(&parts.headers, "host")
            .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c)))
            .unwrap_or("localhost");
        let scheme = match header_str(&parts.headers, "x-forwarded-proto") {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        Ok(BaseUrl(format!("{scheme}://{host}/scim/v2")))
    }
}

/// A SCIM error raised in this layer.
fn scim_error(status: StatusCode, scim_type: &'static str, detail: impl Into<String>) -> ApiError {
    let mut error = ApiError::new(status, detail);
    error.scim_type = Some(scim_type);
    error
}

impl From<portcullis_domain::scim::ScimError> for ApiError {
    fn from(err: portcullis_domain::scim::ScimError) -> Self {
        ServiceError::Scim(err).into()
    }
}
