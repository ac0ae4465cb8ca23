//! The Model Context Protocol server at `/mcp`: AI assistants call Portcullis's tools with their
//! caller's own rights.
//!
//! - Transport: Streamable HTTP from the `rmcp` crate, stateless (no session is kept between
//!   requests), so any server of a cluster answers any request and JSON answers suffice.
//! - Who calls: an OAuth access token a person granted to an MCP client (the scopes they granted),
//!   a personal token (every scope) or an API credential (every scope, or the read scopes for a
//!   read-only key). No token answers 401 with `WWW-Authenticate` naming the protected-resource
//!   metadata, which is how an interactive client finds where to sign in.
//! - Every tool call is audited with `source: "mcp"` and the client's name; changes a tool makes
//!   are audited by the use case that makes them, with the same source.
mod tools;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use portcullis_domain::{AccessLevel, CallSource, McpScopes};
use portcullis_service::{ActorKind, Ctx, ServiceError};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::extract::header as header_value;
use crate::AppState;

/// The path the MCP endpoint is served at.
pub const MCP_PATH: &str = "/mcp";

/// Longest client name kept (from a registration or a `User-Agent`).
const MAX_CLIENT_NAME: usize = 100;

/// An authenticated MCP caller: the context every tool runs in, and the scopes it holds.
#[derive(Clone)]
pub(crate) struct McpCaller {
    pub ctx: Ctx,
    pub scopes: McpScopes,
}

/// The `/mcp` route: authentication in front of the rmcp Streamable HTTP service.
pub fn routes(state: &AppState) -> Router<AppState> {
    let service = state.service.clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // Every request carries its own bearer token or key in a header, which a page that
        // rebinds DNS to this server cannot add, so the Host check adds nothing and would refuse
        // every deployment behind a name.
        .disable_allowed_hosts();
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer { service: service.clone() }),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(MCP_PATH, mcp)
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
}

/// Establishes the caller before the protocol layer sees the request.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match caller(&state, request.headers()).await {
        Ok(mut caller) => {
            caller.ctx.request_id =
                header_value(request.headers(), "x-request-id").map(str::to_string);
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refusal) => {
            let response = match refusal {
                Refusal::Unauthenticated(err) => unauthorized(&state, request.headers(), err),
                Refusal::RateLimited(err) => err.into_response(),
            };
            // Read the refused request's body, so the connection stays usable: a client that
            // pools connections (every MCP SDK) sends its next request on it straight away, and
            // would find it closed if the body were left unread.
            let _ = axum::body::to_bytes(request.into_body(), crate::MAX_BODY_BYTES).await;
            response
        }
    }
}

/// Why a request does not reach the tools.
enum Refusal {
    Unauthenticated(ServiceError),
    /// The caller is over its rate limit (429 with `Retry-After`, as for the API).
    RateLimited(crate::error::ApiError),
}

impl From<ServiceError> for Refusal {
    fn from(err: ServiceError) -> Self {
        Refusal::Unauthenticated(err)
    }
}

/// The caller of a request, from its bearer token or API key.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<McpCaller, Refusal> {
    let client_name = || {
        let agent = header_value(headers, header::USER_AGENT.as_str()).unwrap_or("unknown");
        agent.chars().take(MAX_CLIENT_NAME).collect::<String>()
    };
    if let Some(token) = header_value(headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
    {
        if portcullis_service::secrets::is_oauth_access_token(token) {
            // A client a person connected: the scopes they granted, the name it registered.
            let grant = state.service.authenticate_oauth_access_token(token).await?;
            let identity = format!(
                "oauth:{}:{}",
                grant.client_id,
                grant.actor.audit_ref().id().unwrap_or_default()
            );
            crate::limits::count_identity(state, &identity).map_err(Refusal::RateLimited)?;
            let client_name: String = grant.client_name.chars().take(MAX_CLIENT_NAME).collect();
            let ctx = Ctx::new(grant.actor, None).through(CallSource::mcp(client_name));
            return Ok(McpCaller { ctx, scopes: grant.scopes });
        }
        let actor = state.service.authenticate_bearer(token).await?;
        if let Some((token_id, _)) = portcullis_service::secrets::parse_bearer_token(token) {
            crate::limits::count_identity(state, &format!("token:{token_id}"))
                .map_err(Refusal::RateLimited)?;
        }
        let ctx = Ctx::new(actor, None).through(CallSource::mcp(client_name()));
        return Ok(McpCaller { ctx, scopes: McpScopes::all() });
    }
    if let (Some(key), Some(secret)) =
        (header_value(headers, "x-api-key"), header_value(headers, "x-api-secret"))
    {
        let actor = state.service.authenticate_api(key, secret).await?;
        let scopes = match actor.kind {
            ActorKind::Credential { id, access } => {
                crate::limits::count_identity(state, &format!("key:{id}"))
                    .map_err(Refusal::RateLimited)?;
                match access {
                    AccessLevel::ReadOnly => McpScopes::read_only(),
                    _ => McpScopes::all(),
                }
            }
            _ => McpScopes::all(),
        };
        let ctx = Ctx::new(actor, None).through(CallSource::mcp(client_name()));
        return Ok(McpCaller { ctx, scopes });
    }
    Err(ServiceError::Unauthenticated("A bearer token or an API key is required".into()).into())
}

/// 401 with the challenge that points an MCP client at the protected-resource metadata
/// (RFC 9728 §5.1); 429 when the caller is over its rate limit.
fn unauthorized(state: &AppState, headers: &HeaderMap, err: ServiceError) -> Response {
    if matches!(&err, ServiceError::Forbidden(m) if m == "rate limited") {
        let body =
            serde_json::json!({"error": "rate_limited", "error_description": "Too many requests"});
        return (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    }
    let base = public_base(state, headers);
    let presented = headers.contains_key("authorization") || headers.contains_key("x-api-key");
    let mut challenge = format!(
        "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource{MCP_PATH}\""
    );
    if presented {
        challenge.push_str(", error=\"invalid_token\"");
    }
    let body = serde_json::json!({
        "error": if presented { "invalid_token" } else { "unauthorized" },
        "error_description": err.to_string(),
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The URL clients reach this server at: the configured public URL, else the request's host.
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = state.service.public_base_url() {
        return base;
    }
    let host = header_value(headers, header::HOST.as_str()).unwrap_or("localhost");
    format!("http://{host}")
}

/// The protocol handler: lists the tools the caller's scopes allow and runs them.
#[derive(Clone)]
struct McpServer {
    service: portcullis_service::Service,
}

/// The caller the authentication layer put on the HTTP request.
fn caller_of(context: &RequestContext<RoleServer>) -> Result<McpCaller, ErrorData> {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<McpCaller>())
        .cloned()
        .ok_or_else(|| ErrorData::invalid_request("not authenticated", None))
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("portcullis", env!("CARGO_PKG_VERSION"))
                    .with_title("Portcullis"),
            )
            .with_instructions(
                "Portcullis is the company's system of record for who may use which work app, at \
                 which permission level, and why. Tools act as the signed-in person, with their \
                 rights: look people and apps up, see requests, file access requests and \
                 removals, decide the person's approval tasks and access review items. Requests \
                 follow the app's approval policy; nothing here bypasses it.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller_of(&context)?;
        let tools = tools::TOOLS
            .iter()
            .filter(|t| caller.scopes.contains(t.scope))
            .map(tools::ToolDef::describe)
            .collect();
        // The list depends on who asks.
        Ok(ListToolsResult::with_all_items(tools).with_cache_scope(CacheScope::Private))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller_of(&context)?;
        let Some(tool) = tools::find(&request.name) else {
            return Err(ErrorData::invalid_params(format!("unknown tool {}", request.name), None));
        };
        let outcome = if caller.scopes.contains(tool.scope) {
            tools::run(&self.service, &caller.ctx, tool, request.arguments.unwrap_or_default())
                .await
        } else {
            Err(tools::ToolError::Refused(format!(
                "{} needs the scope {}, which this client was not granted",
                tool.name,
                tool.scope.name()
            )))
        };
        let error = outcome.as_ref().err().map(tools::ToolError::message);
        if let Err(err) =
            self.service.record_mcp_tool_call(&caller.ctx, tool.name, error.as_deref()).await
        {
            tracing::error!(error = %err, tool = tool.name, "could not audit an MCP tool call");
            return Err(ErrorData::internal_error("could not record the call", None));
        }
        Ok(match outcome {
            Ok(value) => CallToolResult::structured(value),
            Err(err) => CallToolResult::error(vec![ContentBlock::text(err.message())]),
        }
        .into())
    }
}
