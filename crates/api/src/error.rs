//! Errors: status mapping ([`ApiError`]) and body shape ([`error_envelope`]), each in one place.
use axum::body::{to_bytes, Body};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portcullis_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error on its way out: a status and a human-readable message. The body is written by
/// [`error_envelope`] in the style of the API that was called.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The ProblemDetails `title`, when it is not the status's reason phrase.
    pub title: Option<&'static str>,
    /// Keys the Flashback API documents beside `success` and `message` on some errors (e.g.
    /// `data: null`, or `data: []` and `total: 0` on a list).
    pub flashback_extra: Option<serde_json::Map<String, serde_json::Value>>,
    /// `Retry-After` seconds (a 429).
    pub retry_after: Option<u64>,
    /// The SCIM error's `scimType` (RFC 7644 §3.12), for errors of the `/scim/v2` API.
    pub scim_type: Option<&'static str>,
}

/// Cakewalk's title for a read-only API key's write (its docs show it with the detail
/// "This API key is read-only and cannot perform write operations.").
pub const READ_ONLY_TITLE: &str = "Forbidden operation";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            title: None,
            flashback_extra: None,
            retry_after: None,
            scim_type: None,
        }
    }

    /// Answers with `Retry-After: seconds`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Uses the operation's documented message for errors of `status` (the service's own
    /// wording is for logs and the other API style).
    pub fn reword(mut self, status: StatusCode, message: &str) -> Self {
        if self.status == status {
            self.message = message.to_string();
        }
        self
    }

    /// Adds documented keys to the Flashback error body.
    pub fn with_flashback_keys(mut self, keys: serde_json::Value) -> Self {
        if let serde_json::Value::Object(map) = keys {
            self.flashback_extra = Some(map);
        }
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let status = match &err {
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::ReadOnlyCredential => {
                let mut error = Self::new(StatusCode::FORBIDDEN, err.to_string());
                error.title = Some(READ_ONLY_TITLE);
                return error;
            }
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ServiceError::Scim(scim) => {
                let status = StatusCode::from_u16(scim.status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut error = Self::new(status, scim.detail.clone());
                error.scim_type = scim.scim_type.map(|t| t.as_str());
                return error;
            }
            ServiceError::Internal(_) | ServiceError::Crypto(_) => {
                tracing::error!(error = %err, "internal error");
                return Self::new(StatusCode::INTERNAL_SERVER_ERROR, "An internal error occurred.");
            }
        };
        Self::new(status, err.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match &rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            // Malformed JSON and schema mismatches are both the client's bad request (not 422).
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// Marks a response as an error whose body is still to be written.
#[derive(Debug, Clone)]
struct PendingError {
    message: String,
    title: Option<&'static str>,
    flashback_extra: Option<serde_json::Map<String, serde_json::Value>>,
    scim_type: Option<&'static str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(seconds) = self.retry_after {
            crate::limits::set_retry_after(&mut response, seconds);
        }
        response.extensions_mut().insert(PendingError {
            message: self.message,
            title: self.title,
            flashback_extra: self.flashback_extra,
            scim_type: self.scim_type,
        });
        response
    }
}

/// RFC 7807 problem details, the Cakewalk error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// `https://httpstatuses.io/<status>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    pub instance: String,
}

/// The Flashback error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlashbackError {
    pub success: bool,
    pub message: String,
}

fn is_cakewalk_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The SCIM service provider's paths (matched case-insensitively, like every route).
pub fn is_scim_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower == "/scim/v2" || lower.starts_with("/scim/v2/")
}

/// RFC 7644 §3.12: the SCIM error body. A 400 without a more precise `scimType` is an
/// `invalidValue`; other conflicts (the last owner) carry none.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimErrorBody {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`
    pub schemas: Vec<String>,
    /// The HTTP status, as a string.
    pub status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    pub detail: String,
}

/// Gives every error response its API style's body: ProblemDetails under `/api`, `{success:false,
/// message}` elsewhere. It also catches errors produced outside our handlers (axum rejections,
/// unknown routes, 405, body limits) so a client never sees a plain-text error.
pub async fn error_envelope(request: Request, next: Next) -> Response {
    // A shared handle on the request's URI, not a copy: most responses are not errors.
    let uri = request.uri().clone();
    let path = uri.path();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let already_shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json") || ct.contains("html"));
    if already_shaped {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let reason = status.canonical_reason().unwrap_or("Error");
    let (message, title, flashback_extra, scim_type) =
        match parts.extensions.remove::<PendingError>() {
            Some(PendingError { message, title, flashback_extra, scim_type }) => {
                (message, title.unwrap_or(reason), flashback_extra, scim_type)
            }
            None => {
                let text = to_bytes(body, 64 * 1024).await.unwrap_or_default();
                let text = String::from_utf8_lossy(&text).trim().to_string();
                (if text.is_empty() { reason.to_string() } else { text }, reason, None, None)
            }
        };
    let (content_type, bytes) = if is_scim_path(path) {
        let scim_type = scim_type.or((status == StatusCode::BAD_REQUEST).then_some("invalidValue"));
        let body = ScimErrorBody {
            schemas: vec!["urn:ietf:params:scim:api:messages:2.0:Error".into()],
            status: status.as_u16().to_string(),
            scim_type: scim_type.map(str::to_string),
            detail: message,
        };
        ("application/scim+json", serde_json::to_vec(&body))
    } else if is_cakewalk_path(path) {
        let problem = ProblemDetails {
            kind: format!("https://httpstatuses.io/{}", status.as_u16()),
            title: title.to_string(),
            status: status.as_u16(),
            detail: message,
            instance: path.to_string(),
        };
        ("application/problem+json", serde_json::to_vec(&problem))
    } else {
        let mut body = serde_json::json!({ "success": false, "message": message });
        if let (Some(extra), Some(body)) = (flashback_extra, body.as_object_mut()) {
            body.extend(extra);
        }
        ("application/json", serde_json::to_vec(&body))
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.unwrap_or_default()))
}

/// Fallback for paths no route matches.
pub async fn unknown_route(request: Request) -> ApiError {
    ApiError::not_found(format!("No route for {} {}", request.method(), request.uri().path()))
}

/// Fallback for a known path called with the wrong method.
pub async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {} is not allowed on {}", request.method(), request.uri().path()),
    )
}
