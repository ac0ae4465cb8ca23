//! Single sign-on to the console with OpenID Connect (authorization code flow with PKCE).
//!
//! - The provider is the server's (`--oidc-issuer`, `--oidc-client-id`, `--oidc-client-secret`)
//!   or an organization's own, set through the API; its discovery document and keys are fetched
//!   when needed and kept for a few minutes.
//! - Starting a sign-in makes a random `state`, `nonce` and PKCE verifier and seals them, with the
//!   organization and the time, into a value the browser keeps in a cookie for the round trip
//!   (encrypted and authenticated with the master key: nothing to store, any server of a cluster
//!   can finish what another started).
//! - Finishing it checks the `state`, exchanges the code with the verifier and the client secret,
//!   and has the ID token checked against the provider's keys (signature, issuer, audience,
//!   expiry, nonce). Who signs in is then decided by the domain rule (`sso::decide_sign_in`):
//!   a verified e-mail of a person the organization knows, or one created just in time where the
//!   organization allows it. The session opened is the console's usual one (server-side, idle
//!   and absolute lifetimes); it ends when the person is deactivated.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, HttpClientError, HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SubjectIdentifier, TokenResponse,
};
use portcullis_domain::egress::TargetHost;
use portcullis_domain::sso::{
    decide_sign_in, issuer_url, OrganizationSso, SignInDecision, SignInScope, SsoProvider,
    VerifiedIdentity,
};
use portcullis_domain::{AuditAction, OrgRole, UserStatus};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{Actor, ActorKind, Change, Ctx, NewUser, Service, ServiceError};

/// How long a started sign-in may take at the provider.
const SIGN_IN_WINDOW: Duration = Duration::minutes(10);
/// How long a provider's discovery document and keys are kept.
const METADATA_TTL: StdDuration = StdDuration::from_secs(300);
/// How long a call to the provider may take.
const PROVIDER_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// The server's own provider registration.
#[derive(Clone)]
pub struct ServerProvider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ServerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How the server signs people in with OpenID Connect.
#[derive(Debug, Clone, Default)]
pub struct SsoSettings {
    /// The server's provider (`--oidc-issuer` …), used by organizations without their own.
    pub server_provider: Option<ServerProvider>,
    /// Where browsers reach the server (`--public-url`); the redirect URI is
    /// `{public_url}/login/oidc/callback`.
    pub public_url: Option<url::Url>,
    /// Accept e-mail addresses the provider does not mark verified (`--oidc-trust-email`; for
    /// providers that send no `email_verified` claim, such as Entra ID).
    pub trust_email: bool,
}

/// The settings, an HTTP client for providers, and their discovery documents.
pub(crate) struct SsoRuntime {
    settings: SsoSettings,
    http: reqwest::Client,
    metadata: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl Default for SsoRuntime {
    fn default() -> Self {
        SsoRuntime::new(SsoSettings::default())
    }
}

impl SsoRuntime {
    fn new(settings: SsoSettings) -> Self {
        // Providers' endpoints are followed only as their discovery document names them: no
        // redirects (a redirect could lead the server to an address nobody configured).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self { settings, http, metadata: Mutex::new(HashMap::new()) }
    }
}

/// A started sign-in: where to send the browser, and the sealed value it must bring back.
pub struct SsoStart {
    pub authorize_url: String,
    pub pending: String,
}

/// A finished sign-in: the new session's id (for the cookie) and the person.
pub struct SsoSignIn {
    pub session_id: String,
    pub actor: Actor,
}

/// What the browser carries between the start and the callback (sealed).
#[derive(Serialize, Deserialize)]
struct Pending {
    /// The organization whose sign-in link was used, if any.
    org: Option<Uuid>,
    issuer: String,
    state: String,
    nonce: String,
    verifier: String,
    at: DateTime<Utc>,
}

/// A provider to talk to, with its secret in the clear (only in memory, for the call).
struct ProviderUse {
    /// An organization's own provider (its addresses pass the egress policy), not the
    /// server's, which the operator configured.
    own: bool,
    issuer: String,
    client_id: String,
    client_secret: String,
}

/// The HTTP client the OpenID library calls providers with: ours, through
/// [`Service::provider_call`] (a named type, so that its future is `Send` for every lifetime).
struct ProviderHttp {
    service: Service,
    own: bool,
}

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let (service, own) = (self.service.clone(), self.own);
        Box::pin(async move { service.provider_call(own, request).await })
    }
}

/// A client made from a provider's discovery document.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn provider_client(
    metadata: CoreProviderMetadata,
    provider: &ProviderUse,
    redirect: String,
) -> Result<ProviderClient, ServiceError> {
    let redirect = RedirectUrl::new(redirect).map_err(|e| provider_error("redirect URI", e))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// An organization's sign-in settings as the API shows them (never the client secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoView {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_configured: bool,
    pub allow_just_in_time: bool,
    /// The server's provider is used (the organization has none of its own).
    pub uses_server_provider: bool,
    pub sign_in_url: Option<String>,
    pub redirect_uri: Option<String>,
}

/// A change to an organization's sign-in settings. The provider fields go together: all three
/// set an own provider, `clear_provider` goes back to the server's.
#[derive(Debug, Clone, Default)]
pub struct SsoChange {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub clear_provider: bool,
    pub allow_just_in_time: Option<bool>,
}

fn refused(message: &str) -> ServiceError {
    ServiceError::Forbidden(message.to_string())
}

fn provider_error(what: &str, err: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %err, "single sign-on: {what}");
    ServiceError::Upstream(format!("The identity provider could not be used ({what})."))
}

fn expired() -> ServiceError {
    ServiceError::Unauthenticated(
        "This sign-in has expired or did not start here. Start again from the sign-in page.".into(),
    )
}

impl Service {
    /// The URL the server is reached at, without a trailing slash (`--public-url`), if set.
    pub fn public_base_url(&self) -> Option<String> {
        let url = self.sso.settings.public_url.as_ref()?;
        Some(url.as_str().trim_end_matches('/').to_string())
    }
}

impl Service {
    /// The same service with these single sign-on settings.
    pub fn with_sso(mut self, settings: SsoSettings) -> Self {
        self.sso = Arc::new(SsoRuntime::new(settings));
        self
    }

    /// Does the server have its own provider (the sign-in page shows its button)?
    pub fn has_server_sso(&self) -> bool {
        self.sso.settings.server_provider.is_some()
    }

    /// Where the sign-in page's single sign-on button goes: the server's provider, else the own
    /// provider of the one organization a server hosts; `None` hides the button.
    pub async fn sso_sign_in_link(&self) -> Result<Option<String>, ServiceError> {
        if self.sso.settings.public_url.is_none() {
            return Ok(None);
        }
        if self.has_server_sso() {
            return Ok(Some("/login/oidc".into()));
        }
        let mut tx = self.store.read().await?;
        let Some(org_id) = tx.sole_organization_id().await? else { return Ok(None) };
        let own = tx.get_organization_sso(org_id).await?.and_then(|s| s.provider);
        Ok(own.map(|_| format!("/login/oidc/{org_id}")))
    }

    fn redirect_uri(&self) -> Option<String> {
        let base = self.sso.settings.public_url.as_ref()?;
        Some(format!("{}/login/oidc/callback", base.as_str().trim_end_matches('/')))
    }

    /// The provider for a sign-in through `org`'s link (its own, else the server's) or through
    /// the server's button (`None`).
    async fn provider_for(
        &self,
        org: Option<Uuid>,
    ) -> Result<(ProviderUse, Option<OrganizationSso>), ServiceError> {
        let not_set_up = || ServiceError::NotFound("Single sign-on is not set up here.".into());
        let sso = match org {
            Some(org_id) => {
                let mut tx = self.store.read().await?;
                tx.get_organization(org_id).await?.ok_or_else(not_set_up)?;
                tx.get_organization_sso(org_id).await?
            }
            None => None,
        };
        if let Some(own) = sso.as_ref().and_then(|s| s.provider.as_ref()) {
            let secret = self.secrets.open(&own.client_secret_sealed)?;
            let client_secret = String::from_utf8(secret)
                .map_err(|_| ServiceError::Crypto("client secret is not text".into()))?;
            let used = ProviderUse {
                own: true,
                issuer: own.issuer.clone(),
                client_id: own.client_id.clone(),
                client_secret,
            };
            return Ok((used, sso));
        }
        let server = self.sso.settings.server_provider.as_ref().ok_or_else(not_set_up)?;
        let used = ProviderUse {
            own: false,
            issuer: server.issuer.clone(),
            client_id: server.client_id.clone(),
            client_secret: server.client_secret.clone(),
        };
        Ok((used, sso))
    }

    /// The provider's discovery document (with its keys), from the cache when fresh.
    async fn provider_metadata(
        &self,
        issuer: &str,
        own: bool,
    ) -> Result<CoreProviderMetadata, ServiceError> {
        if let Ok(cache) = self.sso.metadata.lock() {
            if let Some((at, metadata)) = cache.get(issuer) {
                if at.elapsed() < METADATA_TTL {
                    return Ok(metadata.clone());
                }
            }
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(|e| provider_error("issuer", e))?;
        let http = ProviderHttp { service: self.clone(), own };
        let metadata = CoreProviderMetadata::discover_async(url, &http)
            .await
            .map_err(|e| provider_error("discovery", e))?;
        if let Ok(mut cache) = self.sso.metadata.lock() {
            cache.insert(issuer.to_string(), (Instant::now(), metadata.clone()));
        }
        Ok(metadata)
    }

    /// One HTTP call to a provider. An organization's own provider is held to the egress policy
    /// on every call (discovery, keys, token, user info: each URL its discovery document names).
    async fn provider_call(
        &self,
        own: bool,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpClientError<reqwest::Error>> {
        if own {
            let url = url::Url::parse(&request.uri().to_string())
                .map_err(|e| HttpClientError::Other(e.to_string()))?;
            self.check_egress(&url)
                .await
                .map_err(|_| HttpClientError::Other(format!("{url}: address not allowed")))?;
        }
        openidconnect::AsyncHttpClient::call(&self.sso.http, request).await
    }

    /// Refuses a URL of an organization's provider whose host is, or resolves to, an address
    /// the server's egress policy refuses (the webhook policy: public addresses and the allowed
    /// networks), so that configuring a provider cannot make the server call internal services.
    async fn check_egress(&self, url: &url::Url) -> Result<(), ServiceError> {
        let shown = url.to_string();
        let host = TargetHost::of(url).ok_or_else(|| egress_refused(&shown, "no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let policy = self.webhooks.egress.clone();
        policy.check_target(&host).map_err(|b| egress_refused(&shown, b.to_string()))?;
        if let TargetHost::Name(name) = host {
            let found = tokio::net::lookup_host(format!("{name}:{port}")).await;
            let addresses = found.map_err(|e| egress_refused(&shown, e.to_string()))?;
            for address in addresses {
                policy.check(address.ip()).map_err(|b| egress_refused(&shown, b.to_string()))?;
            }
        }
        Ok(())
    }

    /// Starts a sign-in: the provider's authorization URL (code flow, PKCE S256, `state`,
    /// `nonce`, scopes `openid email profile`) and the sealed round-trip value.
    pub async fn begin_sso_sign_in(&self, org: Option<Uuid>) -> Result<SsoStart, ServiceError> {
        let redirect = self.redirect_uri().ok_or_else(|| {
            ServiceError::NotFound("Single sign-on needs the server's public URL.".into())
        })?;
        let (provider, _) = self.provider_for(org).await?;
        let metadata = self.provider_metadata(&provider.issuer, provider.own).await?;
        let client = provider_client(metadata, &provider, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            org,
            issuer: provider.issuer,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            at: self.clock.now(),
        };
        let json = serde_json::to_vec(&pending).map_err(|e| ServiceError::Crypto(e.to_string()))?;
        let sealed = URL_SAFE_NO_PAD.encode(self.secrets.seal(&json)?);
        Ok(SsoStart { authorize_url: url.to_string(), pending: sealed })
    }

    /// Finishes a sign-in from the provider's redirect: checks it, decides who signs in and
    /// opens their console session.
    pub async fn finish_sso_sign_in(
        &self,
        pending: &str,
        code: &str,
        state: &str,
    ) -> Result<SsoSignIn, ServiceError> {
        let sealed = URL_SAFE_NO_PAD.decode(pending).map_err(|_| expired())?;
        let json = self.secrets.open(&sealed).map_err(|_| expired())?;
        let pending: Pending = serde_json::from_slice(&json).map_err(|_| expired())?;
        let now = self.clock.now();
        if now - pending.at > SIGN_IN_WINDOW || now < pending.at - Duration::minutes(1) {
            return Err(expired());
        }
        if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(expired());
        }
        let (provider, sso) = self.provider_for(pending.org).await?;
        if provider.issuer != pending.issuer {
            return Err(expired());
        }
        let identity = self.verified_identity(&provider, &pending, code).await?;
        let scope = match pending.org {
            Some(org_id) => SignInScope::Organization {
                org_id,
                allow_just_in_time: sso.is_some_and(|s| s.allow_just_in_time),
            },
            None => self.server_sign_in_scope().await?,
        };
        let people = match identity.email.as_deref() {
            Some(email) => self.store.read().await?.find_users_by_email(email).await?,
            None => Vec::new(),
        };
        let (org_id, user_id) =
            match decide_sign_in(&identity, self.sso.settings.trust_email, scope, &people) {
                SignInDecision::Existing { org_id, user_id } => (org_id, user_id),
                SignInDecision::JustInTime { org_id, email } => {
                    (org_id, self.create_user_just_in_time(org_id, &email, &identity).await?)
                }
                SignInDecision::Refused(why) => return Err(refused(why.message())),
            };
        let actor = self.user_actor(org_id, user_id).await?;
        self.record_sign_in(&Ctx::new(actor, None)).await?;
        let actor = self.user_actor(org_id, user_id).await?;
        let session_id = self.start_console_session(actor, user_id, None).await?;
        tracing::info!(%org_id, %user_id, "signed in through single sign-on");
        Ok(SsoSignIn { session_id, actor })
    }

    /// Through the server's button: the one organization of a server that hosts one (its
    /// just-in-time setting applies), else whichever organization the person belongs to.
    async fn server_sign_in_scope(&self) -> Result<SignInScope, ServiceError> {
        let mut tx = self.store.read().await?;
        let Some(org_id) = tx.sole_organization_id().await? else {
            return Ok(SignInScope::AnyOrganization);
        };
        let sso = tx.get_organization_sso(org_id).await?;
        Ok(SignInScope::Organization {
            org_id,
            allow_just_in_time: sso.is_some_and(|s| s.allow_just_in_time),
        })
    }

    /// Exchanges the code and checks the ID token; reads the user info endpoint too when the
    /// token carries no e-mail (some providers keep profile claims there).
    async fn verified_identity(
        &self,
        provider: &ProviderUse,
        pending: &Pending,
        code: &str,
    ) -> Result<VerifiedIdentity, ServiceError> {
        let redirect = self.redirect_uri().ok_or_else(expired)?;
        let metadata = self.provider_metadata(&provider.issuer, provider.own).await?;
        let client = provider_client(metadata, provider, redirect)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| provider_error("token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&ProviderHttp { service: self.clone(), own: provider.own })
            .await
            .map_err(|e| provider_error("code exchange", e))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| provider_error("token response", "no ID token in the token response"))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .map_err(|e| provider_error("ID token", e))?;
        let mut identity = VerifiedIdentity {
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            given_name: claims.given_name().and_then(|c| c.get(None)).map(|v| v.to_string()),
            family_name: claims.family_name().and_then(|c| c.get(None)).map(|v| v.to_string()),
            name: claims.name().and_then(|c| c.get(None)).map(|v| v.to_string()),
        };
        if identity.email.is_none() {
            let subject = SubjectIdentifier::new(identity.subject.clone());
            let info: openidconnect::core::CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(subject))
                .map_err(|e| provider_error("user info endpoint", e))?
                .request_async(&ProviderHttp { service: self.clone(), own: provider.own })
                .await
                .map_err(|e| provider_error("user info", e))?;
            identity.email = info.email().map(|e| e.to_string());
            identity.email_verified = info.email_verified().unwrap_or(false);
            identity.given_name = identity
                .given_name
                .or_else(|| info.given_name().and_then(|c| c.get(None)).map(|v| v.to_string()));
            identity.family_name = identity
                .family_name
                .or_else(|| info.family_name().and_then(|c| c.get(None)).map(|v| v.to_string()));
            identity.name = identity
                .name
                .or_else(|| info.name().and_then(|c| c.get(None)).map(|v| v.to_string()));
        }
        Ok(identity)
    }

    /// Creates the person the provider vouched for, as an active user with the default role.
    async fn create_user_just_in_time(
        &self,
        org_id: Uuid,
        email: &str,
        identity: &VerifiedIdentity,
    ) -> Result<Uuid, ServiceError> {
        let (first_name, last_name) = identity.names();
        let ctx = Ctx::new(Actor { org_id, kind: ActorKind::System }, None);
        let new = NewUser {
            first_name,
            last_name,
            email: email.to_string(),
            manager_id: None,
            role: Some(OrgRole::User),
            status: UserStatus::Active,
        };
        let mut tx = self.write_tx(org_id).await?;
        let user = self.insert_user_in(&mut *tx, &ctx, new, OrgRole::User).await?;
        tx.commit().await?;
        tracing::info!(%org_id, user_id = %user.id, "user created just in time at sign-in");
        Ok(user.id)
    }

    /// The organization's sign-in settings (administrators).
    pub async fn get_sso(&self, ctx: &Ctx) -> Result<SsoView, ServiceError> {
        ctx.actor.require_org_admin()?;
        let sso = self.store.read().await?.get_organization_sso(ctx.org_id()).await?;
        Ok(self.sso_view(ctx.org_id(), sso.as_ref()))
    }

    fn sso_view(&self, org_id: Uuid, sso: Option<&OrganizationSso>) -> SsoView {
        let own = sso.and_then(|s| s.provider.as_ref());
        let server = self.sso.settings.server_provider.as_ref();
        let base = self.sso.settings.public_url.as_ref().map(|u| u.as_str().trim_end_matches('/'));
        SsoView {
            issuer: own.map(|p| p.issuer.clone()).or_else(|| server.map(|p| p.issuer.clone())),
            client_id: own
                .map(|p| p.client_id.clone())
                .or_else(|| server.map(|p| p.client_id.clone())),
            client_secret_configured: own.is_some() || server.is_some(),
            allow_just_in_time: sso.is_some_and(|s| s.allow_just_in_time),
            uses_server_provider: own.is_none() && server.is_some(),
            sign_in_url: base
                .filter(|_| own.is_some() || server.is_some())
                .map(|b| format!("{b}/login/oidc/{org_id}")),
            redirect_uri: self.redirect_uri(),
        }
    }

    /// Changes the organization's sign-in settings. A new provider is checked first: its
    /// discovery document must load and name the same issuer.
    pub async fn update_sso(&self, ctx: &Ctx, change: SsoChange) -> Result<SsoView, ServiceError> {
        ctx.actor.require_org_admin()?;
        let org_id = ctx.org_id();
        let given = [&change.issuer, &change.client_id, &change.client_secret];
        let provider = match given.iter().filter(|v| v.is_some()).count() {
            0 => None,
            3 if !change.clear_provider => {
                let (Some(issuer), Some(client_id), Some(secret)) =
                    (change.issuer, change.client_id, change.client_secret)
                else {
                    return Err(ServiceError::Invalid("issuer is required".into()));
                };
                let issuer = issuer_url(&issuer)?;
                let client_id = required_text("clientId", &client_id)?;
                let secret = required_text("clientSecret", &secret)?;
                let parsed = url::Url::parse(&issuer)
                    .map_err(|e| ServiceError::Invalid(format!("issuer: {e}")))?;
                self.check_egress(&parsed).await.map_err(|_| {
                        ServiceError::Invalid(format!(
                            "issuer: the server may not call {issuer} (its egress policy allows public addresses and the networks of --webhook-allow-network)"
                        ))
                    })?;
                self.provider_metadata(&issuer, true).await.map_err(|_| {
                    ServiceError::Invalid(format!(
                        "issuer: could not read {issuer}/.well-known/openid-configuration"
                    ))
                })?;
                let sealed = self.secrets.seal(secret.as_bytes())?;
                Some(SsoProvider { issuer, client_id, client_secret_sealed: sealed })
            }
            _ if change.clear_provider => {
                return Err(ServiceError::Invalid(
                    "useServerProvider cannot be combined with issuer, clientId or clientSecret"
                        .into(),
                ))
            }
            _ => {
                return Err(ServiceError::Invalid(
                    "issuer, clientId and clientSecret must be given together".into(),
                ))
            }
        };
        let mut tx = self.write_tx(org_id).await?;
        let before = tx.get_organization_sso(org_id).await?;
        let now = self.clock.now();
        let after = OrganizationSso {
            org_id,
            provider: match (provider, change.clear_provider) {
                (Some(p), _) => Some(p),
                (None, true) => None,
                (None, false) => before.as_ref().and_then(|b| b.provider.clone()),
            },
            allow_just_in_time: change
                .allow_just_in_time
                .unwrap_or_else(|| before.as_ref().is_some_and(|b| b.allow_just_in_time)),
            updated_at: now,
        };
        tx.save_organization_sso(&after).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::SsoSettingsUpdated, "organization", org_id)
                .before(before.as_ref().map(sso_snapshot).unwrap_or(serde_json::Value::Null))
                .after(sso_snapshot(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(self.sso_view(org_id, Some(&after)))
    }
}

fn egress_refused(url: &str, why: String) -> ServiceError {
    tracing::warn!(url, "single sign-on: provider address refused: {why}");
    ServiceError::Upstream(
        "The identity provider could not be used (its address is not allowed).".into(),
    )
}

fn required_text(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 2000 {
        return Err(ServiceError::Invalid(format!("{field} must be 1 to 2000 characters")));
    }
    Ok(value.to_string())
}

/// The audit view of sign-in settings (never the secret).
fn sso_snapshot(sso: &OrganizationSso) -> serde_json::Value {
    serde_json::json!({
        "issuer": sso.provider.as_ref().map(|p| &p.issuer),
        "clientId": sso.provider.as_ref().map(|p| &p.client_id),
        "allowJustInTimeCreation": sso.allow_just_in_time,
    })
}
