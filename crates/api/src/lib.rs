//! The HTTP surface of Portcullis.
//!
//! - `cakewalk/`: the Cakewalk-compatible `/api/v1` API (API key + secret, ProblemDetails errors,
//!   cursor pages);
//! - `flashback/`: the Flashback-style organization and workspace API (bearer tokens,
//!   `{success, message}` bodies);
//! - `scim/`: the SCIM 2.0 service provider at `/scim/v2` (the identity provider's SCIM token,
//!   `application/scim+json`, SCIM error bodies);
//! - `mcp`: the Model Context Protocol server at `/mcp` for AI assistants (bearer tokens, API keys
//!   or OAuth access tokens; JSON-RPC over Streamable HTTP);
//! - `oauth/`: the OAuth 2.1 authorization server for MCP clients (metadata documents,
//!   registration, token and revocation endpoints; OAuth's own JSON error body);
//! - `ops`: health, readiness, metrics and the OpenAPI document.
//!
//! Handlers only translate HTTP to one service call and back. Errors are mapped to a status once
//! ([`error::ApiError`]) and given their API style's body once ([`error::error_envelope`]).

mod bounded;
mod cakewalk;
pub mod error;
mod extract;
mod flashback;
mod headers;
mod limits;
mod mcp;
mod metrics;
mod normalize;
pub mod oauth;
mod openapi;
mod ops;
mod query;
mod scim;
pub mod server;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::Router;
use portcullis_service::Service;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use limits::{set_retry_after, Bucket, ClientAddr, HttpConfig, RateLimiter};

/// The access review exports (CSV and JSON), for the web console's download links.
pub mod access_review_exports {
    pub use crate::cakewalk::access_reviews::{csv_export, json_export, AccessReviewExport};
}
pub use metrics::Metrics;
pub use ops::metrics_router;

/// Largest accepted request body; larger ones answer 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Shared state of every handler. Every middleware layer and handler takes its own copy of it,
/// per request, so a copy is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What [`AppState`] shares.
pub struct SharedState {
    pub service: Service,
    pub metrics: Arc<Metrics>,
    pub http: HttpConfig,
    pub rate_limiter: Arc<RateLimiter>,
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl AppState {
    pub fn new(service: Service, http: HttpConfig) -> Self {
        Self(Arc::new(SharedState {
            rate_limiter: Arc::new(RateLimiter::new(service.clock().clone())),
            service,
            metrics: Arc::new(Metrics::new()),
            http,
        }))
    }
}

/// Builds the router and the OpenAPI document from the same route declarations, so nothing is
/// served undocumented.
pub fn router_and_openapi(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    router_and_openapi_with(state, Router::new())
}

/// As [`router_and_openapi`], with extra routes that are not part of the API (the web console),
/// served behind the same middleware and left out of the OpenAPI document.
pub fn router_and_openapi_with(
    state: AppState,
    extra: Router<AppState>,
) -> (Router, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(openapi::base())
        .merge(cakewalk::routes())
        .merge(flashback::routes())
        .merge(ops::routes(state.http.metrics_on_main_listener))
        .split_for_parts();
    let api = openapi::finish(api);
    let request_id = HeaderName::from_static("x-request-id");
    let router = router
        .merge(scim::routes())
        .merge(mcp::routes(&state))
        .merge(oauth::routes(&state))
        .merge(extra)
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::Extension(Arc::new(api.clone())))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.http.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::enforce))
        .layer(axum::middleware::from_fn(error::error_envelope))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn(headers::sanitize_request_id))
        .with_state(state);
    (router, api)
}

/// The complete HTTP application: the router behind path-case normalisation (the Cakewalk API is
/// served by ASP.NET, whose routes match case-insensitively; existing clients rely on that).
pub fn app(state: AppState) -> NormalizedApp {
    app_with(state, Router::new())
}

/// The application with extra (non-API) routes, e.g. the web console.
pub fn app_with(state: AppState, extra: Router<AppState>) -> NormalizedApp {
    let http = state.http.clone();
    let (router, api) = router_and_openapi_with(state, extra);
    NormalizedApp::new(router, &api, http)
}

pub use normalize::NormalizedApp;
