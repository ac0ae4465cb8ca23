//! Administrators: the directory, groups, apps, workspaces, webhooks, the audit log and the
//! organization's settings (joiner / mover / leaver automation).
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::{
    GroupLeaveAction, LeaverAccessAction, OrganizationSettingsPatch, PageRequest, User,
};
use portcullis_service::AuditFilter;
use serde::Deserialize;
use uuid::Uuid;

use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn all_users(state: &AppState, session: &Session) -> Result<Vec<User>, ConsoleError> {
    Ok(state.service.list_all_users(&session.ctx).await?)
}

pub async fn users(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let users = all_users(&state, &session).await?;
    let name = |id: Option<Uuid>| {
        id.and_then(|i| users.iter().find(|u| u.id == i)).map(|u| u.full_name()).unwrap_or_default()
    };
    Ok(page(
        "Users",
        Some(&session),
        html! {
            h1 { "Users" } p.muted { (users.len()) " users" }
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "Manager" } } }
                tbody { @for u in &users { tr {
                    td { (u.full_name()) } td { (u.email) } td { (u.role.cakewalk_name()) } td { (u.status().cakewalk_name()) } td { (name(u.manager_id)) }
                } } }
            }
        },
    ))
}

pub async fn groups(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let groups = state.service.list_groups(&session.ctx, PageRequest::first()).await?.items;
    Ok(page(
        "Groups",
        Some(&session),
        html! {
            h1 { "Groups" }
            table {
                thead { tr { th scope="col" { "Group" } th scope="col" { "Members" } th scope="col" { "Description" } } }
                tbody { @for g in &groups { tr {
                    td { a href=(format!("/admin/groups/{}", g.id)) { (g.name) } } td { (g.member_count) } td { (g.description) }
                } } }
            }
        },
    ))
}

pub async fn group(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let group = state.service.get_group(&session.ctx, group_id).await?;
    let members =
        state.service.list_group_members(&session.ctx, group_id, PageRequest::first()).await?.items;
    let defaults = state.service.group_default_apps(&session.ctx, group_id).await?;
    let hidden = state.service.group_hidden_apps(&session.ctx, group_id).await?;
    Ok(page(
        "Groups",
        Some(&session),
        html! {
            h1 { "Group: " (group.name) }
            p { (group.description) }
            h2 { "Default apps" }
            ul { @for (d, level) in &defaults { li { (d.app.name) @if let Some(l) = level { " (level " (l) ")" } } } }
            h2 { "Hidden apps" }
            ul { @for h in &hidden { li { (h.app.name) } } }
            h2 { "Members (" (group.member_count) ")" }
            ul { @for m in &members { li { (m.full_name()) " — " (m.email) } } }
        },
    ))
}

pub async fn apps(State(state): State<AppState>, session: Session) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let apps = state.service.list_work_apps(&session.ctx, PageRequest::first()).await?.items;
    Ok(page(
        "Apps",
        Some(&session),
        html! {
            h1 { "Apps" }
            table {
                thead { tr { th scope="col" { "App" } th scope="col" { "Status" } th scope="col" { "Provisioning" } th scope="col" { "Accounts" } th scope="col" { "Owners" } } }
                tbody { @for d in &apps { tr {
                    td { a href=(format!("/admin/apps/{}", d.app.id)) { (d.app.name) } }
                    td { (d.app.status.name()) } td { (d.app.provisioning_mode.name()) } td { (d.number_of_accounts) }
                    td { @for o in &d.owners { div { (o.full_name()) } } }
                } } }
            }
        },
    ))
}

pub async fn app(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let details = state.service.get_work_app(&session.ctx, app_id).await?;
    let levels = state
        .service
        .list_permission_levels(&session.ctx, app_id, PageRequest::first())
        .await?
        .items;
    let policies = state.service.app_policies(&session.ctx, app_id).await?;
    let (accesses, _) =
        state.service.list_accesses(&session.ctx, app_id, PageRequest::first()).await?;
    Ok(page(
        "Apps",
        Some(&session),
        html! {
            h1 { "App: " (details.app.name) }
            p { (details.app.description) }
            p { "Status " strong { (details.app.status.name()) } ", provisioning " strong { (details.app.provisioning_mode.name()) } "." }
            h2 { "Owners" }
            ul { @for o in &details.owners { li { (o.full_name()) " — " (o.email) } } }
            h2 { "Permission levels" }
            ul { @for l in &levels { li { (l.name) @if l.is_privileged { " (privileged)" } @if l.is_default { " (default)" } } } }
            h2 { "Policies" }
            table {
                thead { tr { th scope="col" { "Request type" } th scope="col" { "Policy" } th scope="col" { "Steps" } th scope="col" { "Set on" } } }
                tbody { @for (t, p, source) in &policies { tr {
                    td { (t.name()) } td { (p.name) " v" (p.version) }
                    td { @if p.steps.is_empty() { "auto-approve" } @for s in &p.steps { div { (format!("{:?}", s.approver)) } } }
                    td { (source) }
                } } }
            }
            h2 { "Accounts (" (details.number_of_accounts) ")" }
            ul { @for a in &accesses.items { li { (a.user.full_name()) @if let Some(l) = &a.level { " — " (l.name) } " (" (a.access.source.name()) ")" } } }
        },
    ))
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

pub async fn webhooks(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let subs = state.service.list_subscriptions(&session.ctx).await?;
    Ok(page(
        "Webhooks",
        Some(&session),
        html! {
            h1 { "Webhooks" }
            table {
                thead { tr { th scope="col" { "Target" } th scope="col" { "Events" } th scope="col" { "State" } } }
                tbody { @for s in &subs { tr {
                    td { a href=(format!("/admin/webhooks/{}", s.id)) { (s.target_url) } }
                    td { (s.events.join(", ")) }
                    td { @if s.enabled { "enabled" } @else { span.error { "disabled" } } @if let Some(f) = s.failing_since { " — failing since " (when(f)) } @if let Some(p) = s.paused_until { " — paused until " (when(p)) } }
                } } }
            }
        },
    ))
}

pub async fn webhook(
    State(state): State<AppState>,
    session: Session,
    Path(webhook_id): Path<Uuid>,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let deliveries =
        state.service.list_deliveries(&session.ctx, webhook_id, PageRequest::first()).await?.items;
    Ok(page(
        "Webhooks",
        Some(&session),
        html! {
            h1 { "Deliveries" }
            table {
                thead { tr { th scope="col" { "Event" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Next try" } } }
                tbody { @for (d, attempts) in &deliveries { tr {
                    td { (d.event_type) } td { (d.status.name()) }
                    td { @for a in attempts { div { "#" (a.attempt) " " (when(a.attempted_at)) ": " (a.status_code.map(|c| c.to_string()).unwrap_or_else(|| a.error.clone().unwrap_or_default())) } } }
                    td { (d.next_attempt_at.map(when).unwrap_or_default()) }
                } } }
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
    let events = state.service.audit_log(&session.ctx, filter, PageRequest::first()).await?.items;
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
