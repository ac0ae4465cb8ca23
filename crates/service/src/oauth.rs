//! The OAuth 2.1 authorization server for MCP clients: registration, consent, codes, tokens,
//! revocation, and the person's (or their administrator's) list of connected assistants.
//!
//! - Tokens, codes and client secrets are random 256-bit values; only their SHA-256 is stored,
//!   never logged or audited. Access tokens start `pca_`, refresh tokens `pcr_`.
//! - Using a code or rotating a refresh token is a conditional update that exactly one caller
//!   wins, whichever server process it reaches; the loser is treated as a replay: the grant is
//!   revoked, so tokens that may have leaked stop working.
//! - An access token acts as the person who consented, as they are now: a deactivated person's
//!   tokens stop working, and revoking the grant (in the console, or by revoking its refresh
//!   token) ends every token of it at once.
//! - Registration is anonymous (RFC 7591, as MCP clients expect). It is bounded: at most
//!   [`MAX_REGISTRATIONS_PER_HOUR`] clients per hour server-wide (on top of the per-address rate
//!   limit of the HTTP layer), and a client nobody consented to within a day is removed.
use chrono::Duration;
use portcullis_domain::mcp::McpScopes;
use portcullis_domain::oauth::{
    check_authorization, check_code, redirect_with, refresh_outcome, refreshed_scopes,
    validate_client_metadata, AuthorizationCode, AuthorizationParams, AuthorizationRefusal,
    CheckedAuthorization, ClientMetadata, CodeProblem, ConnectedAssistant, GrantType, OAuthClient,
    OAuthError, OAuthErrorCode, OAuthGrant, OAuthToken, RefreshOutcome, TokenKind,
    AUTHORIZATION_CODE_LIFETIME,
};
use portcullis_domain::AuditAction;
use uuid::Uuid;

use crate::secrets::{
    hash_secret, new_oauth_access_token, new_oauth_client_secret, new_oauth_refresh_token,
    new_session_id, verify_secret,
};
use crate::{Actor, ActorKind, Change, Ctx, Service, ServiceError};

/// Clients that may register in one hour, server-wide.
pub const MAX_REGISTRATIONS_PER_HOUR: i64 = 1000;
/// A client nobody consented to is removed after this long.
const UNUSED_CLIENT_LIFETIME: Duration = Duration::days(1);
/// A grant's `last_used_at` is refreshed at most this often, so using a token stays a read.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(5);

/// Who calls `/mcp` with an OAuth access token: the person who consented, the scopes they
/// allowed, and the client acting for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthCaller {
    pub actor: Actor,
    pub scopes: McpScopes,
    pub client_id: String,
    pub client_name: String,
}

/// A newly registered client: the secret is shown only here (confidential clients).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: OAuthClient,
    pub client_secret: Option<String>,
}

/// What the client presented to prove who it is at the token and revocation endpoints (from
/// `Authorization: Basic` or the form).
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A token endpoint answer (RFC 6749 §5.1).
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub scopes: McpScopes,
}

/// An authorization request ready for the consent page.
#[derive(Debug, Clone)]
pub struct AuthorizationView {
    pub client: OAuthClient,
    pub request: CheckedAuthorization,
}

/// Why an authorization could not go on: a refusal under the protocol's rules, or a failure of
/// ours.
#[derive(Debug)]
pub enum AuthorizeError {
    Refused(AuthorizationRefusal),
    Service(ServiceError),
}

impl From<ServiceError> for AuthorizeError {
    fn from(err: ServiceError) -> Self {
        AuthorizeError::Service(err)
    }
}

impl From<portcullis_store::StoreError> for AuthorizeError {
    fn from(err: portcullis_store::StoreError) -> Self {
        AuthorizeError::Service(err.into())
    }
}

impl From<ServiceError> for OAuthError {
    fn from(err: ServiceError) -> Self {
        tracing::error!(error = %err, "OAuth: internal failure");
        OAuthError::new(OAuthErrorCode::ServerError, "The request could not be completed.")
    }
}

fn store_failure(err: portcullis_store::StoreError) -> OAuthError {
    ServiceError::from(err).into()
}

fn unknown_client() -> OAuthError {
    OAuthError::invalid_client("Unknown client, or wrong client credentials.")
}

fn bad_grant() -> OAuthError {
    OAuthError::invalid_grant("The code or refresh token is invalid, expired or revoked.")
}

fn invalid_access_token() -> ServiceError {
    ServiceError::Unauthenticated("Invalid or expired access token".into())
}

/// The grant's audit row: what the person allowed, never a token.
fn grant_snapshot(grant: &OAuthGrant, client_name: &str) -> serde_json::Value {
    serde_json::json!({
        "clientId": grant.client_id,
        "clientName": client_name,
        "userId": grant.user_id,
        "scopes": grant.scopes.to_text(),
    })
}

impl Service {
    /// Registers a client (RFC 7591).
    pub async fn register_oauth_client(
        &self,
        metadata: &ClientMetadata,
    ) -> Result<RegisteredClient, OAuthError> {
        let registration = validate_client_metadata(metadata)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await.map_err(store_failure)?;
        tx.delete_unused_oauth_clients(now - UNUSED_CLIENT_LIFETIME)
            .await
            .map_err(store_failure)?;
        let recent =
            tx.count_oauth_clients_since(now - Duration::hours(1)).await.map_err(store_failure)?;
        if recent >= MAX_REGISTRATIONS_PER_HOUR {
            return Err(OAuthError::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "Too many clients registered in the last hour; try again later.",
            ));
        }
        let client_secret =
            registration.auth_method.is_confidential().then(new_oauth_client_secret);
        let client = OAuthClient {
            id: portcullis_domain::new_id(),
            name: registration.name,
            redirect_uris: registration.redirect_uris,
            grant_types: registration.grant_types,
            auth_method: registration.auth_method,
            secret_hash: client_secret.as_deref().map(hash_secret),
            created_at: now,
        };
        tx.insert_oauth_client(&client).await.map_err(store_failure)?;
        tx.commit().await.map_err(store_failure)?;
        Ok(RegisteredClient { client, client_secret })
    }

    async fn find_oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<OAuthClient>, ServiceError> {
        let Ok(id) = Uuid::try_parse(client_id.trim()) else { return Ok(None) };
        let mut tx = self.store.read().await?;
        Ok(tx.get_oauth_client(id).await?)
    }

    /// The client that presented these credentials: a public client by its id, a confidential
    /// one by its id and secret.
    async fn authenticate_oauth_client(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<OAuthClient, OAuthError> {
        let client_id = credentials.client_id.as_deref().ok_or_else(unknown_client)?;
        let client = self.find_oauth_client(client_id).await?.ok_or_else(unknown_client)?;
        if let Some(hash) = &client.secret_hash {
            let secret = credentials.client_secret.as_deref().ok_or_else(unknown_client)?;
            if !verify_secret(secret, hash) {
                return Err(unknown_client());
            }
        }
        Ok(client)
    }

    /// Checks an authorization request (`resource_base` is the server's base URL: the
    /// resource is `{base}/mcp`).
    pub async fn check_oauth_authorization(
        &self,
        params: &AuthorizationParams,
        resource_base: &str,
    ) -> Result<AuthorizationView, AuthorizeError> {
        let unverified =
            |m: &str| AuthorizeError::Refused(AuthorizationRefusal::Unverified(m.into()));
        let client_id = params
            .client_id
            .as_deref()
            .ok_or_else(|| unverified("The request names no client_id."))?;
        let client = self.find_oauth_client(client_id).await?.ok_or_else(|| {
            unverified("This application is not registered here (unknown client_id).")
        })?;
        let request = check_authorization(&client, params, &format!("{resource_base}/mcp"))
            .map_err(AuthorizeError::Refused)?;
        Ok(AuthorizationView { client, request })
    }

    /// The signed-in person allows the request: a grant and a code (audited). Returns where to
    /// send the browser: the redirect URI with `code`, `state` and `iss` (RFC 9207).
    pub async fn approve_oauth_authorization(
        &self,
        ctx: &Ctx,
        params: &AuthorizationParams,
        issuer: &str,
    ) -> Result<String, AuthorizeError> {
        let view = self.check_oauth_authorization(params, issuer).await?;
        let user_id = ctx.actor.user_id().ok_or_else(|| {
            ServiceError::Forbidden("Only a person can connect an assistant.".into())
        })?;
        let now = self.clock.now();
        let grant = OAuthGrant {
            id: portcullis_domain::new_id(),
            org_id: ctx.org_id(),
            user_id,
            client_id: view.client.id,
            scopes: view.request.scopes.clone(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let code = new_session_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.delete_expired_oauth_codes_and_tokens(now).await?;
        tx.insert_oauth_grant(&grant).await?;
        tx.insert_oauth_code(&AuthorizationCode {
            code_hash: hash_secret(&code),
            grant_id: grant.id,
            redirect_uri: view.request.redirect_uri.clone(),
            code_challenge: view.request.code_challenge.clone(),
            scopes: grant.scopes.clone(),
            expires_at: now + AUTHORIZATION_CODE_LIFETIME,
            used_at: None,
        })
        .await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::OAuthGrantCreated, "oauth_grant", grant.id)
                .after(grant_snapshot(&grant, &view.client.name)),
        )
        .await?;
        tx.commit().await?;
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = view.request.state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        Ok(redirect_with(&view.request.redirect_uri, &pairs))
    }

    /// The person refuses: where to send the browser (`error=access_denied`).
    pub async fn deny_oauth_authorization(
        &self,
        params: &AuthorizationParams,
        issuer: &str,
    ) -> Result<String, AuthorizeError> {
        let view = self.check_oauth_authorization(params, issuer).await?;
        let mut pairs = vec![("error", "access_denied")];
        if let Some(state) = view.request.state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        Ok(redirect_with(&view.request.redirect_uri, &pairs))
    }

    /// `grant_type=authorization_code`: a code, its redirect URI and PKCE verifier buy a token
    /// pair, once.
    pub async fn exchange_oauth_code(
        &self,
        credentials: &ClientCredentials,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<IssuedTokens, OAuthError> {
        let client = self.authenticate_oauth_client(credentials).await?;
        let verifier = code_verifier
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
        let code_hash = hash_secret(code);
        let (stored, grant) = {
            let mut tx = self.store.read().await.map_err(store_failure)?;
            let stored = tx.get_oauth_code(&code_hash).await.map_err(store_failure)?;
            let Some(stored) = stored else { return Err(bad_grant()) };
            let grant = tx.get_oauth_grant(stored.grant_id).await.map_err(store_failure)?;
            (stored, grant.ok_or_else(bad_grant)?)
        };
        let now = self.clock.now();
        match check_code(&stored, grant.client_id, client.id, redirect_uri, verifier, now) {
            Ok(()) => {}
            Err(CodeProblem::Reused) => {
                self.revoke_replayed_grant(&grant, &client.name).await?;
                return Err(bad_grant());
            }
            Err(CodeProblem::Expired | CodeProblem::Mismatch) => return Err(bad_grant()),
        }
        if grant.revoked_at.is_some() {
            return Err(bad_grant());
        }
        self.consenting_user(&grant).await?;
        let mut tx = self.store.write().await.map_err(store_failure)?;
        if !tx.consume_oauth_code(&code_hash, now).await.map_err(store_failure)? {
            drop(tx);
            self.revoke_replayed_grant(&grant, &client.name).await?;
            return Err(bad_grant());
        }
        let refresh = client.grant_types.contains(&GrantType::RefreshToken);
        let issued = self
            .issue_tokens(&mut *tx, &grant, &grant.scopes, refresh.then_some(&grant.scopes))
            .await?;
        tx.commit().await.map_err(store_failure)?;
        Ok(issued)
    }

    /// `grant_type=refresh_token`: a new pair for the refresh token, which stops working;
    /// presenting it again revokes the grant. `scope` may narrow the new access token.
    pub async fn refresh_oauth_token(
        &self,
        credentials: &ClientCredentials,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<IssuedTokens, OAuthError> {
        let client = self.authenticate_oauth_client(credentials).await?;
        if !client.grant_types.contains(&GrantType::RefreshToken) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "This client did not register the refresh_token grant type.",
            ));
        }
        let token_hash = hash_secret(refresh_token.trim());
        let (token, grant) = self.token_and_grant(&token_hash).await?.ok_or_else(bad_grant)?;
        if grant.client_id != client.id {
            return Err(bad_grant());
        }
        let now = self.clock.now();
        match refresh_outcome(&token, &grant, now) {
            RefreshOutcome::Rotate => {}
            RefreshOutcome::Refuse => return Err(bad_grant()),
            RefreshOutcome::RevokeGrant => {
                self.revoke_replayed_grant(&grant, &client.name).await?;
                return Err(bad_grant());
            }
        }
        let access_scopes = refreshed_scopes(&token.scopes, scope)?;
        self.consenting_user(&grant).await?;
        let mut tx = self.store.write().await.map_err(store_failure)?;
        if !tx.use_oauth_token(&token_hash, now).await.map_err(store_failure)? {
            drop(tx);
            self.revoke_replayed_grant(&grant, &client.name).await?;
            return Err(bad_grant());
        }
        let issued =
            self.issue_tokens(&mut *tx, &grant, &access_scopes, Some(&token.scopes)).await?;
        tx.commit().await.map_err(store_failure)?;
        Ok(issued)
    }

    /// RFC 7009: revokes a token. A refresh token takes its whole grant with it; an access
    /// token only itself. Unknown tokens, and tokens of another client, are ignored (the answer
    /// is the same, so it tells nothing). Client credentials, when presented, must be right;
    /// without them, holding the token is enough to revoke it.
    pub async fn revoke_oauth_token(
        &self,
        credentials: &ClientCredentials,
        token: &str,
    ) -> Result<(), OAuthError> {
        let client = match credentials.client_id {
            Some(_) => Some(self.authenticate_oauth_client(credentials).await?),
            None => None,
        };
        let token_hash = hash_secret(token.trim());
        let Some((token, grant)) = self.token_and_grant(&token_hash).await? else { return Ok(()) };
        if client.as_ref().is_some_and(|c| c.id != grant.client_id) {
            return Ok(());
        }
        match token.kind {
            TokenKind::Access => {
                let mut tx = self.store.write().await.map_err(store_failure)?;
                tx.use_oauth_token(&token_hash, self.clock.now()).await.map_err(store_failure)?;
                tx.commit().await.map_err(store_failure)?;
            }
            TokenKind::Refresh => {
                let ctx = Self::client_triggered(&grant);
                self.revoke_grant(&ctx, &grant, "revoked by the client").await?;
            }
        }
        Ok(())
    }

    /// Checks an OAuth access token (`pca_…`) for `/mcp`: unknown, expired, revoked (or its
    /// grant revoked) or a deactivated user → `Unauthenticated`. Refreshes the grant's
    /// `last_used_at` at most every five minutes.
    pub async fn authenticate_oauth_access_token(
        &self,
        token: &str,
    ) -> Result<OAuthCaller, ServiceError> {
        let token_hash = hash_secret(token.trim());
        let (token, grant, client) = {
            let mut tx = self.store.read().await?;
            let token = tx.get_oauth_token(&token_hash).await?.ok_or_else(invalid_access_token)?;
            let grant =
                tx.get_oauth_grant(token.grant_id).await?.ok_or_else(invalid_access_token)?;
            let client =
                tx.get_oauth_client(grant.client_id).await?.ok_or_else(invalid_access_token)?;
            (token, grant, client)
        };
        let now = self.clock.now();
        if !portcullis_domain::oauth::access_token_usable(&token, &grant, now) {
            return Err(invalid_access_token());
        }
        let actor = self.user_actor(grant.org_id, grant.user_id).await.map_err(|e| match e {
            ServiceError::Unauthenticated(_) => invalid_access_token(),
            other => other,
        })?;
        if grant.last_used_at.is_none_or(|at| now - at >= LAST_USED_GRANULARITY) {
            let mut tx = self.store.write().await?;
            tx.touch_oauth_grant(grant.id, now).await?;
            tx.commit().await?;
        }
        Ok(OAuthCaller {
            actor,
            scopes: token.scopes,
            client_id: client.id.to_string(),
            client_name: client.name,
        })
    }

    /// The assistants connected for the signed-in person; with `everyone`, for everyone in the
    /// organization (administrators only).
    pub async fn connected_assistants(
        &self,
        ctx: &Ctx,
        everyone: bool,
    ) -> Result<Vec<ConnectedAssistant>, ServiceError> {
        let only = if everyone {
            ctx.actor.require_org_admin()?;
            None
        } else {
            Some(ctx.actor.user_id().ok_or_else(|| {
                ServiceError::Forbidden("Only a person has connected assistants.".into())
            })?)
        };
        let mut tx = self.store.read().await?;
        Ok(tx.list_oauth_grants(ctx.org_id(), only).await?)
    }

    /// Disconnects an assistant: the person themself, or an administrator of their organization.
    /// Its access and refresh tokens stop working at once (audited).
    pub async fn revoke_connected_assistant(
        &self,
        ctx: &Ctx,
        grant_id: Uuid,
    ) -> Result<(), ServiceError> {
        let not_found = || ServiceError::not_found("Connected assistant", grant_id);
        let grant = {
            let mut tx = self.store.read().await?;
            tx.get_oauth_grant(grant_id).await?.ok_or_else(not_found)?
        };
        if grant.org_id != ctx.org_id() || grant.revoked_at.is_some() {
            return Err(not_found());
        }
        if ctx.actor.user_id() != Some(grant.user_id) {
            ctx.actor.require_org_admin()?;
        }
        self.revoke_grant(ctx, &grant, "revoked in the console").await
    }

    /// The grant's person must still be allowed to act (not deactivated).
    async fn consenting_user(&self, grant: &OAuthGrant) -> Result<Actor, OAuthError> {
        self.user_actor(grant.org_id, grant.user_id).await.map_err(|e| match e {
            ServiceError::Unauthenticated(_) => bad_grant(),
            other => other.into(),
        })
    }

    /// The actor recorded when the client (not a person in the console) made a grant end: the
    /// server itself, in the grant's organization.
    fn client_triggered(grant: &OAuthGrant) -> Ctx {
        Ctx::new(Actor { org_id: grant.org_id, kind: ActorKind::System }, None)
    }

    /// A code or refresh token came back after it was used: whoever holds the grant's tokens
    /// may not be the client, so the grant goes.
    async fn revoke_replayed_grant(
        &self,
        grant: &OAuthGrant,
        client_name: &str,
    ) -> Result<(), OAuthError> {
        tracing::warn!(grant = %grant.id, client = client_name, "OAuth: a used code or refresh token was presented again; revoking the grant");
        let ctx = Self::client_triggered(grant);
        Ok(self
            .revoke_grant(&ctx, grant, "a used code or refresh token was presented again")
            .await?)
    }

    async fn revoke_grant(
        &self,
        ctx: &Ctx,
        grant: &OAuthGrant,
        reason: &str,
    ) -> Result<(), ServiceError> {
        let client_name = {
            let mut tx = self.store.read().await?;
            tx.get_oauth_client(grant.client_id).await?.map(|c| c.name).unwrap_or_default()
        };
        let mut tx = self.write_tx(grant.org_id).await?;
        if tx.revoke_oauth_grant(grant.org_id, grant.id, self.clock.now()).await? {
            let mut after = grant_snapshot(grant, &client_name);
            after["reason"] = serde_json::json!(reason);
            self.audit(
                &mut *tx,
                ctx,
                Change::new(AuditAction::OAuthGrantRevoked, "oauth_grant", grant.id)
                    .before(grant_snapshot(grant, &client_name))
                    .after(after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn token_and_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(OAuthToken, OAuthGrant)>, OAuthError> {
        let mut tx = self.store.read().await.map_err(store_failure)?;
        let Some(token) = tx.get_oauth_token(token_hash).await.map_err(store_failure)? else {
            return Ok(None);
        };
        let grant = tx.get_oauth_grant(token.grant_id).await.map_err(store_failure)?;
        Ok(grant.map(|grant| (token, grant)))
    }

    /// A fresh access and refresh token of the grant, written in the caller's transaction.
    async fn issue_tokens(
        &self,
        tx: &mut dyn portcullis_store::WriteTx,
        grant: &OAuthGrant,
        access_scopes: &McpScopes,
        refresh_scopes: Option<&McpScopes>,
    ) -> Result<IssuedTokens, OAuthError> {
        let now = self.clock.now();
        let access = new_oauth_access_token();
        let refresh = refresh_scopes.map(|scopes| (new_oauth_refresh_token(), scopes));
        let mut tokens = vec![(&access, TokenKind::Access, access_scopes)];
        if let Some((secret, scopes)) = &refresh {
            tokens.push((secret, TokenKind::Refresh, scopes));
        }
        for (secret, kind, scopes) in tokens {
            let token = OAuthToken {
                token_hash: hash_secret(secret),
                grant_id: grant.id,
                kind,
                scopes: scopes.clone(),
                created_at: now,
                expires_at: now + kind.lifetime(),
                used_at: None,
            };
            tx.insert_oauth_token(&token).await.map_err(store_failure)?;
        }
        tx.touch_oauth_grant(grant.id, now).await.map_err(store_failure)?;
        Ok(IssuedTokens {
            access_token: access,
            refresh_token: refresh.map(|(secret, _)| secret),
            expires_in: TokenKind::Access.lifetime().num_seconds(),
            scopes: access_scopes.clone(),
        })
    }
}
