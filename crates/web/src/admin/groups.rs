//! Groups: search, create, edit, delete; members (found with the directory search) added and
//! removed; default apps (requested for new members) and hidden apps.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::{DefaultWorkApp, PageRequest};
use portcullis_service::{GroupPatch, WorkAppDetails};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    admin_form, alert, encode, pager, refused, search_box, see_other, with_problem, ListParams,
    Problem,
};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

/// `GET /admin/groups?q=…&after=…`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_list(&state, &session, &params, None).await
}

async fn render_list(
    state: &AppState,
    session: &Session,
    params: &ListParams,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let groups = state.service.search_groups(&session.ctx, &params.q, params.page()?).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Groups",
            Some(session),
            html! {
                h1 { "Groups" }
                (alert(problem.as_ref()))
                (search_box("/admin/groups", &params.q, "by name"))
                table {
                    thead { tr { th scope="col" { "Group" } th scope="col" { "Members" } th scope="col" { "Description" } } }
                    tbody { @for g in &groups.items { tr {
                        td { a href=(format!("/admin/groups/{}", g.id)) { (g.name) } } td { (g.member_count) } td { (g.description) }
                    } } }
                }
                @if groups.items.is_empty() { p.muted { "No group matches." } }
                (pager("/admin/groups", params, &groups))
                section.card {
                    h2 { "Create a group" }
                    form method="post" action="/admin/groups" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for="name" { "Name" } input id="name" name="name" required;
                        label for="description" { "Description" } input id="description" name="description";
                        button type="submit" { "Create group" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/groups`.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    match state.service.create_group(&session.ctx, f.get("name"), f.opt("description")).await {
        Ok(g) => Ok(see_other(&format!("/admin/groups/{}", g.id))),
        Err(e) => render_list(&state, &session, &ListParams::default(), Some(refused(e)?)).await,
    }
}

/// `?member_q=…` (users to add), `?after=…` (members' page).
#[derive(Deserialize, Default)]
pub struct GroupParams {
    #[serde(default)]
    member_q: String,
    #[serde(default)]
    after: String,
}

/// `GET /admin/groups/{id}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Query(params): Query<GroupParams>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_group(&state, &session, group_id, &params, None).await
}

fn app_label(d: &WorkAppDetails) -> &str {
    &d.app.name
}

async fn render_group(
    state: &AppState,
    session: &Session,
    group_id: Uuid,
    params: &GroupParams,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let ctx = &session.ctx;
    let group = state.service.get_group(ctx, group_id).await?;
    let paging = ListParams { q: String::new(), after: params.after.clone() };
    let members = state.service.list_group_members(ctx, group_id, paging.page()?).await?;
    let defaults = state.service.group_default_apps(ctx, group_id).await?;
    let hidden = state.service.group_hidden_apps(ctx, group_id).await?;
    let candidates = if params.member_q.is_empty() {
        None
    } else {
        Some(state.service.search_users(ctx, &params.member_q, PageRequest::first()).await?)
    };
    let base = format!("/admin/groups/{group_id}");
    let csrf = &session.csrf;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Groups",
            Some(session),
            html! {
                h1 { "Group: " (group.name) }
                (alert(problem.as_ref()))
                section.card {
                    h2 { "Name and description" }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="name" { "Name" } input id="name" name="name" required value=(group.name);
                        label for="description" { "Description" } input id="description" name="description" value=(group.description);
                        button type="submit" { "Save" }
                    }
                    form method="post" action=(format!("{base}/delete")) {
                        input type="hidden" name="csrf" value=(csrf);
                        button.danger type="submit" { "Delete this group" }
                    }
                }
                section.card {
                    h2 { "Members (" (group.member_count) ")" }
                    table {
                        tbody { @for m in &members.items { tr {
                            td { a href=(format!("/admin/users/{}", m.id)) { (m.full_name()) } } td { (m.email) }
                            td { form.inline method="post" action=(format!("{base}/members/remove")) {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="user_id" value=(m.id);
                                button.secondary type="submit" aria-label=(format!("Remove {}", m.full_name())) { "Remove" }
                            } }
                        } } }
                    }
                    nav.pager aria-label="Members' pages" {
                        @if !params.after.is_empty() { a href=(base) { "First page" } }
                        @if let Some(next) = members.next_after { a rel="next" href=(format!("{base}?after={next}")) { "Next page" } }
                    }
                    h3 { "Add members" }
                    form.filters role="search" method="get" action=(base) {
                        div { label for="member_q" { "Find people by name or e-mail" } input id="member_q" name="member_q" type="search" value=(params.member_q); }
                        button type="submit" { "Find" }
                    }
                    @if let Some(found) = &candidates {
                        @if found.items.is_empty() { p.muted { "Nobody matches." } }
                        table { tbody { @for u in &found.items { tr {
                            td { (u.full_name()) } td { (u.email) }
                            td { form.inline method="post" action=(format!("{base}/members?member_q={}", encode(&params.member_q))) {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="user_id" value=(u.id);
                                button type="submit" aria-label=(format!("Add {}", u.full_name())) { "Add" }
                            } }
                        } } } }
                        @if found.next_after.is_some() { p.muted { "More people match: narrow the search." } }
                    }
                }
                section.card {
                    h2 { "Default apps" }
                    p.hint { "New members get a request for each default app they do not hold yet." }
                    ul { @for (d, level) in &defaults { li {
                        (app_label(d)) @if let Some(l) = level { " (level " (l) ")" } " "
                        form.inline method="post" action=(format!("{base}/defaults/remove")) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="app_id" value=(d.app.id);
                            button.secondary type="submit" aria-label=(format!("Remove default app {}", d.app.name)) { "Remove" }
                        }
                    } } }
                    form method="post" action=(format!("{base}/defaults")) {
                        input type="hidden" name="csrf" value=(csrf);
                        div.row {
                            div { label for="default-app" { "App name" } input id="default-app" name="app" required; }
                            div { label for="default-level" { "Permission level (optional)" } input id="default-level" name="level"; }
                        }
                        button type="submit" { "Add default app" }
                    }
                }
                section.card {
                    h2 { "Hidden apps" }
                    p.hint { "Members do not see these apps in the catalogue." }
                    ul { @for d in &hidden { li {
                        (app_label(d)) " "
                        form.inline method="post" action=(format!("{base}/hidden/remove")) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="app_id" value=(d.app.id);
                            button.secondary type="submit" aria-label=(format!("Show {} again", d.app.name)) { "Remove" }
                        }
                    } } }
                    form method="post" action=(format!("{base}/hidden")) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="hidden-app" { "App name" } input id="hidden-app" name="app" required;
                        button type="submit" { "Hide app" }
                    }
                }
            },
        ),
    ))
}

/// After a change: back to the group, or the page again with the service's words.
async fn done(
    state: &AppState,
    session: &Session,
    group_id: Uuid,
    result: Result<(), portcullis_service::ServiceError>,
    member_q: &str,
) -> Result<Response, ConsoleError> {
    match result {
        Ok(()) if member_q.is_empty() => Ok(see_other(&format!("/admin/groups/{group_id}"))),
        Ok(()) => Ok(see_other(&format!("/admin/groups/{group_id}?member_q={}", encode(member_q)))),
        Err(e) => {
            let params = GroupParams { member_q: member_q.to_string(), ..GroupParams::default() };
            render_group(state, session, group_id, &params, Some(refused(e)?)).await
        }
    }
}

/// `POST /admin/groups/{id}`: name and description.
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let patch = GroupPatch {
        name: Some(f.get("name").to_string()),
        description: Some(f.get("description").to_string()),
    };
    let result = state.service.update_group(&session.ctx, group_id, patch).await.map(|_| ());
    done(&state, &session, group_id, result, "").await
}

/// `POST /admin/groups/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.delete_group(&session.ctx, group_id).await {
        Ok(()) => Ok(see_other("/admin/groups")),
        Err(e) => done(&state, &session, group_id, Err(e), "").await,
    }
}

#[derive(Deserialize, Default)]
pub struct MemberQuery {
    #[serde(default)]
    member_q: String,
}

/// `POST /admin/groups/{id}/members`: adds one member (their default apps are requested).
pub async fn add_member(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Query(query): Query<MemberQuery>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let user_id = f.id("user_id")?;
    let result = state
        .service
        .add_group_members(&session.ctx, group_id, &[user_id], None, false)
        .await
        .map(|_| ());
    done(&state, &session, group_id, result, &query.member_q).await
}

/// `POST /admin/groups/{id}/members/remove`.
pub async fn remove_member(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let user_id = f.id("user_id")?;
    let result = state.service.remove_group_member(&session.ctx, group_id, user_id).await;
    done(&state, &session, group_id, result.map(|_| ()), "").await
}

/// The app named in a form field (exact name, any case), found with the store's search.
async fn app_named(
    state: &AppState,
    session: &Session,
    name: &str,
) -> Result<Result<WorkAppDetails, Problem>, ConsoleError> {
    let found = state.service.search_work_apps(&session.ctx, name, PageRequest::first()).await?;
    Ok(found
        .items
        .into_iter()
        .find(|d| d.app.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("There is no app named '{name}'."))))
}

async fn current_defaults(
    state: &AppState,
    session: &Session,
    group_id: Uuid,
) -> Result<Vec<DefaultWorkApp>, ConsoleError> {
    Ok(state
        .service
        .group_default_apps(&session.ctx, group_id)
        .await?
        .into_iter()
        .map(|(d, level)| DefaultWorkApp { work_app_id: d.app.id, permission_level_id: level })
        .collect())
}

/// `POST /admin/groups/{id}/defaults`: adds (or re-levels) a default app.
pub async fn add_default(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let app = match app_named(&state, &session, f.get("app")).await? {
        Ok(app) => app,
        Err(p) => {
            return render_group(&state, &session, group_id, &GroupParams::default(), Some(p)).await
        }
    };
    let level = match f.opt("level") {
        None => None,
        Some(name) => {
            let levels = state
                .service
                .list_permission_levels(&session.ctx, app.app.id, PageRequest::first())
                .await?
                .items;
            match levels.into_iter().find(|l| l.name.eq_ignore_ascii_case(name)) {
                Some(l) => Some(l.id),
                None => {
                    let p = (
                        StatusCode::BAD_REQUEST,
                        format!("{} has no permission level named '{name}'.", app.app.name),
                    );
                    let params = GroupParams::default();
                    return render_group(&state, &session, group_id, &params, Some(p)).await;
                }
            }
        }
    };
    let mut defaults = current_defaults(&state, &session, group_id).await?;
    defaults.retain(|d| d.work_app_id != app.app.id);
    defaults.push(DefaultWorkApp { work_app_id: app.app.id, permission_level_id: level });
    let result = state.service.set_group_default_apps(&session.ctx, group_id, &defaults).await;
    done(&state, &session, group_id, result, "").await
}

/// `POST /admin/groups/{id}/defaults/remove`.
pub async fn remove_default(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let app_id = f.id("app_id")?;
    let mut defaults = current_defaults(&state, &session, group_id).await?;
    defaults.retain(|d| d.work_app_id != app_id);
    let result = state.service.set_group_default_apps(&session.ctx, group_id, &defaults).await;
    done(&state, &session, group_id, result, "").await
}

async fn current_hidden(
    state: &AppState,
    session: &Session,
    group_id: Uuid,
) -> Result<Vec<Uuid>, ConsoleError> {
    let hidden = state.service.group_hidden_apps(&session.ctx, group_id).await?;
    Ok(hidden.into_iter().map(|d| d.app.id).collect())
}

/// `POST /admin/groups/{id}/hidden`.
pub async fn add_hidden(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let app = match app_named(&state, &session, f.get("app")).await? {
        Ok(app) => app,
        Err(p) => {
            return render_group(&state, &session, group_id, &GroupParams::default(), Some(p)).await
        }
    };
    let mut hidden = current_hidden(&state, &session, group_id).await?;
    if !hidden.contains(&app.app.id) {
        hidden.push(app.app.id);
    }
    let result = state.service.set_group_hidden_apps(&session.ctx, group_id, &hidden).await;
    done(&state, &session, group_id, result, "").await
}

/// `POST /admin/groups/{id}/hidden/remove`.
pub async fn remove_hidden(
    State(state): State<AppState>,
    session: Session,
    Path(group_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let app_id = f.id("app_id")?;
    let mut hidden = current_hidden(&state, &session, group_id).await?;
    hidden.retain(|id| *id != app_id);
    let result = state.service.set_group_hidden_apps(&session.ctx, group_id, &hidden).await;
    done(&state, &session, group_id, result, "").await
}
