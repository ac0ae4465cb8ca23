//! Connecting AI assistants (MCP clients) in the console: the OAuth authorization endpoint with
//! its consent page, and the lists of connected assistants.
//!
//! - `GET /oauth/authorize`: a person who is not signed in is sent to the sign-in page; the
//!   request's path and query wait in a `SameSite=Lax` cookie (only ever a path under
//!   `/oauth/authorize`), and signing in (token or single sign-on) comes back here. A request
//!   whose client or redirect URI cannot be verified is answered with an error page (the browser
//!   is never sent to an address we cannot vouch for); other errors go back to the client.
//! - The consent page names the client, where the code goes, each scope in words and who is
//!   signed in; Allow / Deny post back with the session's CSRF token. Its page policy lets the
//!   form lead to the client's redirect URI (browsers apply `form-action` to the redirect).
//! - `/settings/assistants`: the person's connected assistants, each with Revoke;
//!   `/admin/assistants`: everyone's in the organization, for administrators.
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::oauth::ConnectedAssistant;
use portcullis_domain::oauth::{
    redirect_target, redirect_with, AuthorizationParams, AuthorizationRefusal,
};
use portcullis_service::{AuthorizationView, AuthorizeError};
use uuid::Uuid;

use crate::admin::{see_other, when, Fields};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::{cookie, Session};

/// The cookie that keeps an authorization request across the sign-in.
pub const RETURN_COOKIE: &str = "portcullis_oauth_return";
const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// As long as a person may take to sign in.
const RETURN_COOKIE_SECONDS: i64 = 600;

fn return_cookie(value: &str, max_age: i64) -> (HeaderName, String) {
    (
        SET_COOKIE,
        format!(
            "{RETURN_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"
        ),
    )
}

/// Clears the waiting authorization request.
pub fn clear_return_cookie() -> (HeaderName, String) {
    return_cookie("", 0)
}

/// Where to go after signing in: the authorization request that waited for it, if any (only a
/// path under `/oauth/authorize`, so the cookie can never send anyone elsewhere), else `/`.
pub fn after_sign_in(headers: &HeaderMap) -> String {
    cookie(headers, RETURN_COOKIE)
        .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|path| is_authorize_path(path))
        .unwrap_or_else(|| "/".to_string())
}

fn is_authorize_path(path: &str) -> bool {
    path == AUTHORIZE_PATH || path.starts_with("/oauth/authorize?")
}

/// The request's parameters (the first of each; RFC 6749 §3.1 forbids repeating them).
fn params_from(pairs: &[(String, String)]) -> AuthorizationParams {
    let get = |name: &str| {
        pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
    };
    AuthorizationParams {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        resource: get("resource"),
    }
}

/// The parameters as hidden form fields, so that Allow / Deny send the same request back.
fn hidden_params(params: &AuthorizationParams) -> Markup {
    let fields = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("resource", &params.resource),
    ];
    html! {
        @for (name, value) in fields {
            @if let Some(value) = value { input type="hidden" name=(name) value=(value); }
        }
    }
}

/// A refused request: a page when the redirect URI is unverified, else back to the client.
fn refused(err: AuthorizeError, issuer: &str) -> Response {
    match err {
        AuthorizeError::Refused(AuthorizationRefusal::Unverified(message)) => {
            ConsoleError::new(400, message).into_response()
        }
        AuthorizeError::Refused(AuthorizationRefusal::ToClient { redirect_uri, state, error }) => {
            let mut pairs = vec![
                ("error", error.code.name()),
                ("error_description", error.description.as_str()),
            ];
            if let Some(state) = state.as_deref() {
                pairs.push(("state", state));
            }
            pairs.push(("iss", issuer));
            Redirect::to(&redirect_with(&redirect_uri, &pairs)).into_response()
        }
        AuthorizeError::Service(e) => ConsoleError::from(e).into_response(),
    }
}

/// `GET /oauth/authorize`: the consent page (after sign-in, if needed).
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    session: Result<Session, Response>,
) -> Response {
    let query = query.unwrap_or_default();
    let Ok(session) = session else {
        // A cross-site navigation (the client's web page sent the browser here) does not carry
        // the `Strict` session cookie: one same-site reload does, before asking to sign in.
        let cross_site =
            headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
        if cross_site {
            return reload_same_site(&format!("{AUTHORIZE_PATH}?{query}"));
        }
        let waiting = URL_SAFE_NO_PAD.encode(format!("{AUTHORIZE_PATH}?{query}"));
        return (
            AppendHeaders([return_cookie(&waiting, RETURN_COOKIE_SECONDS)]),
            Redirect::to("/login"),
        )
            .into_response();
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
    let params = params_from(&pairs);
    let issuer = portcullis_api::oauth::base_url(&state.service, &headers);
    match state.service.check_oauth_authorization(&params, &issuer).await {
        Ok(view) => consent_page(&session, &params, &view),
        Err(e) => refused(e, &issuer),
    }
}

/// A page that reloads `path` from our own origin at once.
fn reload_same_site(path: &str) -> Response {
    let body = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={path}"));
                title { "Connecting · Portcullis" }
            }
            body { p { a href=(path) { "Continue" } } }
        }
    };
    ([(CACHE_CONTROL, "no-store")], body).into_response()
}

fn consent_page(
    session: &Session,
    params: &AuthorizationParams,
    view: &AuthorizationView,
) -> Response {
    let target = redirect_target(&view.request.redirect_uri);
    let body = page(
        "Connect an assistant",
        Some(session),
        html! {
            h1 { "Allow " (view.client.name) " to use Portcullis as you?" }
            p {
                strong { (view.client.name) } " asks to act for you, "
                strong { (session.user.full_name()) } " (" (session.user.email) "). "
                "It will receive its access at " strong { (target) } "."
            }
            p { "It may:" }
            ul id="scopes" {
                @for scope in view.request.scopes.iter() {
                    li { (scope.description()) " " span.muted { "(" code { (scope.name()) } ")" } }
                }
            }
            p.hint { "You can disconnect it at any time under Assistants." }
            form method="post" action=(AUTHORIZE_PATH) {
                input type="hidden" name="csrf" value=(session.csrf);
                (hidden_params(params))
                button type="submit" name="decision" value="allow" { "Allow" }
                " "
                button.secondary type="submit" name="decision" value="deny" { "Deny" }
            }
        },
    );
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {}; \
         frame-ancestors 'none'; base-uri 'none'",
        form_target_source(&view.request.redirect_uri)
    );
    ([(CONTENT_SECURITY_POLICY, csp)], body).into_response()
}

/// The redirect URI as a CSP source: its origin (`https://claude.ai`, `http://127.0.0.1:3000`)
/// or, for an app's own scheme, the scheme (`vscode:`). Both are made of characters a policy
/// cannot be broken out of.
fn form_target_source(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(url) => match url.origin() {
            origin @ url::Origin::Tuple(..) => origin.ascii_serialization(),
            url::Origin::Opaque(_) => format!("{}:", url.scheme()),
        },
        Err(_) => "'none'".to_string(),
    }
}

/// `POST /oauth/authorize`: Allow → the code goes to the client; Deny → `access_denied`.
pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields::from(fields);
    if let Err(e) = session.check_csrf(fields.get("csrf")) {
        return e.into_response();
    }
    let pairs: Vec<(String, String)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "resource",
    ]
    .iter()
    .filter_map(|name| fields.opt(name).map(|v| (name.to_string(), v.to_string())))
    .collect();
    let params = params_from(&pairs);
    let issuer = portcullis_api::oauth::base_url(&state.service, &headers);
    let decided = if fields.get("decision") == "allow" {
        state.service.approve_oauth_authorization(&session.ctx, &params, &issuer).await
    } else {
        state.service.deny_oauth_authorization(&params, &issuer).await
    };
    match decided {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => refused(e, &issuer),
    }
}

fn assistants_table(
    session: &Session,
    list: &[ConnectedAssistant],
    revoke_base: &str,
    with_person: bool,
) -> Markup {
    html! {
        @if list.is_empty() {
            p.muted id="no-assistants" { "No assistant is connected." }
        } @else {
            table id="assistants" {
                thead { tr {
                    th { "Assistant" }
                    @if with_person { th { "Person" } }
                    th { "May" } th { "Connected" } th { "Last used" } th {}
                } }
                tbody {
                    @for a in list {
                        tr {
                            td { (a.client_name) }
                            @if with_person { td { (a.user_name) } }
                            td { @for scope in a.grant.scopes.iter() { code { (scope.name()) } " " } }
                            td { (when(a.grant.created_at)) }
                            td { (a.grant.last_used_at.map(when).unwrap_or_else(|| "never".into())) }
                            td {
                                form.inline method="post" action=(format!("{revoke_base}/{}/revoke", a.grant.id)) {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    button.danger type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /settings/assistants`: the person's connected assistants.
pub async fn mine(State(state): State<AppState>, session: Session) -> Result<Markup, ConsoleError> {
    let list = state.service.connected_assistants(&session.ctx, false).await?;
    Ok(page(
        "Assistants",
        Some(&session),
        html! {
            h1 { "Connected assistants" }
            p { "AI assistants you allowed to use Portcullis as you. Revoking one stops it at once." }
            (assistants_table(&session, &list, "/settings/assistants", false))
        },
    ))
}

/// `GET /admin/assistants`: every connected assistant in the organization.
pub async fn everyone(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let list = state.service.connected_assistants(&session.ctx, true).await?;
    Ok(page(
        "AI assistants",
        Some(&session),
        html! {
            h1 { "Connected AI assistants" }
            p { "Assistants people of your organization connected. Revoking one stops it at once." }
            (assistants_table(&session, &list, "/admin/assistants", true))
        },
    ))
}

async fn revoke(
    state: &AppState,
    session: &Session,
    grant_id: &str,
    fields: Vec<(String, String)>,
    back: &str,
) -> Result<Response, ConsoleError> {
    session.check_csrf(Fields::from(fields).get("csrf"))?;
    let grant_id = Uuid::parse_str(grant_id)
        .map_err(|_| ConsoleError::new(404, "There is no such connected assistant."))?;
    state.service.revoke_connected_assistant(&session.ctx, grant_id).await?;
    Ok(see_other(back))
}

/// `POST /settings/assistants/{grantId}/revoke`.
pub async fn revoke_mine(
    State(state): State<AppState>,
    session: Session,
    Path(grant_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    revoke(&state, &session, &grant_id, fields, "/settings/assistants").await
}

/// `POST /admin/assistants/{grantId}/revoke`.
pub async fn revoke_anyones(
    State(state): State<AppState>,
    session: Session,
    Path(grant_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    revoke(&state, &session, &grant_id, fields, "/admin/assistants").await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_a_waiting_authorization_request_is_returned_to() {
        let with = |path: &str| {
            let mut h = HeaderMap::new();
            let value = format!("{RETURN_COOKIE}={}", URL_SAFE_NO_PAD.encode(path));
            h.insert("cookie", HeaderValue::from_str(&value).unwrap());
            after_sign_in(&h)
        };
        assert_eq!(with("/oauth/authorize?client_id=x"), "/oauth/authorize?client_id=x");
        assert_eq!(with("https://evil.example/"), "/");
        assert_eq!(with("//evil.example/oauth/authorize"), "/");
        assert_eq!(with("/oauth/authorizex"), "/");
        assert_eq!(after_sign_in(&HeaderMap::new()), "/");
    }

    #[test]
    fn the_form_may_lead_only_to_the_redirect_uris_origin() {
        assert_eq!(form_target_source("https://claude.ai/api/cb?x=1"), "https://claude.ai");
        assert_eq!(form_target_source("http://127.0.0.1:3000/cb"), "http://127.0.0.1:3000");
        assert_eq!(form_target_source("vscode://ext/cb"), "vscode:");
        assert_eq!(form_target_source("not a url"), "'none'");
    }
}
