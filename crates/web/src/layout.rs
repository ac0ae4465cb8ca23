//! The page frame, the stylesheet and the console's error page.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use portcullis_service::ServiceError;

use crate::session::Session;

const STYLESHEET: &str = r#"
:root { --fg: #1b1f24; --muted: #4b5563; --accent: #0b57d0; --bg: #ffffff; --line: #d0d7de; --bad: #b42318; --good: #05603a; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { background: #0f172a; color: #fff; padding: .75rem 1.5rem; display: flex; gap: 1.5rem; align-items: center; flex-wrap: wrap; }
header a { color: #fff; text-decoration: none; padding: .25rem .5rem; border-radius: 4px; }
header a[aria-current="page"] { background: #334155; }
header .who { margin-left: auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
label { display: block; font-weight: 600; margin-top: .75rem; }
input, select, textarea { font: inherit; padding: .45rem; border: 1px solid #8c959f; border-radius: 4px; width: 100%; max-width: 28rem; }
button { font: inherit; padding: .45rem 1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; margin-top: .75rem; }
a.button { display: inline-block; padding: .55rem 1.2rem; border-radius: 4px; background: var(--accent); color: #fff; text-decoration: none; font-weight: 600; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
a, button, input, select, textarea { outline-offset: 2px; }
:focus-visible { outline: 3px solid #f59e0b; }
.error { color: var(--bad); font-weight: 600; }
.ok { color: var(--good); font-weight: 600; }
.hint, .muted { color: var(--muted); }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; }
.inline { display: inline; }
.filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; }
.filters label { margin-top: 0; }
.secret { font: 1rem/1.4 ui-monospace, monospace; background: #f6f8fa; border: 1px solid var(--line); padding: .5rem; word-break: break-all; display: block; }
header nav a { white-space: nowrap; display: inline-block; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
.row { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; }
.row > div { flex: 1 1 12rem; }
.row label { margin-top: .5rem; }
td form.inline button, td form button { margin-top: 0; padding: .25rem .75rem; }
input[type=checkbox], input[type=radio] { width: auto; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .75rem 0; }
"#;

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The frame of every page: navigation for the signed-in person, then the content.
pub fn page(title: &str, session: Option<&Session>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Portcullis" }
                link rel="stylesheet" href="/assets/console.css";
            }
            body {
                @if let Some(s) = session {
                    header {
                        strong { "Portcullis" }
                        nav aria-label="Main" {
                            (nav_link("/", "My apps", title))
                            (nav_link("/catalogue", "Catalogue", title))
                            (nav_link("/my-requests", "My requests", title))
                            (nav_link("/inbox", "Inbox", title))
                            (nav_link("/reviews", "Reviews", title))
                            (nav_link("/settings/notifications", "Notifications", title))
                            (nav_link("/settings/assistants", "Assistants", title))
                            @if s.is_admin() {
                                (nav_link("/admin/users", "Users", title))
                                (nav_link("/admin/groups", "Groups", title))
                                (nav_link("/admin/apps", "Apps", title))
                                (nav_link("/admin/workspaces", "Workspaces", title))
                                (nav_link("/admin/policies", "Policies", title))
                                (nav_link("/admin/credentials", "Credentials", title))
                                (nav_link("/admin/webhooks", "Webhooks", title))
                                (nav_link("/admin/reviews", "Access reviews", title))
                                (nav_link("/admin/audit", "Audit log", title))
                                (nav_link("/admin/settings", "Settings", title))
                                (nav_link("/admin/notifications", "Notification settings", title))
                                (nav_link("/admin/assistants", "AI assistants", title))
                            }
                        }
                        span.who { (s.user.full_name()) " (" (s.user.role.cakewalk_name()) ")" }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" { (content) }
            }
        }
    }
}

fn nav_link(href: &str, label: &str, current: &str) -> Markup {
    html! {
        @if label == current { a href=(href) aria-current="page" { (label) } }
        @else { a href=(href) { (label) } }
    }
}

/// An error page in the console's own style (never JSON).
#[derive(Debug)]
pub struct ConsoleError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// `Retry-After` seconds (a 429).
    retry_after: Option<u64>,
}

impl ConsoleError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: too many requests from this address; try again in `retry_after` seconds.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                429,
                format!("Too many requests from your address. Try again in {retry_after} seconds."),
            )
        }
    }
}

impl ConsoleError {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ServiceError> for ConsoleError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Unauthenticated(m) => Self::new(401, m),
            ServiceError::Forbidden(m) => Self::new(403, m),
            e @ ServiceError::ReadOnlyCredential => Self::new(403, e.to_string()),
            ServiceError::NotFound(m) => Self::new(404, m),
            ServiceError::Invalid(m) => Self::new(400, m),
            ServiceError::Conflict(m) => Self::new(409, m),
            ServiceError::Scim(e) => Self::new(e.status, e.detail),
            ServiceError::Upstream(m) => Self::new(502, m),
            ServiceError::Internal(_) | ServiceError::Crypto(_) => {
                Self::new(500, "Something went wrong on our side.")
            }
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let body = page(
            "Error",
            None,
            html! {
                h1 { "Something did not work" }
                p.error role="alert" { (self.message) }
                p { a href="/" { "Back to My apps" } }
            },
        );
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.into_string())
                .into_response();
        if let Some(seconds) = self.retry_after {
            portcullis_api::set_retry_after(&mut response, seconds);
        }
        response
    }
}

/// Administrators only.
pub fn require_admin(session: &Session) -> Result<(), ConsoleError> {
    if session.is_admin() {
        Ok(())
    } else {
        Err(ConsoleError::new(403, "Only administrators can see this page."))
    }
}
