//! Extractors: authentication for both API styles, and JSON/path/query extractors whose
//! rejections become [`ApiError`]s (400, not axum's 422 or plain text).
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use portcullis_service::{Ctx, ServiceError};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

pub(crate) fn request_id(parts: &Parts) -> Option<String> {
    parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A caller authenticated with `X-API-KEY` + `X-API-SECRET` (the Cakewalk API).
pub struct ApiCaller(pub Ctx);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (Some(key), Some(secret)) =
            (header(&parts.headers, "x-api-key"), header(&parts.headers, "x-api-secret"))
        else {
            return Err(ServiceError::Unauthenticated(
                "The X-API-KEY and X-API-SECRET headers are required.".into(),
            )
            .into());
        };
        let actor = state.service.authenticate_api(key, secret).await?;
        // Only now, with the secret verified, does the request count against the key's quota.
        if let portcullis_service::ActorKind::Credential { id, .. } = actor.kind {
            crate::limits::count_identity(state, &format!("key:{id}"))?;
        }
        // A read-only key is refused on any write before its body is even read (as ASP.NET
        // authorizes before model binding), so a malformed body cannot turn the 403 into a 400.
        // The services check it again for every write they carry out.
        if !parts.method.is_safe() {
            actor.require_write()?;
        }
        Ok(ApiCaller(Ctx::new(actor, request_id(parts))))
    }
}

/// A user authenticated with `Authorization: Bearer <token>` (the Flashback API).
pub struct BearerCaller(pub Ctx);

impl FromRequestParts<AppState> for BearerCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = header(&parts.headers, "authorization")
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(|| ServiceError::Unauthenticated("Authentication required".into()))?;
        let actor = state.service.authenticate_bearer(token).await?;
        // Per token, and only once the token is verified.
        if let Some((token_id, _)) = portcullis_service::secrets::parse_bearer_token(token) {
            crate::limits::count_identity(state, &format!("token:{token_id}"))?;
        }
        Ok(BearerCaller(Ctx::new(actor, request_id(parts))))
    }
}

/// A caller with either an API credential or a bearer token (task decisions and requests can be
/// made by an integration or by a person).
pub struct AnyCaller(pub Ctx);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if header(&parts.headers, "authorization").is_some()
            && header(&parts.headers, "x-api-key").is_none()
        {
            let BearerCaller(ctx) = BearerCaller::from_request_parts(parts, state).await?;
            return Ok(AnyCaller(ctx));
        }
        let ApiCaller(ctx) = ApiCaller::from_request_parts(parts, state).await?;
        Ok(AnyCaller(ctx))
    }
}

/// An optional JSON body: empty means `T::default()`; otherwise it must parse (400 if not).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A body without a Content-Type is read as JSON (as it always was); one that says it is
        // something else is refused like any other body.
        let declared = req.headers().contains_key(header::CONTENT_TYPE);
        let json = is_json_body(req.headers());
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if declared && !json {
            return Err(not_json());
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| ApiError::bad_request(format!("Failed to parse the JSON body: {e}")))
    }
}

/// `Json<T>` whose failures are 400 (bad JSON or schema), 415 (not JSON) or 413 (too large).
///
/// JSON is what ASP.NET accepts: `application/json`, `text/json` and `application/*+json`
/// (`application/problem+json`, `application/merge-patch+json`, …), with any parameters.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_body(req.headers()) {
            return Err(not_json());
        }
        let bytes = body_bytes(req, state).await?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(ApiJson(value))
    }
}

/// Is the body declared as JSON (`application/json`, `text/json`, `application/*+json`)?
pub(crate) fn is_json_body(headers: &HeaderMap) -> bool {
    let Some(content_type) = header(headers, header::CONTENT_TYPE.as_str()) else { return false };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", "json")) | Some(("text", "json")) => true,
        Some(("application", subtype)) => subtype.ends_with("+json") && subtype.len() > 5,
        _ => false,
    }
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "The body must be JSON: Content-Type application/json, text/json or application/*+json.",
    )
}

/// The whole body (413 over the body limit).
pub(crate) async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))
}

/// `Path<T>` whose failures (e.g. a malformed uuid) are 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// `Query<T>` that accepts exactly the parameters `T` reads, and whose failures are 400.
///
/// The accepted names are the fields serde deserializes `T` from (so they cannot drift from the
/// struct, and the OpenAPI parameters derived from the same struct name the same ones). A name
/// `T` does not read is refused with a 400 naming the accepted ones, never ignored. As in
/// ASP.NET, names match case-insensitively, and where `T` reads `cursor`, the JSON:API spelling
/// `page[cursor]` is the same parameter (the pagination docs write `links.next` that way).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(names) = crate::query::struct_fields::<T>() else {
            tracing::error!(query = std::any::type_name::<T>(), "query type is not a plain struct");
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An internal error occurred.",
            ));
        };
        let canonical = crate::query::canonical(parts.uri.query().unwrap_or_default(), names)?;
        crate::query::deserialize(&canonical).map(ApiQuery)
    }
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}
