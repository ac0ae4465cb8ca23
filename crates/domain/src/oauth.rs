//! The OAuth 2.1 authorization server that lets interactive MCP clients (Claude, VS Code, the
//! MCP SDKs) act for a person at `/mcp`: the rules only, no I/O.
//!
//! - Clients register themselves (RFC 7591) with the addresses they want the code sent to:
//!   `https` anywhere, plain `http` only on this machine (a loopback address, any port, RFC 8252
//!   §7.3), or an app's own scheme (`vscode://`, `cursor://`). Never a fragment, never a scheme
//!   a browser would run or read locally (`javascript:`, `data:`, `file:`).
//! - A person consents once per client: that makes a grant (the scopes they allowed). The code
//!   handed to the client lives ten minutes, works once, and only with the PKCE verifier whose
//!   S256 hash the client sent first (no `plain`: it protects nothing once the request leaks).
//! - The code buys an access token (one hour) and a refresh token (30 days). Each refresh
//!   replaces the refresh token; presenting one that was already replaced means two parties hold
//!   it, so the whole grant is revoked (OAuth 2.1 §4.3.1).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::mcp::McpScopes;

/// How long an authorization code may wait to be exchanged.
pub const AUTHORIZATION_CODE_LIFETIME: Duration = Duration::minutes(10);
/// How long an access token works.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// How long a refresh token works (each use replaces it with a fresh one).
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(30);
/// Longest client name kept.
pub const MAX_CLIENT_NAME_CHARS: usize = 200;
/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_CHARS: usize = 2000;

/// The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 and RFC 7591 §3.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    InvalidRedirectUri,
    InvalidClientMetadata,
    /// Too many requests for now (RFC 6749 §4.1.2.1); answered with 429.
    TemporarilyUnavailable,
    ServerError,
}

impl OAuthErrorCode {
    pub fn name(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            OAuthErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::ServerError => "server_error",
        }
    }
}

/// An OAuth error: its code and words for the client's developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.description)
    }
}

crate::wire_enum! {
    /// A grant type a client may use at the token endpoint.
    pub enum GrantType: "grant type", exact {
        AuthorizationCode = 1 => "authorization_code",
        RefreshToken = 2 => "refresh_token",
    }
}

crate::wire_enum! {
    /// How a client proves who it is at the token endpoint: `none` for public clients (apps on
    /// a person's machine, which cannot keep a secret; PKCE protects them), a secret otherwise.
    pub enum TokenEndpointAuthMethod: "token endpoint authentication method", exact {
        None = 1 => "none",
        ClientSecretPost = 2 => "client_secret_post",
        ClientSecretBasic = 3 => "client_secret_basic",
    }
}

impl TokenEndpointAuthMethod {
    /// Does the client get (and have to present) a secret?
    pub fn is_confidential(self) -> bool {
        self != TokenEndpointAuthMethod::None
    }
}

/// A registration request's metadata, as the client sent it (RFC 7591 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientMetadata {
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub client_name: Option<String>,
}

/// Registration metadata that passed [`validate_client_metadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: TokenEndpointAuthMethod,
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Also its `client_id` on the wire.
    pub id: Uuid,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub auth_method: TokenEndpointAuthMethod,
    /// The hash of its secret (confidential clients only).
    pub secret_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One person's consent to one client: the scopes it may use for them, until revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthGrant {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub client_id: Uuid,
    pub scopes: McpScopes,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A grant as the person (or their administrator) sees it in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAssistant {
    pub grant: OAuthGrant,
    pub client_name: String,
    pub user_name: String,
}

/// An authorization code handed to a client after consent (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub grant_id: Uuid,
    pub redirect_uri: String,
    /// BASE64URL(SHA256(code_verifier)), as the client sent it.
    pub code_challenge: String,
    pub scopes: McpScopes,
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged (it works once).
    pub used_at: Option<DateTime<Utc>>,
}

/// Access or refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            TokenKind::Access => ACCESS_TOKEN_LIFETIME,
            TokenKind::Refresh => REFRESH_TOKEN_LIFETIME,
        }
    }
}

/// An issued token (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    pub token_hash: String,
    pub grant_id: Uuid,
    pub kind: TokenKind,
    pub scopes: McpScopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// A refresh token: when it was exchanged for a new pair (it works once).
    pub used_at: Option<DateTime<Utc>>,
}

fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidClientMetadata, description)
}

fn redirect_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRedirectUri, description)
}

/// Is `host` this machine (where a plain `http` redirect cannot be intercepted on the network)?
fn is_loopback_host(host: Option<&str>) -> bool {
    matches!(host, Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Checks one redirect URI a client registers (RFC 7591 §2, RFC 8252 §7).
pub fn check_redirect_uri(text: &str) -> Result<url::Url, OAuthError> {
    if text.chars().count() > MAX_REDIRECT_URI_CHARS {
        return Err(redirect_error(format!(
            "a redirect URI may be at most {MAX_REDIRECT_URI_CHARS} characters"
        )));
    }
    let url = url::Url::parse(text)
        .map_err(|_| redirect_error(format!("{text} is not an absolute URI")))?;
    if url.fragment().is_some() {
        return Err(redirect_error(format!("{text} must not have a fragment")));
    }
    match url.scheme() {
        "https" if url.host_str().is_none() => {
            return Err(redirect_error(format!("{text} names no host")));
        }
        "http" if !is_loopback_host(url.host_str()) => {
            return Err(redirect_error(format!(
                "{text}: plain http is only allowed to localhost, 127.0.0.1 or [::1]"
            )));
        }
        "https" | "http" => {}
        // Schemes a browser runs, reads locally or hands to something that is not the app.
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ws" | "wss" | "ftp" => {
            return Err(redirect_error(format!("{text}: the {} scheme is refused", url.scheme())));
        }
        // A private-use scheme of a native app (`vscode`, `cursor`, `com.example.app`).
        _ => {}
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(redirect_error(format!("{text} must not carry credentials")));
    }
    Ok(url)
}

/// Checks a registration request and fills in the defaults (RFC 7591 §2: `authorization_code`,
/// `code`, `client_secret_basic`; the name defaults to the first redirect URI's host).
pub fn validate_client_metadata(
    metadata: &ClientMetadata,
) -> Result<ClientRegistration, OAuthError> {
    let uris = metadata
        .redirect_uris
        .as_ref()
        .filter(|uris| !uris.is_empty())
        .ok_or_else(|| redirect_error("redirect_uris is required"))?;
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(redirect_error(format!(
            "at most {MAX_REDIRECT_URIS} redirect URIs may be registered"
        )));
    }
    let mut parsed = Vec::with_capacity(uris.len());
    for uri in uris {
        parsed.push(check_redirect_uri(uri)?);
    }
    let mut grant_types = Vec::new();
    for name in metadata.grant_types.as_deref().unwrap_or(&["authorization_code".to_string()]) {
        let grant = GrantType::from_name(name)
            .ok_or_else(|| metadata_error(format!("grant type {name} is not supported")))?;
        if !grant_types.contains(&grant) {
            grant_types.push(grant);
        }
    }
    if !grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(metadata_error("grant_types must include authorization_code"));
    }
    grant_types.sort();
    for name in metadata.response_types.as_deref().unwrap_or_default() {
        if name != "code" {
            return Err(metadata_error(format!("response type {name} is not supported")));
        }
    }
    let auth_method = match metadata.token_endpoint_auth_method.as_deref() {
        None => TokenEndpointAuthMethod::ClientSecretBasic,
        Some(name) => TokenEndpointAuthMethod::from_name(name).ok_or_else(|| {
            metadata_error(format!("token_endpoint_auth_method {name} is not supported"))
        })?,
    };
    let name = match metadata.client_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) if name.chars().count() > MAX_CLIENT_NAME_CHARS => {
            return Err(metadata_error(format!(
                "client_name may be at most {MAX_CLIENT_NAME_CHARS} characters"
            )))
        }
        Some(name) if name.chars().any(char::is_control) => {
            return Err(metadata_error("client_name must not contain control characters"))
        }
        Some(name) => name.to_string(),
        None => default_client_name(&parsed[0]),
    };
    Ok(ClientRegistration { name, redirect_uris: uris.clone(), grant_types, auth_method })
}

/// A name for a client that gave none: where it receives codes.
fn default_client_name(uri: &url::Url) -> String {
    match uri.host_str() {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => format!("{}:// app", uri.scheme()),
    }
}

/// What a redirect URI shows a person on the consent page: its host, or the app's scheme.
pub fn redirect_target(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(url) => match url.host_str() {
            Some(host) if !host.is_empty() => host.to_string(),
            _ => format!("{}://", url.scheme()),
        },
        Err(_) => uri.to_string(),
    }
}

/// Does `requested` match one of the client's registered redirect URIs? Exactly, character for
/// character — except that a loopback `http` URI may use any port (RFC 8252 §7.3: the app picks
/// a free one when it starts).
pub fn redirect_uri_matches(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|r| r == requested || same_loopback_apart_from_port(r, requested))
}

fn same_loopback_apart_from_port(registered: &str, requested: &str) -> bool {
    let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    if a.scheme() != "http" || !is_loopback_host(a.host_str()) {
        return false;
    }
    if a.set_port(None).is_err() || b.set_port(None).is_err() {
        return false;
    }
    a == b && b.fragment().is_none()
}

/// BASE64URL(SHA256(verifier)), the S256 code challenge (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Is `c` one of RFC 7636's unreserved characters?
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// Checks the PKCE part of an authorization request: a challenge is required, only `S256` is
/// accepted, and the challenge must look like a SHA-256 in base64url.
pub fn check_code_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<(), OAuthError> {
    let challenge = challenge
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code_challenge is required (PKCE)"))?;
    match method {
        Some("S256") => {}
        Some("plain") | None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256 (plain is not accepted)",
            ))
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other} is not supported; use S256"
            )))
        }
    }
    if challenge.len() != 43
        || !challenge.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(OAuthError::invalid_request(
            "code_challenge must be BASE64URL(SHA256(code_verifier)), 43 characters",
        ));
    }
    Ok(())
}

/// Does `verifier` (43–128 unreserved characters) hash to `challenge`? Constant-time.
pub fn verify_pkce(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len()) && verifier.chars().all(is_unreserved);
    well_formed && bool::from(s256_challenge(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

/// The scopes a request asks for: all of them when it names none (`scope` absent or empty), an
/// `invalid_scope` error for a name we do not know.
pub fn requested_scopes(scope: Option<&str>) -> Result<McpScopes, OAuthError> {
    let scopes = McpScopes::parse(scope.unwrap_or_default())
        .map_err(|e| OAuthError::new(OAuthErrorCode::InvalidScope, e))?;
    Ok(if scopes.is_empty() { McpScopes::all() } else { scopes })
}

/// The scopes of a refreshed access token: the refresh token's, or fewer when the client asks
/// for fewer (a refresh may narrow, never widen: RFC 6749 §6).
pub fn refreshed_scopes(held: &McpScopes, scope: Option<&str>) -> Result<McpScopes, OAuthError> {
    let Some(text) = scope.filter(|s| !s.trim().is_empty()) else { return Ok(held.clone()) };
    let asked =
        McpScopes::parse(text).map_err(|e| OAuthError::new(OAuthErrorCode::InvalidScope, e))?;
    if !asked.is_subset_of(held) {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "a refresh may not ask for scopes the grant does not hold",
        ));
    }
    Ok(asked)
}

/// An authorization request's parameters (RFC 6749 §4.1.1, RFC 7636, RFC 8707), as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub resource: Option<String>,
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRefusal {
    /// The client or the redirect URI could not be verified: the error is shown to the person,
    /// and the browser is never sent to the unverified address (RFC 6749 §4.1.2.1).
    Unverified(String),
    /// Anything else is told to the client at its verified redirect URI.
    ToClient { redirect_uri: String, state: Option<String>, error: OAuthError },
}

/// A request ready for the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAuthorization {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub scopes: McpScopes,
}

/// Checks an authorization request against its (already looked up) client. `resource` is the
/// one protected resource we issue tokens for (`{public}/mcp`): a client naming another gets
/// `invalid_target` treated as `invalid_request` (RFC 8707 §2).
pub fn check_authorization(
    client: &OAuthClient,
    params: &AuthorizationParams,
    resource: &str,
) -> Result<CheckedAuthorization, AuthorizationRefusal> {
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if redirect_uri_matches(&client.redirect_uris, uri) => uri.to_string(),
        Some(_) => {
            return Err(AuthorizationRefusal::Unverified(
                "The redirect_uri is not one this client registered.".into(),
            ))
        }
        // Without one, only a client with a single registered URI is unambiguous.
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(AuthorizationRefusal::Unverified(
                    "The request has no redirect_uri.".into(),
                ))
            }
        },
    };
    let to_client = |error: OAuthError| AuthorizationRefusal::ToClient {
        redirect_uri: redirect_uri.clone(),
        state: params.state.clone(),
        error,
    };
    match params.response_type.as_deref() {
        Some("code") => {}
        Some(_) => {
            return Err(to_client(OAuthError::new(
                OAuthErrorCode::UnsupportedResponseType,
                "response_type must be code",
            )))
        }
        None => return Err(to_client(OAuthError::invalid_request("response_type is required"))),
    }
    check_code_challenge(params.code_challenge.as_deref(), params.code_challenge_method.as_deref())
        .map_err(to_client)?;
    let scopes = requested_scopes(params.scope.as_deref()).map_err(to_client)?;
    if let Some(asked) = params.resource.as_deref() {
        if asked.trim_end_matches('/') != resource {
            return Err(to_client(OAuthError::invalid_request(format!(
                "resource must be {resource}"
            ))));
        }
    }
    Ok(CheckedAuthorization {
        redirect_uri,
        state: params.state.clone(),
        code_challenge: params.code_challenge.clone().unwrap_or_default(),
        scopes,
    })
}

/// `redirect_uri` with `pairs` added to its query (keeping a query it already has).
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

/// Why a code cannot be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Exchanged before: the grant it made is revoked (its tokens may be in the wrong hands).
    Reused,
    Expired,
    /// Issued to another client, or for another redirect URI, or the verifier does not match.
    Mismatch,
}

/// Checks a code presented at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).
pub fn check_code(
    code: &AuthorizationCode,
    grant_client: Uuid,
    client: Uuid,
    redirect_uri: Option<&str>,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<(), CodeProblem> {
    if code.used_at.is_some() {
        return Err(CodeProblem::Reused);
    }
    if now >= code.expires_at {
        return Err(CodeProblem::Expired);
    }
    let same_redirect = redirect_uri.is_none_or(|uri| uri == code.redirect_uri);
    if grant_client != client || !same_redirect || !verify_pkce(verifier, &code.code_challenge) {
        return Err(CodeProblem::Mismatch);
    }
    Ok(())
}

/// What presenting a refresh token leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Issue a new pair and retire this token.
    Rotate,
    /// Refused: expired, revoked, or not a refresh token.
    Refuse,
    /// Already exchanged once: someone else holds it too, so the grant is revoked.
    RevokeGrant,
}

/// The refresh token rule (OAuth 2.1 §4.3.1): one use each, reuse revokes the grant.
pub fn refresh_outcome(
    token: &OAuthToken,
    grant: &OAuthGrant,
    now: DateTime<Utc>,
) -> RefreshOutcome {
    if token.kind != TokenKind::Refresh || grant.revoked_at.is_some() {
        return RefreshOutcome::Refuse;
    }
    if token.used_at.is_some() {
        return RefreshOutcome::RevokeGrant;
    }
    if now >= token.expires_at {
        return RefreshOutcome::Refuse;
    }
    RefreshOutcome::Rotate
}

/// Does an access token open `/mcp` at `now`? (An access token revoked on its own, RFC 7009,
/// is marked used.)
pub fn access_token_usable(token: &OAuthToken, grant: &OAuthGrant, now: DateTime<Utc>) -> bool {
    token.kind == TokenKind::Access
        && token.used_at.is_none()
        && grant.revoked_at.is_none()
        && now < token.expires_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn metadata(uris: &[&str]) -> ClientMetadata {
        ClientMetadata {
            redirect_uris: Some(uris.iter().map(|u| u.to_string()).collect()),
            ..ClientMetadata::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn client(uris: &[&str]) -> OAuthClient {
        OAuthClient {
            id: Uuid::from_u128(1),
            name: "Claude".into(),
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            auth_method: TokenEndpointAuthMethod::None,
            secret_hash: None,
            created_at: now(),
        }
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params() -> AuthorizationParams {
        AuthorizationParams {
            response_type: Some("code".into()),
            client_id: Some(Uuid::from_u128(1).to_string()),
            redirect_uri: Some("http://127.0.0.1:33418/callback".into()),
            scope: None,
            state: Some("xyz".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            resource: Some("https://p.example/mcp".into()),
        }
    }

    #[test]
    fn redirect_uris_are_https_loopback_http_or_an_apps_own_scheme() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://localhost:6274/oauth/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "vscode://vscode.github-authentication/did-authenticate",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "http://localhost.evil.example/cb",
            "https://claude.ai/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "/relative/cb",
            "https://user:pw@claude.ai/cb",
            "not a uri",
        ] {
            let err = check_redirect_uri(bad).unwrap_err();
            assert_eq!(err.code, OAuthErrorCode::InvalidRedirectUri, "{bad}");
        }
    }

    #[test]
    fn registration_fills_defaults_and_refuses_what_we_do_not_support() {
        let reg = validate_client_metadata(&metadata(&["https://claude.ai/cb"])).unwrap();
        assert_eq!(reg.name, "claude.ai");
        assert_eq!(reg.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(reg.auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
        let public = ClientMetadata {
            grant_types: Some(vec!["refresh_token".into(), "authorization_code".into()]),
            response_types: Some(vec!["code".into()]),
            token_endpoint_auth_method: Some("none".into()),
            client_name: Some("  Claude Code  ".into()),
            ..metadata(&["http://localhost:1234/cb"])
        };
        let reg = validate_client_metadata(&public).unwrap();
        assert_eq!(reg.name, "Claude Code");
        assert_eq!(reg.grant_types, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
        assert!(!reg.auth_method.is_confidential());

        let code = |m: &ClientMetadata| validate_client_metadata(m).unwrap_err().code;
        assert_eq!(code(&ClientMetadata::default()), OAuthErrorCode::InvalidRedirectUri);
        assert_eq!(code(&metadata(&[])), OAuthErrorCode::InvalidRedirectUri);
        let bad = [
            ClientMetadata {
                grant_types: Some(vec!["implicit".into()]),
                ..metadata(&["https://a.example/cb"])
            },
            ClientMetadata {
                grant_types: Some(vec!["refresh_token".into()]),
                ..metadata(&["https://a.example/cb"])
            },
            ClientMetadata {
                response_types: Some(vec!["token".into()]),
                ..metadata(&["https://a.example/cb"])
            },
            ClientMetadata {
                token_endpoint_auth_method: Some("private_key_jwt".into()),
                ..metadata(&["https://a.example/cb"])
            },
            ClientMetadata {
                client_name: Some("x".repeat(201)),
                ..metadata(&["https://a.example/cb"])
            },
        ];
        for m in &bad {
            assert_eq!(code(m), OAuthErrorCode::InvalidClientMetadata, "{m:?}");
        }
        let named =
            ClientMetadata { client_name: Some("é".repeat(200)), ..metadata(&["vscode://x/cb"]) };
        assert!(validate_client_metadata(&named).is_ok(), "200 characters, not bytes");
        let app = validate_client_metadata(&metadata(&["com.example.app:/cb"])).unwrap();
        assert_eq!(app.name, "com.example.app:// app");
    }

    #[test]
    fn redirect_uris_match_exactly_except_a_loopback_port() {
        let registered =
            vec!["http://127.0.0.1:3000/callback".to_string(), "https://claude.ai/cb".to_string()];
        assert!(redirect_uri_matches(&registered, "http://127.0.0.1:3000/callback"));
        assert!(redirect_uri_matches(&registered, "http://127.0.0.1:53111/callback"));
        assert!(redirect_uri_matches(&registered, "http://127.0.0.1/callback"));
        assert!(!redirect_uri_matches(&registered, "http://127.0.0.1:3000/other"));
        assert!(!redirect_uri_matches(&registered, "http://localhost:3000/callback"));
        assert!(redirect_uri_matches(&registered, "https://claude.ai/cb"));
        assert!(!redirect_uri_matches(&registered, "https://claude.ai:8443/cb"));
        assert!(!redirect_uri_matches(&registered, "https://claude.ai/cb?x=1"));
        assert!(!redirect_uri_matches(&registered, "https://claude.ai/cb/"));
    }

    #[test]
    fn pkce_accepts_only_s256_and_the_right_verifier() {
        assert_eq!(s256_challenge(VERIFIER), CHALLENGE, "RFC 7636 appendix B");
        assert!(verify_pkce(VERIFIER, CHALLENGE));
        assert!(!verify_pkce(&VERIFIER.replace('d', "e"), CHALLENGE));
        assert!(!verify_pkce("short", &s256_challenge("short")), "at least 43 characters");
        let long = "a".repeat(129);
        assert!(!verify_pkce(&long, &s256_challenge(&long)), "at most 128 characters");
        let odd = format!("{}!", "a".repeat(50));
        assert!(!verify_pkce(&odd, &s256_challenge(&odd)), "unreserved characters only");
        assert!(check_code_challenge(Some(CHALLENGE), Some("S256")).is_ok());
        for (c, m) in [
            (None, Some("S256")),
            (Some(CHALLENGE), Some("plain")),
            (Some(CHALLENGE), None),
            (Some(CHALLENGE), Some("S512")),
            (Some("tooshort"), Some("S256")),
        ] {
            assert_eq!(
                check_code_challenge(c, m).unwrap_err().code,
                OAuthErrorCode::InvalidRequest
            );
        }
    }

    #[test]
    fn scopes_default_to_all_and_refresh_only_narrows() {
        assert_eq!(requested_scopes(None).unwrap(), McpScopes::all());
        assert_eq!(requested_scopes(Some("")).unwrap(), McpScopes::all());
        assert_eq!(requested_scopes(Some("mcp:users.read")).unwrap().to_text(), "mcp:users.read");
        assert_eq!(requested_scopes(Some("admin")).unwrap_err().code, OAuthErrorCode::InvalidScope);
        let held = McpScopes::read_only();
        assert_eq!(refreshed_scopes(&held, None).unwrap(), held);
        assert_eq!(
            refreshed_scopes(&held, Some("mcp:users.read")).unwrap().to_text(),
            "mcp:users.read"
        );
        let wider = refreshed_scopes(&held, Some("mcp:requests.write")).unwrap_err();
        assert_eq!(wider.code, OAuthErrorCode::InvalidScope);
    }

    #[test]
    fn authorization_requests_refuse_unverified_redirects_on_the_page() {
        let c = client(&["http://127.0.0.1:33418/callback", "https://claude.ai/cb"]);
        let ok = check_authorization(&c, &params(), "https://p.example/mcp").unwrap();
        assert_eq!(ok.scopes, McpScopes::all());
        assert_eq!(ok.code_challenge, CHALLENGE);
        let other = AuthorizationParams {
            redirect_uri: Some("https://evil.example/cb".into()),
            ..params()
        };
        assert!(matches!(
            check_authorization(&c, &other, "https://p.example/mcp"),
            Err(AuthorizationRefusal::Unverified(_))
        ));
        let none = AuthorizationParams { redirect_uri: None, ..params() };
        assert!(matches!(
            check_authorization(&c, &none, "https://p.example/mcp"),
            Err(AuthorizationRefusal::Unverified(_))
        ));
        let single = client(&["https://claude.ai/cb"]);
        assert_eq!(
            check_authorization(&single, &none, "https://p.example/mcp").unwrap().redirect_uri,
            "https://claude.ai/cb"
        );
        let to_client =
            |p: AuthorizationParams| match check_authorization(&c, &p, "https://p.example/mcp") {
                Err(AuthorizationRefusal::ToClient { error, state, redirect_uri }) => {
                    assert_eq!(state.as_deref(), Some("xyz"));
                    assert_eq!(redirect_uri, "http://127.0.0.1:33418/callback");
                    error.code
                }
                other => panic!("{other:?}"),
            };
        assert_eq!(
            to_client(AuthorizationParams { response_type: Some("token".into()), ..params() }),
            OAuthErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            to_client(AuthorizationParams { code_challenge: None, ..params() }),
            OAuthErrorCode::InvalidRequest
        );
        assert_eq!(
            to_client(AuthorizationParams {
                code_challenge_method: Some("plain".into()),
                ..params()
            }),
            OAuthErrorCode::InvalidRequest
        );
        assert_eq!(
            to_client(AuthorizationParams { scope: Some("mcp:everything".into()), ..params() }),
            OAuthErrorCode::InvalidScope
        );
        assert_eq!(
            to_client(AuthorizationParams {
                resource: Some("https://other.example/mcp".into()),
                ..params()
            }),
            OAuthErrorCode::InvalidRequest
        );
        let no_resource = AuthorizationParams { resource: None, ..params() };
        assert!(check_authorization(&c, &no_resource, "https://p.example/mcp").is_ok());
    }

    #[test]
    fn redirects_keep_the_clients_own_query() {
        assert_eq!(
            redirect_with("https://a.example/cb?x=1", &[("code", "c d"), ("state", "s&t")]),
            "https://a.example/cb?x=1&code=c+d&state=s%26t"
        );
        assert_eq!(redirect_with("vscode://ext/cb", &[("code", "c")]), "vscode://ext/cb?code=c");
    }

    fn code(used: bool) -> AuthorizationCode {
        AuthorizationCode {
            code_hash: "h".into(),
            grant_id: Uuid::from_u128(2),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            code_challenge: CHALLENGE.into(),
            scopes: McpScopes::all(),
            expires_at: now() + AUTHORIZATION_CODE_LIFETIME,
            used_at: used.then(now),
        }
    }

    #[test]
    fn codes_work_once_in_time_for_their_client_redirect_and_verifier() {
        let (mine, other) = (Uuid::from_u128(1), Uuid::from_u128(9));
        let uri = Some("http://127.0.0.1:1/cb");
        assert_eq!(check_code(&code(false), mine, mine, uri, VERIFIER, now()), Ok(()));
        assert_eq!(check_code(&code(false), mine, mine, None, VERIFIER, now()), Ok(()));
        assert_eq!(
            check_code(&code(true), mine, mine, uri, VERIFIER, now()),
            Err(CodeProblem::Reused)
        );
        let late = now() + AUTHORIZATION_CODE_LIFETIME;
        assert_eq!(
            check_code(&code(false), mine, mine, uri, VERIFIER, late),
            Err(CodeProblem::Expired)
        );
        assert_eq!(
            check_code(&code(false), mine, other, uri, VERIFIER, now()),
            Err(CodeProblem::Mismatch)
        );
        assert_eq!(
            check_code(&code(false), mine, mine, Some("http://127.0.0.1:2/cb"), VERIFIER, now()),
            Err(CodeProblem::Mismatch)
        );
        let wrong = "x".repeat(43);
        assert_eq!(
            check_code(&code(false), mine, mine, uri, &wrong, now()),
            Err(CodeProblem::Mismatch)
        );
    }

    fn grant(revoked: bool) -> OAuthGrant {
        OAuthGrant {
            id: Uuid::from_u128(2),
            org_id: Uuid::from_u128(3),
            user_id: Uuid::from_u128(4),
            client_id: Uuid::from_u128(1),
            scopes: McpScopes::all(),
            created_at: now(),
            last_used_at: None,
            revoked_at: revoked.then(now),
        }
    }

    fn token(kind: TokenKind, used: bool) -> OAuthToken {
        OAuthToken {
            token_hash: "t".into(),
            grant_id: Uuid::from_u128(2),
            kind,
            scopes: McpScopes::all(),
            created_at: now(),
            expires_at: now() + kind.lifetime(),
            used_at: used.then(now),
        }
    }

    #[test]
    fn refresh_tokens_rotate_once_and_reuse_revokes_the_grant() {
        let fresh = token(TokenKind::Refresh, false);
        assert_eq!(refresh_outcome(&fresh, &grant(false), now()), RefreshOutcome::Rotate);
        let used = token(TokenKind::Refresh, true);
        assert_eq!(refresh_outcome(&used, &grant(false), now()), RefreshOutcome::RevokeGrant);
        assert_eq!(refresh_outcome(&fresh, &grant(true), now()), RefreshOutcome::Refuse);
        let late = now() + REFRESH_TOKEN_LIFETIME;
        assert_eq!(refresh_outcome(&fresh, &grant(false), late), RefreshOutcome::Refuse);
        let access = token(TokenKind::Access, false);
        assert_eq!(refresh_outcome(&access, &grant(false), now()), RefreshOutcome::Refuse);
    }

    #[test]
    fn access_tokens_work_for_an_hour_while_the_grant_stands() {
        let access = token(TokenKind::Access, false);
        assert!(access_token_usable(&access, &grant(false), now()));
        assert!(access_token_usable(&access, &grant(false), now() + Duration::minutes(59)));
        assert!(!access_token_usable(&access, &grant(false), now() + ACCESS_TOKEN_LIFETIME));
        assert!(!access_token_usable(&access, &grant(true), now()));
        assert!(!access_token_usable(&token(TokenKind::Refresh, false), &grant(false), now()));
        assert!(!access_token_usable(&token(TokenKind::Access, true), &grant(false), now()));
    }

    proptest! {
        #[test]
        fn any_well_formed_verifier_matches_its_own_challenge_only(
            verifier in "[A-Za-z0-9._~-]{43,128}",
            other in "[A-Za-z0-9._~-]{43,128}",
        ) {
            let challenge = s256_challenge(&verifier);
            prop_assert!(check_code_challenge(Some(&challenge), Some("S256")).is_ok());
            prop_assert!(verify_pkce(&verifier, &challenge));
            prop_assert_eq!(verify_pkce(&other, &challenge), other == verifier);
        }

        #[test]
        fn a_loopback_redirect_matches_on_any_port_and_nothing_else_does(
            port in 1u16..,
            path in "/[a-z]{0,8}",
            host in "[a-z]{1,10}\\.example",
        ) {
            let registered = vec![format!("http://127.0.0.1{path}"), format!("https://{host}{path}")];
            let loopback = format!("http://127.0.0.1:{port}{path}");
            prop_assert!(redirect_uri_matches(&registered, &loopback));
            let elsewhere = format!("https://{host}:{port}{path}");
            if port != 443 {
                prop_assert!(!redirect_uri_matches(&registered, &elsewhere));
            }
            let other_path = format!("http://127.0.0.1:{port}{path}x");
            prop_assert!(!redirect_uri_matches(&registered, &other_path));
        }

        #[test]
        fn registered_names_are_never_longer_than_the_limit(name in "\\PC{0,300}") {
            let m = ClientMetadata { client_name: Some(name), ..metadata(&["https://a.example/cb"]) };
            if let Ok(reg) = validate_client_metadata(&m) {
                prop_assert!(!reg.name.is_empty());
                prop_assert!(reg.name.chars().count() <= MAX_CLIENT_NAME_CHARS);
            }
        }
    }
}
