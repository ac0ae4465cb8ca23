//! `/api/v1/SingleSignOn` (extension): how the organization's people sign in to the console —
//! its own OpenID provider (or the server's), and whether unknown people the provider vouches
//! for become users just in time.
use axum::extract::State;
use axum::Json;
use portcullis_service::{SsoChange, SsoView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NoQuery, Record};
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{AnyCaller, ApiJson, ApiQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_single_sign_on, update_single_sign_on))
}

const SINGLE_SIGN_ON: &str = "/api/v1/SingleSignOn";

/// The organization's sign-in settings. The client secret is never shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SingleSignOnView {
    /// The OpenID provider people sign in with (the organization's own, else the server's);
    /// null when there is none.
    #[schema(example = "https://acme.okta.com")]
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// A client secret is set (it is write-only).
    pub client_secret_configured: bool,
    /// The organization has no provider of its own and uses the server's.
    pub uses_server_provider: bool,
    /// People the provider vouches for whom the organization does not know yet become users
    /// (role USER, Active) at their first sign-in. Default false: they are refused.
    pub allow_just_in_time_creation: bool,
    /// The organization's own sign-in link (give it to your people, or set it as the
    /// provider's initiate-login URI); null without a provider.
    pub sign_in_url: Option<String>,
    /// The redirect URI to register at the provider.
    pub redirect_uri: Option<String>,
}

impl From<SsoView> for SingleSignOnView {
    fn from(v: SsoView) -> Self {
        Self {
            issuer: v.issuer,
            client_id: v.client_id,
            client_secret_configured: v.client_secret_configured,
            uses_server_provider: v.uses_server_provider,
            allow_just_in_time_creation: v.allow_just_in_time,
            sign_in_url: v.sign_in_url,
            redirect_uri: v.redirect_uri,
        }
    }
}

/// Body of `PATCH /api/v1/SingleSignOn`: only what is present changes. `issuer`, `clientId` and
/// `clientSecret` go together and set the organization's own provider; `useServerProvider: true`
/// removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SingleSignOnBody {
    /// `https://…` (plain `http` only for a provider on the server's own machine). Its
    /// discovery document must load.
    #[schema(example = "https://acme.okta.com")]
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    #[schema(write_only)]
    pub client_secret: Option<String>,
    pub use_server_provider: Option<bool>,
    pub allow_just_in_time_creation: Option<bool>,
}

/// The organization's sign-in settings (API credentials, and administrators and owners with a
/// bearer token).
#[utoipa::path(
    get,
    path = "/api/v1/SingleSignOn",
    tag = "SingleSignOn",
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<SingleSignOnView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "A user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn get_single_sign_on(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> Result<Json<Record<SingleSignOnView>>, ApiError> {
    let view = state.service.get_sso(&ctx).await?;
    Ok(Json(Record::new(view.into(), SINGLE_SIGN_ON.to_string())))
}

/// Changes the organization's sign-in settings (a read-write credential, or an administrator or
/// owner with a bearer token); audited as `sso_settings.updated` (without the secret).
#[utoipa::path(
    patch,
    path = "/api/v1/SingleSignOn",
    tag = "SingleSignOn",
    request_body = SingleSignOnBody,
    security(("API Key" = [], "API Secret" = []), ("Bearer" = [])),
    responses(
        (status = 200, body = Record<SingleSignOnView>),
        (status = 400, description = "Malformed body or unknown field; issuer, clientId and clientSecret not given together; an issuer that is not https or whose discovery document does not load", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only key, or a user who is not an administrator or owner", body = ProblemDetails),
    )
)]
pub async fn update_single_sign_on(
    State(state): State<AppState>,
    AnyCaller(ctx): AnyCaller,
    ApiJson(body): ApiJson<SingleSignOnBody>,
) -> Result<Json<Record<SingleSignOnView>>, ApiError> {
    let change = SsoChange {
        issuer: body.issuer,
        client_id: body.client_id,
        client_secret: body.client_secret,
        clear_provider: body.use_server_provider == Some(true),
        allow_just_in_time: body.allow_just_in_time_creation,
    };
    let view = state.service.update_sso(&ctx, change).await?;
    Ok(Json(Record::new(view.into(), SINGLE_SIGN_ON.to_string())))
}
