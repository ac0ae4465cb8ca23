//! Administrators: the directory, groups, apps, policies, credentials, webhooks, the audit log
//! and the organization's settings (joiner / mover / leaver automation). One file per area; this
//! one holds what they share (form fields, search and paging, error and show-once pages) and the
//! smaller pages (workspaces, audit log, settings).
//!
//! Every state-changing form is a POST checked for its CSRF token first, then for an
//! administrator, translated into one service call; a refusal re-renders the page with the
//! service's words, a success redirects (POST-redirect-GET) — except the pages showing a secret
//! once, which are never stored or shown again.
pub mod apps;
pub mod credentials;
pub mod groups;
pub mod policies;
pub mod scim;
pub mod users;
pub mod webhooks;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::{
    GroupLeaveAction, LeaverAccessAction, OrganizationSettingsPatch, Page, PageRequest, User,
};
use portcullis_service::{AuditFilter, ServiceError};
use serde::Deserialize;
use uuid::Uuid;

use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

/// A form's fields as sent, repeated names kept (checkbox lists).
pub struct Fields(Vec<(String, String)>);

impl From<Vec<(String, String)>> for Fields {
    fn from(fields: Vec<(String, String)>) -> Self {
        Self(fields)
    }
}

impl Fields {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or_default()
    }

    /// The value of `name` unless it is absent or blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The id in field `name` (a 400 page when it is not one).
    pub fn id(&self, name: &str) -> Result<Uuid, ConsoleError> {
        Uuid::parse_str(self.get(name))
            .map_err(|_| ConsoleError::new(400, format!("The form sent no valid {name}.")))
    }
}

/// Reads a form posted by an administrator: its CSRF token first, then the role.
pub fn admin_form(
    session: &Session,
    fields: Vec<(String, String)>,
) -> Result<Fields, ConsoleError> {
    let fields = Fields(fields);
    session.check_csrf(fields.get("csrf"))?;
    require_admin(session)?;
    Ok(fields)
}

/// A refused form: the status and the service's words to show on the form again; our own
/// failures (5xx) become the error page.
pub type Problem = (StatusCode, String);

pub fn refused(err: ServiceError) -> Result<Problem, ConsoleError> {
    let err = ConsoleError::from(err);
    if err.status().is_server_error() {
        return Err(err);
    }
    Ok((err.status(), err.message().to_string()))
}

/// A page, with the status of the problem it shows (200 without one).
pub fn with_problem(problem: Option<&Problem>, markup: Markup) -> Response {
    let status = problem.map(|(s, _)| *s).unwrap_or(StatusCode::OK);
    (status, markup).into_response()
}

/// The problem of a refused form, above the page's content.
pub fn alert(problem: Option<&Problem>) -> Markup {
    html! { @if let Some((_, message)) = problem { p.error role="alert" id="form-error" { (message) } } }
}

pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// `?q=…&after=…` of a searchable, paged list.
#[derive(Deserialize, Default, Clone)]
pub struct ListParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub after: String,
}

impl ListParams {
    pub fn page(&self) -> Result<PageRequest, ConsoleError> {
        if self.after.is_empty() {
            return Ok(PageRequest::first());
        }
        let after = Uuid::parse_str(&self.after)
            .map_err(|_| ConsoleError::new(400, "That page link is not valid."))?;
        Ok(PageRequest::after(Some(after)))
    }
}

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The search box of a list.
pub fn search_box(action: &str, q: &str, what: &str) -> Markup {
    html! {
        form.filters role="search" method="get" action=(action) {
            div { label for="q" { "Search " (what) } input id="q" name="q" type="search" value=(q); }
            button type="submit" { "Search" }
            @if !q.is_empty() { a href=(action) { "Clear" } }
        }
    }
}

/// "First page" / "Next page" links of a list, keeping its search.
pub fn pager<T>(action: &str, params: &ListParams, page: &Page<T>) -> Markup {
    let q = encode(&params.q);
    html! {
        nav.pager aria-label="Pages" {
            @if !params.after.is_empty() { a href=(format!("{action}?q={q}")) { "First page" } }
            @if let Some(next) = page.next_after { a rel="next" href=(format!("{action}?q={q}&after={next}")) { "Next page" } }
        }
    }
}

/// A secret shown once: never cached, never shown again.
pub fn show_once(
    session: &Session,
    title: &str,
    intro: &str,
    secrets: &[(&str, &str)],
    back: (&str, &str),
) -> Response {
    let body = page(
        title,
        Some(session),
        html! {
            h1 { (title) }
            p.ok role="status" { (intro) }
            p { strong { "Copy it now: it is shown only this once and cannot be shown again." } }
            @for (label, value) in secrets {
                h2 { (label) }
                code.secret data-secret=(label) { (value) }
            }
            p { a href=(back.0) { (back.1) } }
        },
    );
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// Finds a user by e-mail (or id) for a form field: the directory search in the store, then the
/// exact match.
pub async fn user_by_email(
    state: &AppState,
    session: &Session,
    text: &str,
) -> Result<Result<User, Problem>, ConsoleError> {
    if let Ok(id) = Uuid::parse_str(text) {
        return match state.service.get_user(&session.ctx, id).await {
            Ok(user) => Ok(Ok(user)),
            Err(e) => Ok(Err(refused(e)?)),
        };
    }
    let found = state.service.search_users(&session.ctx, text, PageRequest::first()).await?;
    Ok(found.items.into_iter().find(|u| u.email.eq_ignore_ascii_case(text)).ok_or_else(|| {
        (StatusCode::BAD_REQUEST, format!("There is no user with the e-mail address '{text}'."))
    }))
}

pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub async fn workspaces(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let workspaces = state.service.list_workspaces(&session.ctx).await?;
    Ok(page(
        "Workspaces",
        Some(&session),
        html! {
            h1 { "Workspaces" }
            @for details in &workspaces {
                section.card {
                    h2 { (details.workspace.name) }
                    ul { @for (m, u) in &details.members { li { (u.full_name()) " — " (m.role.name()) } } }
                }
            }
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    since: Option<String>,
    after: Option<String>,
}

pub async fn audit(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<AuditParams>,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let id = |s: &Option<String>| -> Result<Option<Uuid>, ConsoleError> {
        match s.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => Uuid::parse_str(v)
                .map(Some)
                .map_err(|_| ConsoleError::new(400, format!("'{v}' is not an id"))),
            None => Ok(None),
        }
    };
    let since = match params.since.as_deref().filter(|v| !v.is_empty()) {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ConsoleError::new(400, "since must be a date (YYYY-MM-DD)"))?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .ok_or_else(|| ConsoleError::new(400, "bad date"))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        actor_id: id(&params.actor)?,
        target_id: id(&params.target)?,
        action: params.action.clone().filter(|a| !a.is_empty()),
        since,
    };
    let paging = ListParams { q: String::new(), after: params.after.clone().unwrap_or_default() };
    let events = state.service.audit_log(&session.ctx, filter, paging.page()?).await?;
    let next = events.next_after.map(|after| {
        let keep = |name: &str, v: &Option<String>| {
            format!("{name}={}&", encode(v.as_deref().unwrap_or_default()))
        };
        format!(
            "/admin/audit?{}{}{}{}after={after}",
            keep("action", &params.action),
            keep("actor", &params.actor),
            keep("target", &params.target),
            keep("since", &params.since)
        )
    });
    let events = events.items;
    Ok(page(
        "Audit log",
        Some(&session),
        html! {
            h1 { "Audit log" }
            form.filters method="get" action="/admin/audit" {
                div { label for="action" { "Action" } input id="action" name="action" value=(params.action.clone().unwrap_or_default()) placeholder="e.g. access or user.created"; }
                div { label for="actor" { "Actor id" } input id="actor" name="actor" value=(params.actor.clone().unwrap_or_default()); }
                div { label for="target" { "Target id" } input id="target" name="target" value=(params.target.clone().unwrap_or_default()); }
                div { label for="since" { "Since" } input id="since" name="since" type="date" value=(params.since.clone().unwrap_or_default()); }
                button type="submit" { "Filter" }
            }
            table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "Actor" } th scope="col" { "Target" } } }
                tbody { @for e in &events { tr {
                    td { (when(e.occurred_at)) } td { code { (e.action) } }
                    td {
                        (e.actor.kind()) " " (e.actor.id().map(|i| i.to_string()).unwrap_or_default())
                        @if let Some(user) = e.on_behalf_of { br; small { "on behalf of user " (user) } }
                    }
                    td { (e.target_type) " " (e.target_id.map(|i| i.to_string()).unwrap_or_default()) }
                } } }
            }
            nav.pager aria-label="Pages" {
                @if params.after.is_some() { a href="/admin/audit" { "First page" } }
                @if let Some(next) = &next { a rel="next" href=(next) { "Next page" } }
            }
        },
    ))
}

/// `GET /admin/settings`: the organization's governance settings, joiner / mover / leaver
/// automation included, as one form.
pub async fn settings(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let s = state.service.organization_settings(&session.ctx).await?;
    Ok(page(
        "Settings",
        Some(&session),
        html! {
            h1 { "Settings" }
            form.card method="post" action="/admin/settings" {
                input type="hidden" name="csrf" value=(session.csrf);
                h2 { "Approvals" }
                div { label { input type="checkbox" name="allow_same_approver_for_multiple_steps" value="true" checked[s.allow_same_approver_for_multiple_steps]; " One person may approve several steps of a request" } }
                h2 { "Joiners" }
                div { label { input type="checkbox" name="no_touch_onboarding" value="true" checked[s.no_touch_onboarding]; " No-touch onboarding: approve the default apps of groups the identity provider (SCIM) adds a new user to at once" } }
                div { label for="joiner_window_hours" { "A user is new for (hours, 1–720)" } input id="joiner_window_hours" name="joiner_window_hours" type="number" min="1" max="720" required value=(s.joiner_window_hours); }
                h2 { "Movers" }
                div {
                    label for="group_leave_action" { "When someone leaves a group" }
                    select id="group_leave_action" name="group_leave_action" {
                        option value="RemoveAccess" selected[s.group_leave_action == GroupLeaveAction::RemoveAccess] { "Request removal of the group's default apps" }
                        option value="Keep" selected[s.group_leave_action == GroupLeaveAction::Keep] { "Keep their accesses" }
                    }
                }
                h2 { "Leavers" }
                div {
                    label for="leaver_access_action" { "When a user is deactivated" }
                    select id="leaver_access_action" name="leaver_access_action" {
                        option value="RemoveAccess" selected[s.leaver_access_action == LeaverAccessAction::RemoveAccess] { "Remove every access (Manual apps get an action task)" }
                        option value="RevokeAtOnce" selected[s.leaver_access_action == LeaverAccessAction::RevokeAtOnce] { "Revoke every access at once" }
                    }
                }
                button type="submit" { "Save" }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    allow_same_approver_for_multiple_steps: Option<String>,
    no_touch_onboarding: Option<String>,
    joiner_window_hours: String,
    group_leave_action: String,
    leaver_access_action: String,
}

/// `POST /admin/settings`: saves the whole form (an unchecked box is `false`).
pub async fn save_settings(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SettingsForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    require_admin(&session)?;
    let bad = |e: portcullis_domain::DomainError| ConsoleError::new(400, e.to_string());
    let hours = form.joiner_window_hours.trim().parse::<i64>().map_err(|_| {
        ConsoleError::new(400, "Give the joiner window as a whole number of hours.")
    })?;
    let patch = OrganizationSettingsPatch {
        allow_same_approver_for_multiple_steps: Some(
            form.allow_same_approver_for_multiple_steps.is_some(),
        ),
        no_touch_onboarding: Some(form.no_touch_onboarding.is_some()),
        joiner_window_hours: Some(hours),
        group_leave_action: Some(GroupLeaveAction::parse(&form.group_leave_action).map_err(bad)?),
        leaver_access_action: Some(
            LeaverAccessAction::parse(&form.leaver_access_action).map_err(bad)?,
        ),
    };
    state.service.update_organization_settings(&session.ctx, patch).await?;
    Ok(Redirect::to("/admin/settings").into_response())
}
