//! Sign-in through the identity provider (OpenID Connect).
//!
//! - `GET /login/oidc` (the server's provider) and `GET /login/oidc/{organizationId}` (an
//!   organization's own link) start a sign-in: the sealed round-trip value goes into a cookie
//!   scoped to `/login/oidc` and the browser goes to the provider.
//! - `GET /login/oidc/callback` finishes it. The provider's redirect is a cross-site navigation,
//!   so the round-trip cookie is `SameSite=Lax` (a `Strict` one would not come back), and the
//!   session cookie (`Strict`) set here is first sent by the page's own same-site refresh to `/`.
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use maud::html;
use portcullis_api::AppState;
use portcullis_service::ServiceError;
use serde::Deserialize;
use uuid::Uuid;

use crate::layout::{page, ConsoleError};
use crate::session::{clear_cookie, cookie, set_cookie, SESSION_COOKIE};

/// The cookie that carries a started sign-in to the callback.
pub const SSO_COOKIE: &str = "portcullis_oidc";
const SSO_PATH: &str = "/login/oidc";
/// As long as the service accepts a started sign-in.
const SSO_COOKIE_SECONDS: i64 = 600;

fn round_trip_cookie(value: &str, max_age: i64) -> (HeaderName, String) {
    (
        SET_COOKIE,
        format!(
            "{SSO_COOKIE}={value}; Path={SSO_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"
        ),
    )
}

/// A sign-in that could not go on, on the sign-in page's frame with a way back.
fn sign_in_failed(err: ServiceError) -> Response {
    let console = ConsoleError::from(err);
    let status = console.status;
    let body = page(
        "Sign-in failed",
        None,
        html! {
            h1 { "Sign-in failed" }
            p.error role="alert" { (console.message) }
            p { a href="/login" { "Back to the sign-in page" } }
        },
    );
    (status, AppendHeaders([round_trip_cookie("", 0)]), body).into_response()
}

async fn start(state: &AppState, org: Option<Uuid>) -> Response {
    match state.service.begin_sso_sign_in(org).await {
        Ok(started) => (
            AppendHeaders([round_trip_cookie(&started.pending, SSO_COOKIE_SECONDS)]),
            Redirect::to(&started.authorize_url),
        )
            .into_response(),
        Err(err) => sign_in_failed(err),
    }
}

/// `GET /login/oidc`: sign in with the server's identity provider.
pub async fn start_server(State(state): State<AppState>) -> Response {
    start(&state, None).await
}

/// `GET /login/oidc/{organizationId}`: sign in with the organization's identity provider.
pub async fn start_organization(
    State(state): State<AppState>,
    Path(org_id): Path<String>,
) -> Response {
    match Uuid::parse_str(&org_id) {
        Ok(org_id) => start(&state, Some(org_id)).await,
        Err(_) => {
            sign_in_failed(ServiceError::NotFound("Single sign-on is not set up here.".into()))
        }
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/oidc/callback`: the provider sends the browser back here.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Callback>,
) -> Response {
    if let Some(error) = params.error {
        let code: String =
            error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return sign_in_failed(ServiceError::Forbidden(format!(
            "The identity provider did not sign you in ({code})."
        )));
    }
    let expired = || {
        ServiceError::Unauthenticated(
            "This sign-in has expired or did not start here. Start again from the sign-in page."
                .into(),
        )
    };
    let (Some(code), Some(returned_state), Some(pending)) =
        (params.code, params.state, cookie(&headers, SSO_COOKIE))
    else {
        return sign_in_failed(expired());
    };
    let signed_in = match state.service.finish_sso_sign_in(&pending, &code, &returned_state).await {
        Ok(signed_in) => signed_in,
        Err(err) => return sign_in_failed(err),
    };
    // A session this browser still had ends now.
    if let Some(previous) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.service.close_console_session(&previous).await;
    }
    let lifetime = state.service.session_config().absolute.num_seconds();
    let next = crate::oauth::after_sign_in(&headers);
    let body = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={next}"));
                title { "Signed in · Portcullis" }
            }
            body { p { "Signed in. " a href=(next) { "Continue" } } }
        }
    };
    (
        AppendHeaders([
            set_cookie(SESSION_COOKIE, &signed_in.session_id, "/", lifetime),
            round_trip_cookie("", 0),
            clear_cookie(crate::session::LOGIN_COOKIE, "/login"),
            crate::oauth::clear_return_cookie(),
        ]),
        [(CACHE_CONTROL, "no-store"), (REFERRER_POLICY, "no-referrer")],
        body,
    )
        .into_response()
}
