//! Sign-in, sessions and CSRF tokens.
use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::User;
use portcullis_service::Ctx;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::layout::{page, ConsoleError};

pub const SESSION_COOKIE: &str = "portcullis_session";

/// A signed-in person: their context for service calls, their user, and the form CSRF token.
pub struct Session {
    pub ctx: Ctx,
    pub user: User,
    pub csrf: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.user.role.is_org_admin()
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ConsoleError> {
        // Both are hex of a hash; comparing them is not secret-dependent in a useful way, but keep
        // it constant-time anyway.
        let ok = sent.len() == self.csrf.len()
            && sent.bytes().zip(self.csrf.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if ok {
            Ok(())
        } else {
            Err(ConsoleError::new(403, "This form has expired or did not come from this site. Reload the page and try again."))
        }
    }
}

/// The CSRF token of a session: derived from the session cookie, which an attacker's page cannot
/// read (HttpOnly, SameSite=Strict), so a forged form cannot carry it.
fn csrf_for(cookie: &str) -> String {
    Sha256::digest(format!("portcullis-csrf:{cookie}").as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_string())
        })
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let cookie = session_cookie(parts).ok_or_else(to_login)?;
        let token = state.service.open_session(&cookie).map_err(|_| to_login())?;
        let actor = state.service.authenticate_bearer(&token).await.map_err(|_| to_login())?;
        let request_id =
            parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        let ctx = Ctx::new(actor, request_id);
        let user_id = ctx.actor.user_id().ok_or_else(to_login)?;
        let user = state.service.get_user(&ctx, user_id).await.map_err(|_| to_login())?;
        Ok(Session { ctx, user, csrf: csrf_for(&cookie) })
    }
}

pub async fn login_page() -> Response {
    login_form(None).into_response()
}

fn login_form(error: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in to Portcullis" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                label for="token" { "Personal access token" }
                input id="token" name="token" type="password" autocomplete="off" required autofocus;
                p.hint { "Ask an administrator for a token (" code { "portcullis token create" } ")." }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// Exchanges a valid token for a session cookie.
pub async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let token = form.token.trim();
    let Ok(actor) = state.service.authenticate_bearer(token).await else {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            login_form(Some("That token is not valid, has expired or was revoked.")),
        )
            .into_response();
    };
    // Signing in for the first time validates an invited person's account.
    if state.service.record_sign_in(&Ctx::new(actor, None)).await.is_err() {
        return ConsoleError::new(500, "Could not start a session.").into_response();
    }
    let Ok(cookie) = state.service.seal_session(token) else {
        return ConsoleError::new(500, "Could not start a session.").into_response();
    };
    let set = format!(
        "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200"
    );
    ([(SET_COOKIE, set)], Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(session: Session, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = session.check_csrf(&form.csrf) {
        return e.into_response();
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    ([(SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}
