//! Sign-in, sessions and CSRF protection.
//!
//! - The session cookie holds a random session id; the session itself (its user, the token it
//!   was opened with, its idle and absolute expiry) lives in the database, so signing out ends it
//!   for every copy of the cookie.
//! - Forms of a session carry a CSRF token derived from the session id, which a page of another
//!   site can neither read nor guess.
//! - The sign-in form is protected against login CSRF (a forged form signing the victim in to an
//!   attacker's account): it carries a token bound to a pre-session cookie that `GET /login` sets
//!   (`SameSite=Strict`, so a cross-site POST does not carry it).
//! - Every state-changing request must also come from our own pages when the browser says where
//!   it comes from (`Sec-Fetch-Site`, else `Origin`).
use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::User;
use portcullis_service::secrets::new_session_id;
use portcullis_service::{Ctx, ServiceError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::layout::{page, ConsoleError};

pub const SESSION_COOKIE: &str = "portcullis_session";
/// The pre-session cookie the sign-in form's CSRF token is bound to.
pub const LOGIN_COOKIE: &str = "portcullis_login";

/// A signed-in person: their context for service calls, their user, and the form CSRF token.
pub struct Session {
    pub ctx: Ctx,
    pub user: User,
    pub csrf: String,
    /// The session id from the cookie (to sign out).
    id: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.user.role.is_org_admin()
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ConsoleError> {
        check_token(sent, &self.csrf)
    }
}

/// Compares a sent form token with the expected one (constant-time).
pub(crate) fn check_token(sent: &str, expected: &str) -> Result<(), ConsoleError> {
    let ok = sent.len() == expected.len()
        && sent.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if ok {
        Ok(())
    } else {
        Err(forged())
    }
}

pub(crate) fn forged() -> ConsoleError {
    ConsoleError::new(
        403,
        "This form has expired or did not come from this site. Reload the page and try again.",
    )
}

/// A form token derived from a secret cookie value, for one purpose.
pub(crate) fn form_token(purpose: &str, cookie: &str) -> String {
    Sha256::digest(format!("portcullis-{purpose}:{cookie}").as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, value) = pair.trim().split_once('=')?;
            (n == name && !value.is_empty()).then(|| value.to_string())
        })
}

/// Does the request come from one of our own pages, as far as the browser tells? `Sec-Fetch-Site`
/// (sent by current browsers, whatever proxies do to `Host`) must be `same-origin` or `none`;
/// without it, an `Origin` must name the host the request was sent to. A request saying neither
/// (not a browser, or a very old one) relies on its form token alone.
pub(crate) fn from_own_pages(headers: &HeaderMap) -> bool {
    let values = |name: &str| -> Vec<&str> {
        headers.get_all(name).iter().map(|v| v.to_str().unwrap_or("?")).collect()
    };
    let sites = values("sec-fetch-site");
    if !sites.is_empty() {
        return sites.iter().all(|site| matches!(*site, "same-origin" | "none"));
    }
    let hosts: Vec<&str> = [values(HOST.as_str()), values("x-forwarded-host")].concat();
    values(ORIGIN.as_str()).iter().all(|origin| {
        let origin_host = origin.split_once("://").map(|(_, host)| host).unwrap_or_default();
        !origin_host.is_empty() && hosts.iter().any(|host| host.eq_ignore_ascii_case(origin_host))
    })
}

pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> (axum::http::HeaderName, String) {
    (
        SET_COOKIE,
        format!(
            "{name}={value}; Path={path}; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
        ),
    )
}

pub(crate) fn clear_cookie(name: &str, path: &str) -> (axum::http::HeaderName, String) {
    set_cookie(name, "", path, 0)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || {
            (AppendHeaders([clear_cookie(SESSION_COOKIE, "/")]), Redirect::to("/login"))
                .into_response()
        };
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        let actor = state.service.console_session(&id).await.map_err(|_| to_login())?;
        if !parts.method.is_safe() && !from_own_pages(&parts.headers) {
            return Err(forged().into_response());
        }
        let request_id =
            parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        let ctx = Ctx::new(actor, request_id);
        let user_id = ctx.actor.user_id().ok_or_else(to_login)?;
        let user = state.service.get_user(&ctx, user_id).await.map_err(|_| to_login())?;
        Ok(Session { ctx, user, csrf: form_token("csrf", &id), id })
    }
}

/// The sign-in page, with a fresh pre-session cookie and the form token bound to it.
pub async fn login_page(State(state): State<AppState>) -> Response {
    let pre_session = new_session_id();
    let sso = state.service.sso_sign_in_link().await.ok().flatten();
    (
        AppendHeaders([set_cookie(LOGIN_COOKIE, &pre_session, "/login", 3600)]),
        login_form(&form_token("login", &pre_session), sso.as_deref(), None),
    )
        .into_response()
}

fn login_form(csrf: &str, sso: Option<&str>, error: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in to Portcullis" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            @if let Some(href) = sso {
                p { a.button id="sso" href=(href) { "Sign in with single sign-on" } }
                p.hint { "Or, for break-glass access and automation, with a personal access token:" }
            }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
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
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// Exchanges a valid token for a new session (never one the browser brought: no fixation).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(pre_session) = cookie(&headers, LOGIN_COOKIE) else {
        return forged().into_response();
    };
    let csrf = form_token("login", &pre_session);
    if !from_own_pages(&headers) || check_token(&form.csrf, &csrf).is_err() {
        return forged().into_response();
    }
    let id = match state.service.open_console_session(form.token.trim()).await {
        Ok((id, _)) => id,
        Err(ServiceError::Unauthenticated(_)) => {
            let again = "That token is not valid, has expired or was revoked.";
            let sso = state.service.sso_sign_in_link().await.ok().flatten();
            return (StatusCode::UNAUTHORIZED, login_form(&csrf, sso.as_deref(), Some(again)))
                .into_response();
        }
        Err(_) => return ConsoleError::new(500, "Could not start a session.").into_response(),
    };
    // A session this browser still had ends now.
    if let Some(previous) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.service.close_console_session(&previous).await;
    }
    let lifetime = state.service.session_config().absolute.num_seconds();
    (
        AppendHeaders([
            set_cookie(SESSION_COOKIE, &id, "/", lifetime),
            clear_cookie(LOGIN_COOKIE, "/login"),
            crate::oauth::clear_return_cookie(),
        ]),
        Redirect::to(&crate::oauth::after_sign_in(&headers)),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Signs out: the session is deleted server-side, so the old cookie opens nothing any more.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = session.check_csrf(&form.csrf) {
        return e.into_response();
    }
    if state.service.close_console_session(&session.id).await.is_err() {
        return ConsoleError::new(500, "Could not end the session.").into_response();
    }
    (AppendHeaders([clear_cookie(SESSION_COOKIE, "/")]), Redirect::to("/login")).into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn requests_from_other_sites_are_recognised() {
        assert!(from_own_pages(&headers(&[])));
        assert!(from_own_pages(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(from_own_pages(&headers(&[("sec-fetch-site", "none")])));
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", "https://p.example")]);
            assert!(!from_own_pages(&h), "{site}");
        }
        let same = headers(&[("origin", "https://p.example:8443"), ("host", "p.example:8443")]);
        assert!(from_own_pages(&same));
        let other = headers(&[("origin", "https://evil.example"), ("host", "p.example")]);
        assert!(!from_own_pages(&other));
        let proxied = headers(&[
            ("origin", "https://p.example"),
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "p.example"),
        ]);
        assert!(from_own_pages(&proxied));
        assert!(!from_own_pages(&headers(&[("origin", "null"), ("host", "p.example")])));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; portcullis_session_x=2; portcullis_session=3")]);
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("3"));
        assert_eq!(cookie(&headers(&[("cookie", "portcullis_session=")]), SESSION_COOKIE), None);
    }

    #[test]
    fn form_tokens_depend_on_purpose_and_cookie() {
        assert_eq!(form_token("csrf", "x"), form_token("csrf", "x"));
        assert_ne!(form_token("csrf", "x"), form_token("login", "x"));
        assert_ne!(form_token("csrf", "x"), form_token("csrf", "y"));
        assert!(check_token(&form_token("csrf", "x"), &form_token("csrf", "x")).is_ok());
        assert!(check_token("", &form_token("csrf", "x")).is_err());
    }
}
