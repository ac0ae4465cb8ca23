//! Employees and approvers: My apps, the catalogue, requests, the inbox.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::{Decision, PageRequest, RequestType, TaskStatus};
use portcullis_service::{NewRequest, RequestFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::layout::{page, ConsoleError};
use crate::session::Session;

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub async fn my_apps(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    let accesses = state.service.my_accesses(&session.ctx).await?;
    Ok(page(
        "My apps",
        Some(&session),
        html! {
            h1 { "My apps" }
            @if accesses.is_empty() {
                p { "You have no apps yet. " a href="/catalogue" { "Browse the catalogue" } " to request one." }
            } @else {
                table {
                    caption.muted { "Apps you can use" }
                    thead { tr { th scope="col" { "App" } th scope="col" { "Permission level" } th scope="col" { "Since" } th scope="col" { "Expires" } } }
                    tbody {
                        @for a in &accesses {
                            tr {
                                td { (a.app_name) }
                                td { (a.level_name.clone().unwrap_or_else(|| "—".into())) }
                                td { (when(a.access.granted_at)) }
                                td { (a.access.expires_at.map(when).unwrap_or_else(|| "never".into())) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn catalogue(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    let apps = state.service.catalogue(&session.ctx).await?;
    let mine: Vec<Uuid> = state
        .service
        .my_accesses(&session.ctx)
        .await?
        .iter()
        .map(|a| a.access.work_app_id)
        .collect();
    Ok(page(
        "Catalogue",
        Some(&session),
        html! {
            h1 { "Catalogue" }
            p.hint { "Request an app at the level you need; your request follows the app's approval policy." }
            @for (app, levels) in &apps {
                section.card aria-labelledby=(format!("app-{}", app.id)) {
                    h2 id=(format!("app-{}", app.id)) { (app.name) }
                    @if !app.description.is_empty() { p { (app.description) } }
                    @if mine.contains(&app.id) {
                        p.ok { "You already have this app." }
                    } @else {
                        form method="post" action="/catalogue/request" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            input type="hidden" name="work_app_id" value=(app.id);
                            @if !levels.is_empty() {
                                label for=(format!("level-{}", app.id)) { "Permission level" }
                                select id=(format!("level-{}", app.id)) name="permission_level_id" required {
                                    @for l in levels { option value=(l.id) { (l.name) } }
                                }
                            }
                            label for=(format!("why-{}", app.id)) { "Why do you need it?" }
                            textarea id=(format!("why-{}", app.id)) name="justification" rows="2" maxlength="2000" {}
                            button type="submit" { "Request access to " (app.name) }
                        }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct RequestForm {
    csrf: String,
    work_app_id: Uuid,
    permission_level_id: Option<String>,
    justification: Option<String>,
}

pub async fn request_access(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RequestForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    let level = match form.permission_level_id.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(
            Uuid::parse_str(l).map_err(|_| ConsoleError::new(400, "Unknown permission level."))?,
        ),
        None => None,
    };
    let new = NewRequest {
        request_type: RequestType::GrantAccess,
        work_app_id: form.work_app_id,
        target_user_id: Some(session.user.id),
        permission_level_id: level,
        created_by_user_id: Some(session.user.id),
        justification: form.justification,
        expires_at: None,
    };
    state.service.create_request(&session.ctx, new).await?;
    Ok(Redirect::to("/my-requests").into_response())
}

pub async fn my_requests(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    let filter =
        RequestFilter { target_user_id: Some(session.user.id), ..RequestFilter::default() };
    let mut requests =
        state.service.list_requests(&session.ctx, filter, PageRequest::first()).await?.items;
    requests.reverse();
    let apps = state.service.catalogue(&session.ctx).await.unwrap_or_default();
    let app_name = |id: Uuid| {
        apps.iter()
            .find(|(a, _)| a.id == id)
            .map(|(a, _)| a.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    Ok(page(
        "My requests",
        Some(&session),
        html! {
            h1 { "My requests" }
            @if requests.is_empty() { p { "No requests yet." } }
            @else {
                table {
                    thead { tr { th scope="col" { "App" } th scope="col" { "Type" } th scope="col" { "Status" } th scope="col" { "Steps" } th scope="col" { "Requested" } } }
                    tbody {
                        @for d in &requests {
                            tr {
                                td { (app_name(d.request.work_app_id)) }
                                td { (d.request.request_type.name()) }
                                td { strong { (d.request.status.name()) } }
                                td {
                                    @for t in &d.tasks {
                                        div { (t.kind.name()) " " (t.step + 1) ": " (t.status.name()) }
                                        @if let Some(why) = t.unassigned_reason.as_ref().filter(|_| t.status == TaskStatus::Open) {
                                            p.hint { "Waiting for an administrator to assign an approver. " (why) }
                                        }
                                    }
                                }
                                td { (when(d.request.created_at)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn inbox(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    // Only the tasks this person may decide: never one of their own requests.
    let tasks = state.service.my_open_tasks(&session.ctx).await?;
    let mut people = std::collections::HashMap::new();
    for t in &tasks {
        for id in [t.request.target_user_id, t.request.created_by_user_id].into_iter().flatten() {
            if let std::collections::hash_map::Entry::Vacant(e) = people.entry(id) {
                if let Ok(u) = state.service.get_user(&session.ctx, id).await {
                    e.insert(u.full_name());
                }
            }
        }
    }
    let mut apps = std::collections::HashMap::new();
    for t in &tasks {
        if let std::collections::hash_map::Entry::Vacant(e) = apps.entry(t.request.work_app_id) {
            if let Ok(a) = state.service.get_work_app(&session.ctx, t.request.work_app_id).await {
                e.insert(a.app.name);
            }
        }
    }
    let name =
        |id: Option<Uuid>| id.and_then(|i| people.get(&i).cloned()).unwrap_or_else(|| "—".into());
    Ok(page(
        "Inbox",
        Some(&session),
        html! {
            h1 { "Inbox" }
            @if tasks.is_empty() { p { "Nothing waits for you." } }
            @for t in &tasks {
                section.card id=(format!("task-{}", t.task.id)) aria-label=(format!("Task {}", t.task.id)) {
                    h2 {
                        (t.task.kind.name()) ": " (t.request.request_type.name()) " — "
                        (apps.get(&t.request.work_app_id).cloned().unwrap_or_default())
                    }
                    p { "For " strong { (name(t.request.target_user_id)) } ", requested by " (name(t.request.created_by_user_id)) " on " (when(t.request.created_at)) "." }
                    @if !t.request.justification.is_empty() { p { "Why: " em { (t.request.justification) } } }
                    form method="post" action=(format!("/inbox/{}/decide", t.task.id)) {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for=(format!("comment-{}", t.task.id)) { "Comment (optional)" }
                        input id=(format!("comment-{}", t.task.id)) name="comment" type="text" maxlength="2000";
                        button type="submit" name="decision" value="approve" { "Approve" }
                        " "
                        button.danger type="submit" name="decision" value="decline" { "Decline" }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    comment: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(task_id): Path<Uuid>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "decline" => Decision::Decline,
        _ => return Err(ConsoleError::new(400, "Choose approve or decline.")),
    };
    state
        .service
        .decide(
            &session.ctx,
            task_id,
            decision,
            form.comment.filter(|c| !c.trim().is_empty()),
            None,
        )
        .await?;
    Ok(Redirect::to("/inbox").into_response())
}
