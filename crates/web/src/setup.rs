//! The first-run page: on a database without any organization, `GET /` and `GET /login` lead to
//! `/setup`, which creates the organization and its owner (the code path of `portcullis init`)
//! and shows, once, the owner's personal token and an API key and secret.
//!
//! So that nobody else on the network claims a fresh server first, `portcullis serve` prints a
//! one-time setup code to its log when it starts without an organization, and the form asks for
//! it (compared in constant time). The service refuses the creation, inside its transaction,
//! once any organization exists: of two concurrent submissions only one succeeds.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use portcullis_api::AppState;
use portcullis_service::secrets::new_session_id;
use portcullis_service::ServiceError;
use sha2::{Digest, Sha256};

use crate::admin::Fields;
use crate::layout::{page, ConsoleError};
use crate::session::{check_token, cookie, forged, form_token, from_own_pages, set_cookie};

/// The pre-session cookie the setup form's CSRF token is bound to.
const SETUP_COOKIE: &str = "portcullis_setup";

/// The server's one-time setup code (none when it started with an organization), and whether an
/// organization is known to exist (then the first-run page is closed for good).
#[derive(Clone, Default)]
pub struct Setup {
    code: Option<Arc<str>>,
    done: Arc<AtomicBool>,
}

impl Setup {
    pub fn new(code: Option<String>) -> Self {
        Self { code: code.map(Arc::from), done: Arc::new(AtomicBool::new(false)) }
    }

    /// Is the database still without an organization?
    async fn open(&self, state: &AppState) -> Result<bool, ConsoleError> {
        if self.done.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let open = state.service.needs_setup().await?;
        if !open {
            self.done.store(true, Ordering::Relaxed);
        }
        Ok(open)
    }

    /// Does `sent` match the setup code? Constant time (over the digests, whatever the lengths).
    fn accepts(&self, sent: &str) -> bool {
        let Some(code) = &self.code else { return false };
        let (a, b) = (Sha256::digest(sent.trim().as_bytes()), Sha256::digest(code.as_bytes()));
        a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A new one-time setup code, for `portcullis serve` to print when there is no organization.
pub fn new_setup_code() -> String {
    new_session_id()
}

/// Middleware: while there is no organization, `GET /` and `GET /login` go to `/setup`.
pub async fn first_run(
    State(state): State<AppState>,
    Extension(setup): Extension<Setup>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET && (path == "/" || path == "/login") {
        match setup.open(&state).await {
            Ok(true) => return Redirect::to("/setup").into_response(),
            Ok(false) => {}
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

fn setup_form(csrf: &str, has_code: bool, error: Option<&str>) -> maud::Markup {
    page(
        "Set up",
        None,
        html! {
            h1 { "Set up Portcullis" }
            p { "This server has no organization yet. Create yours and its owner (you)." }
            @if let Some(e) = error { p.error role="alert" id="form-error" { (e) } }
            @if !has_code {
                p.error { "This server was started before the database was empty: restart it to get a setup code in its log, or run " code { "portcullis init" } "." }
            }
            form method="post" action="/setup" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { "Setup code" }
                input id="code" name="code" type="password" autocomplete="off" required autofocus;
                p.hint { "The server printed it to its log when it started (" code { "setup code" } ")." }
                label for="org_name" { "Organization name" } input id="org_name" name="org_name" required;
                label for="owner_name" { "Your name" } input id="owner_name" name="owner_name" required;
                label for="owner_email" { "Your e-mail" } input id="owner_email" name="owner_email" type="email" required;
                button type="submit" { "Create the organization" }
            }
        },
    )
}

/// `GET /setup`: the form, with a fresh pre-session cookie (or, once set up, the sign-in page).
pub async fn form(
    State(state): State<AppState>,
    Extension(setup): Extension<Setup>,
) -> Result<Response, ConsoleError> {
    if !setup.open(&state).await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let pre = new_session_id();
    Ok((
        AppendHeaders([set_cookie(SETUP_COOKIE, &pre, "/setup", 3600)]),
        setup_form(&form_token("setup", &pre), setup.code.is_some(), None),
    )
        .into_response())
}

/// `POST /setup`: creates the organization (only while there is none) and shows its secrets once.
pub async fn create(
    State(state): State<AppState>,
    Extension(setup): Extension<Setup>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let f = Fields::from(fields);
    let Some(pre) = cookie(&headers, SETUP_COOKIE) else { return Err(forged()) };
    let csrf = form_token("setup", &pre);
    if !from_own_pages(&headers) {
        return Err(forged());
    }
    check_token(f.get("csrf"), &csrf)?;
    let again = |status: StatusCode, message: &str| {
        Ok((status, setup_form(&csrf, setup.code.is_some(), Some(message))).into_response())
    };
    if !setup.open(&state).await? {
        return again(
            StatusCode::CONFLICT,
            "This server already has an organization: sign in instead.",
        );
    }
    if !setup.accepts(f.get("code")) {
        return again(
            StatusCode::FORBIDDEN,
            "That setup code is not right. Copy it from the server's log (it is printed at startup).",
        );
    }
    let created = state
        .service
        .init_first_organization(f.get("org_name"), f.get("owner_email"), f.get("owner_name"))
        .await;
    let out = match created {
        Ok(out) => out,
        Err(e @ (ServiceError::Internal(_) | ServiceError::Crypto(_))) => return Err(e.into()),
        Err(e) => {
            let e = ConsoleError::from(e);
            return again(e.status(), e.message());
        }
    };
    setup.done.store(true, Ordering::Relaxed);
    let body = page(
        "Set up",
        None,
        html! {
            h1 { "Your organization is ready" }
            p.ok role="status" { "The organization and its owner were created." }
            p { strong { "Copy these now: they are shown only this once and cannot be shown again." } }
            h2 { "Your personal token (sign in with it)" }
            code.secret data-secret="Owner token" { (out.owner_token) }
            h2 { "API key" }
            code.secret data-secret="API key" { (out.api_key) }
            h2 { "API secret" }
            code.secret data-secret="API secret" { (out.api_secret) }
            p { a href="/login" { "Sign in" } }
        },
    );
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        AppendHeaders([set_cookie(SETUP_COOKIE, "", "/setup", 0)]),
        body,
    )
        .into_response())
}
