//! The OAuth 2.1 authorization server's HTTP endpoints, for MCP clients that connect to `/mcp`
//! on a person's behalf. OAuth's own wire style: form-encoded requests at the token and
//! revocation endpoints, JSON answers, errors as `{"error", "error_description"}` (RFC 6749
//! §5.2, RFC 7591 §3.2.2), `Cache-Control: no-store` on everything that carries a secret.
//!
//! - `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728) and
//!   `GET /.well-known/oauth-authorization-server` (RFC 8414): where to go, what we support;
//! - `POST /oauth/register` (RFC 7591), `POST /oauth/token`, `POST /oauth/revoke` (RFC 7009);
//! - the authorization endpoint with its consent page is the web console's (`/oauth/authorize`).
//!
//! Rate limits: every request here counts per client address in its own bucket (the console's
//! per-minute budget), registrations in a stricter one (the sign-in budget); the service adds a
//! server-wide hourly cap on registrations. A wrong client secret is a 401, which the general
//! middleware counts as a failed authentication of the address.
use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use portcullis_domain::mcp::McpScope;
use portcullis_domain::oauth::{ClientMetadata, OAuthError, OAuthErrorCode};
use portcullis_service::{ClientCredentials, IssuedTokens, Service};
use serde::Deserialize;
use serde_json::json;

use crate::extract::header as header_str;
use crate::limits::ClientAddr;
use crate::{AppState, Bucket};

/// Largest registration or token request read (they are a few hundred bytes).
const MAX_OAUTH_BODY_BYTES: usize = 64 * 1024;

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-protected-resource", get(protected_resource))
        .route("/.well-known/oauth-protected-resource/mcp", get(protected_resource))
        .route("/.well-known/oauth-authorization-server", get(authorization_server))
        .route("/oauth/register", post(register))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit))
}

/// The base URL the server is reached at, no trailing slash: the configured public URL, else
/// the request's `Host` (plain `http`; only characters a host may have).
pub fn base_url(service: &Service, headers: &HeaderMap) -> String {
    if let Some(base) = service.public_base_url() {
        return base;
    }
    let host = header_str(headers, "host")
        .filter(|h| {
            !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Middleware: per-address rate limits (registrations more strictly); over them, a 429 in
/// OAuth's error shape with `Retry-After`.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let registering = request.uri().path() == "/oauth/register";
    let (bucket, limit) = if registering {
        (Bucket::OAuthRegistration, state.http.sign_ins_per_minute)
    } else {
        (Bucket::OAuth, state.http.console_per_minute)
    };
    if limit > 0 {
        let who = request.extensions().get::<ClientAddr>().map(ClientAddr::key).unwrap_or_default();
        if let Err(retry_after) = state.rate_limiter.hit(bucket, &who, limit) {
            let mut response = error_response(&OAuthError::new(
                OAuthErrorCode::TemporarilyUnavailable,
                format!("Too many requests from your address; retry after {retry_after} s."),
            ));
            crate::set_retry_after(&mut response, retry_after);
            return response;
        }
    }
    next.run(request).await
}

fn scope_names() -> Vec<&'static str> {
    McpScope::ALL.iter().map(|s| s.name()).collect()
}

/// A JSON answer that may be cached by nobody.
fn no_store_json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A metadata document: public, readable from any origin (browser-based MCP clients fetch it).
fn metadata_json(body: serde_json::Value) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// An OAuth error answer: 401 for `invalid_client`, 429 when busy, 500 for our own failure,
/// 400 otherwise.
fn error_response(error: &OAuthError) -> Response {
    let status = match error.code {
        OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::TOO_MANY_REQUESTS,
        OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({ "error": error.code.name(), "error_description": error.description });
    let mut response = no_store_json(status, body);
    if error.code == OAuthErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portcullis\""),
        );
    }
    response
}

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728).
async fn protected_resource(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state.service, &headers);
    metadata_json(json!({
        "resource": format!("{base}/mcp"),
        "authorization_servers": [base],
        "scopes_supported": scope_names(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Portcullis",
    }))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
async fn authorization_server(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state.service, &headers);
    metadata_json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "scopes_supported": scope_names(),
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// RFC 7591 §2: the metadata we read; anything else a client sends is ignored.
#[derive(Deserialize)]
struct RegistrationRequest {
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    client_name: Option<String>,
}

/// `POST /oauth/register` (RFC 7591): 201 with the client's id (and secret, for a confidential
/// client; shown only here).
async fn register(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = header_str(&headers, "content-type").is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return error_response(&OAuthError::new(
            OAuthErrorCode::InvalidClientMetadata,
            "The body must be application/json.",
        ));
    }
    if body.len() > MAX_OAUTH_BODY_BYTES {
        return error_response(&OAuthError::new(
            OAuthErrorCode::InvalidClientMetadata,
            format!("The body may be at most {MAX_OAUTH_BODY_BYTES} bytes."),
        ));
    }
    let request: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error_response(&OAuthError::new(
                OAuthErrorCode::InvalidClientMetadata,
                format!("The body is not valid client metadata: {e}"),
            ))
        }
    };
    let metadata = ClientMetadata {
        redirect_uris: request.redirect_uris,
        grant_types: request.grant_types,
        response_types: request.response_types,
        token_endpoint_auth_method: request.token_endpoint_auth_method,
        client_name: request.client_name,
    };
    let registered = match state.service.register_oauth_client(&metadata).await {
        Ok(registered) => registered,
        Err(e) => return error_response(&e),
    };
    let client = &registered.client;
    let mut body = json!({
        "client_id": client.id.to_string(),
        "client_id_issued_at": client.created_at.timestamp(),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types.iter().map(|g| g.name()).collect::<Vec<_>>(),
        "response_types": ["code"],
        "token_endpoint_auth_method": client.auth_method.name(),
        "scope": portcullis_domain::McpScopes::all().to_text(),
    });
    if let Some(secret) = registered.client_secret {
        body["client_secret"] = json!(secret);
        body["client_secret_expires_at"] = json!(0);
    }
    no_store_json(StatusCode::CREATED, body)
}

/// A form-encoded body's parameters; a repeated or unreadable one is `invalid_request`
/// (RFC 6749 §3.2: parameters must not be included more than once).
struct FormParams(Vec<(String, String)>);

impl FormParams {
    fn read(headers: &HeaderMap, body: &Bytes) -> Result<Self, OAuthError> {
        let is_form = header_str(headers, "content-type").is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "The body must be application/x-www-form-urlencoded.",
            ));
        }
        if body.len() > MAX_OAUTH_BODY_BYTES {
            return Err(OAuthError::invalid_request("The body is too large."));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| OAuthError::invalid_request("The body is not a readable form."))?;
        let mut seen = HashSet::new();
        for (name, _) in &pairs {
            if !seen.insert(name.as_str()) {
                return Err(OAuthError::invalid_request(format!("{name} is sent more than once")));
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }

    /// The client's credentials: `Authorization: Basic` (RFC 6749 §2.3.1: both parts
    /// form-encoded) or `client_id` / `client_secret` in the form, not both.
    fn client_credentials(&self, headers: &HeaderMap) -> Result<ClientCredentials, OAuthError> {
        let basic = header_str(headers, "authorization").and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
        let Some(encoded) = basic else {
            return Ok(ClientCredentials {
                client_id: self.get("client_id").map(str::to_string),
                client_secret: self.get("client_secret").map(str::to_string),
            });
        };
        if self.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "Use one way to authenticate the client, not Basic and client_secret both.",
            ));
        }
        let unreadable = || OAuthError::invalid_client("The Basic credentials are unreadable.");
        let decoded = STANDARD.decode(encoded).map_err(|_| unreadable())?;
        let text = String::from_utf8(decoded).map_err(|_| unreadable())?;
        let (id, secret) = text.split_once(':').ok_or_else(unreadable)?;
        let decode = |part: &str| -> Result<String, OAuthError> {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(&format!("v={part}")).map_err(|_| unreadable())?;
            Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
        };
        let (id, secret) = (decode(id)?, decode(secret)?);
        if self.get("client_id").is_some_and(|form_id| form_id != id) {
            return Err(OAuthError::invalid_request(
                "client_id differs from the Basic credentials.",
            ));
        }
        Ok(ClientCredentials { client_id: Some(id), client_secret: Some(secret) })
    }
}

fn token_response(issued: IssuedTokens) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scopes.to_text(),
    });
    if let Some(refresh) = issued.refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    no_store_json(StatusCode::OK, body)
}

/// `POST /oauth/token`: `grant_type=authorization_code` (with `code`, `redirect_uri`,
/// `code_verifier`) or `grant_type=refresh_token` (with `refresh_token`, optional `scope`).
async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let form = FormParams::read(&headers, &body)?;
        let credentials = form.client_credentials(&headers)?;
        match form.require("grant_type")? {
            "authorization_code" => {
                let code = form.require("code")?;
                state
                    .service
                    .exchange_oauth_code(
                        &credentials,
                        code,
                        form.get("redirect_uri"),
                        form.get("code_verifier"),
                    )
                    .await
            }
            "refresh_token" => {
                let refresh = form.require("refresh_token")?;
                state.service.refresh_oauth_token(&credentials, refresh, form.get("scope")).await
            }
            other => Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                format!("grant_type {other} is not supported"),
            )),
        }
    }
    .await;
    match result {
        Ok(issued) => token_response(issued),
        Err(e) => error_response(&e),
    }
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was known.
async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let form = FormParams::read(&headers, &body)?;
        let credentials = form.client_credentials(&headers)?;
        let token = form.require("token")?;
        state.service.revoke_oauth_token(&credentials, token).await
    }
    .await;
    match result {
        Ok(()) => no_store_json(StatusCode::OK, json!({})),
        Err(e) => error_response(&e),
    }
}
