//! Work apps: search, create, edit (name, description, provisioning, status, owners), permission
//! levels, custom field values, and which policy the app's and each level's requests follow.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::{PageRequest, Policy, ProvisioningMode, RequestType, WorkAppStatus};
use portcullis_service::{
    FieldValueChange, NewPermissionLevel, NewWorkApp, ServiceError, WorkAppPatch,
};
use uuid::Uuid;

use super::{
    admin_form, alert, pager, refused, search_box, see_other, user_by_email, with_problem, Fields,
    ListParams, Problem,
};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

fn mode_select(current: ProvisioningMode) -> Markup {
    html! {
        select id="provisioning_mode" name="provisioning_mode" {
            @for m in ProvisioningMode::ALL { option value=(m.name()) selected[m == current] { (m.name()) } }
        }
    }
}

/// `GET /admin/apps?q=…&after=…`.
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
    let apps = state.service.search_work_apps(&session.ctx, &params.q, params.page()?).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Apps",
            Some(session),
            html! {
                h1 { "Apps" }
                (alert(problem.as_ref()))
                (search_box("/admin/apps", &params.q, "by name"))
                table {
                    thead { tr { th scope="col" { "App" } th scope="col" { "Status" } th scope="col" { "Provisioning" } th scope="col" { "Accounts" } th scope="col" { "Owners" } } }
                    tbody { @for d in &apps.items { tr {
                        td { a href=(format!("/admin/apps/{}", d.app.id)) { (d.app.name) } }
                        td { (d.app.status.name()) } td { (d.app.provisioning_mode.name()) } td { (d.number_of_accounts) }
                        td { @for o in &d.owners { div { (o.full_name()) } } }
                    } } }
                }
                @if apps.items.is_empty() { p.muted { "No app matches." } }
                (pager("/admin/apps", params, &apps))
                section.card {
                    h2 { "Add an app" }
                    form method="post" action="/admin/apps" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        div.row {
                            div { label for="name" { "Name" } input id="name" name="name" required; }
                            div { label for="provisioning_mode" { "Provisioning" } (mode_select(ProvisioningMode::Manual)) }
                        }
                        label for="description" { "Description" } input id="description" name="description";
                        label for="owners" { "Owners' e-mails (comma-separated)" } input id="owners" name="owners";
                        button type="submit" { "Add app" }
                    }
                }
            },
        ),
    ))
}

/// The owners' ids from a comma-separated list of e-mails.
async fn owner_ids(
    state: &AppState,
    session: &Session,
    f: &Fields,
) -> Result<Result<Vec<Uuid>, Problem>, ConsoleError> {
    let mut ids = Vec::new();
    for email in f.get("owners").split([',', ';', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
        match user_by_email(state, session, email).await? {
            Ok(u) => ids.push(u.id),
            Err(problem) => return Ok(Err(problem)),
        }
    }
    Ok(Ok(ids))
}

fn bad(message: String) -> Problem {
    (StatusCode::BAD_REQUEST, message)
}

/// `POST /admin/apps`.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let back = ListParams::default();
    let owners = match owner_ids(&state, &session, &f).await? {
        Ok(ids) => ids,
        Err(p) => return render_list(&state, &session, &back, Some(p)).await,
    };
    let mode = match ProvisioningMode::parse(f.get("provisioning_mode")) {
        Ok(m) => m,
        Err(e) => return render_list(&state, &session, &back, Some(bad(e.to_string()))).await,
    };
    let new = NewWorkApp {
        name: f.get("name").to_string(),
        description: f.opt("description").map(str::to_string),
        owner_ids: owners,
        provisioning_mode: Some(mode),
        status: None,
        category: None,
        url: None,
        image_url: None,
        tag_line: None,
    };
    match state.service.create_work_app(&session.ctx, new).await {
        Ok(d) => Ok(see_other(&format!("/admin/apps/{}", d.app.id))),
        Err(e) => render_list(&state, &session, &back, Some(refused(e)?)).await,
    }
}

/// `GET /admin/apps/{id}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_app(&state, &session, app_id, None).await
}

/// A select of the policies of one request type.
fn policy_select(id: &str, policies: &[Policy], current: Option<Uuid>) -> Markup {
    html! {
        select id=(id) name="policy_id" {
            @for p in policies { option value=(p.id) selected[Some(p.id) == current] { (p.name) " (v" (p.version) ", " (p.steps.len()) " steps)" } }
        }
    }
}

async fn render_app(
    state: &AppState,
    session: &Session,
    app_id: Uuid,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let ctx = &session.ctx;
    let d = state.service.get_work_app(ctx, app_id).await?;
    let levels = state.service.list_permission_levels(ctx, app_id, PageRequest::first()).await?;
    let assigned = state.service.app_policies(ctx, app_id).await?;
    let mut policies = Vec::new();
    for t in RequestType::ALL {
        policies.push((
            t,
            state.service.list_policies(ctx, Some(t), PageRequest::first()).await?.items,
        ));
    }
    let fields = state.service.list_app_custom_fields(ctx, app_id, PageRequest::first()).await?;
    let (accesses, _) = state.service.list_accesses(ctx, app_id, PageRequest::first()).await?;
    let owners = d.owners.iter().map(|o| o.email.as_str()).collect::<Vec<_>>().join(", ");
    let base = format!("/admin/apps/{app_id}");
    let csrf = &session.csrf;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Apps",
            Some(session),
            html! {
                h1 { "App: " (d.app.name) }
                (alert(problem.as_ref()))
                section.card {
                    h2 { "Details" }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(csrf);
                        div.row {
                            div { label for="name" { "Name" } input id="name" name="name" required value=(d.app.name); }
                            div { label for="provisioning_mode" { "Provisioning" } (mode_select(d.app.provisioning_mode)) }
                            div { label for="status" { "Status" }
                                select id="status" name="status" {
                                    @for s in WorkAppStatus::ALL { option value=(s.name()) selected[s == d.app.status] { (s.name()) } }
                                }
                            }
                        }
                        label for="description" { "Description" } input id="description" name="description" value=(d.app.description);
                        label for="owners" { "Owners' e-mails (comma-separated)" } input id="owners" name="owners" value=(owners);
                        button type="submit" { "Save" }
                    }
                }
                section.card {
                    h2 { "Permission levels" }
                    table {
                        thead { tr { th scope="col" { "Level" } th scope="col" { "Flags" } th scope="col" { "Policy for one request type" } } }
                        tbody { @for l in &levels.items { tr {
                            td { (l.name) @if !l.description.is_empty() { div.muted { (l.description) } } }
                            td { @if l.is_default { "default " } @if l.is_privileged { "privileged" } }
                            td {
                                form.row method="post" action=(format!("{base}/levels/{}/policies", l.id)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    div {
                                        label for=(format!("level-type-{}", l.id)) { "Request type" }
                                        select id=(format!("level-type-{}", l.id)) name="request_type" {
                                            @for t in RequestType::ALL { option value=(t.name()) { (t.name()) } }
                                        }
                                    }
                                    div {
                                        label for=(format!("level-policy-{}", l.id)) { "Policy" }
                                        select id=(format!("level-policy-{}", l.id)) name="policy_id" {
                                            @for (t, list) in &policies { optgroup label=(t.name()) {
                                                @for p in list { option value=(p.id) { (p.name) " (v" (p.version) ")" } }
                                            } }
                                        }
                                    }
                                    div { button type="submit" aria-label=(format!("Set the policy of level {}", l.name)) { "Set" } }
                                }
                            }
                        } } }
                    }
                    h3 { "Add a level" }
                    form method="post" action=(format!("{base}/levels")) {
                        input type="hidden" name="csrf" value=(csrf);
                        div.row {
                            div { label for="level-name" { "Name" } input id="level-name" name="name" required; }
                            div { label for="level-description" { "Description" } input id="level-description" name="description"; }
                        }
                        div { label { input type="checkbox" name="is_default" value="true"; " Default level" } }
                        div { label { input type="checkbox" name="is_privileged" value="true"; " Privileged" } }
                        button type="submit" { "Add level" }
                    }
                }
                section.card {
                    h2 { "Policies" }
                    p.hint { "Which approval policy this app's requests follow, per request type." }
                    table {
                        thead { tr { th scope="col" { "Request type" } th scope="col" { "Now" } th scope="col" { "Change to" } } }
                        tbody { @for (t, list) in &policies {
                            @let now = assigned.iter().find(|(at, _, _)| at == t);
                            tr {
                                td { (t.name()) }
                                td { @if let Some((_, p, source)) = now { (p.name) " v" (p.version) " (" (source) ")" } }
                                td {
                                    form.row method="post" action=(format!("{base}/policies")) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="request_type" value=(t.name());
                                        div { (policy_select(&format!("policy-{}", t.name()), list, now.map(|(_, p, _)| p.id))) }
                                        div { button type="submit" aria-label=(format!("Set the policy for {}", t.name())) { "Set" } }
                                    }
                                }
                            }
                        } }
                    }
                }
                @if !fields.items.is_empty() {
                    section.card {
                        h2 { "Custom fields" }
                        form method="post" action=(format!("{base}/fields")) {
                            input type="hidden" name="csrf" value=(csrf);
                            @for v in &fields.items {
                                label for=(format!("field-{}", v.field.id)) { (v.field.name) " (" (v.field.field_type.name()) @if v.field.required { ", required" } ")" }
                                input id=(format!("field-{}", v.field.id)) name=(format!("field:{}", v.field.id))
                                    value=(v.value.clone().or(v.guid_value.map(|g| g.to_string())).unwrap_or_default());
                            }
                            button type="submit" { "Save fields" }
                        }
                    }
                }
                h2 { "Accounts (" (d.number_of_accounts) ")" }
                ul { @for a in &accesses.items { li { (a.user.full_name()) @if let Some(l) = &a.level { " — " (l.name) } " (" (a.access.source.name()) ")" } } }
            },
        ),
    ))
}

async fn done(
    state: &AppState,
    session: &Session,
    app_id: Uuid,
    result: Result<(), ServiceError>,
) -> Result<Response, ConsoleError> {
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/apps/{app_id}"))),
        Err(e) => render_app(state, session, app_id, Some(refused(e)?)).await,
    }
}

/// `POST /admin/apps/{id}`: the app's details and owners.
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let owners = match owner_ids(&state, &session, &f).await? {
        Ok(ids) => ids,
        Err(p) => return render_app(&state, &session, app_id, Some(p)).await,
    };
    let parsed = ProvisioningMode::parse(f.get("provisioning_mode"))
        .and_then(|m| WorkAppStatus::parse(f.get("status")).map(|s| (m, s)));
    let (mode, status) = match parsed {
        Ok(pair) => pair,
        Err(e) => return render_app(&state, &session, app_id, Some(bad(e.to_string()))).await,
    };
    let patch = WorkAppPatch {
        name: Some(f.get("name").to_string()),
        description: Some(f.get("description").to_string()),
        owner_ids: Some(owners),
        provisioning_mode: Some(mode),
        status: Some(status),
        ..WorkAppPatch::default()
    };
    let result = state.service.update_work_app(&session.ctx, app_id, patch).await.map(|_| ());
    done(&state, &session, app_id, result).await
}

/// `POST /admin/apps/{id}/levels`: a new permission level.
pub async fn add_level(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let new = NewPermissionLevel {
        name: f.get("name").to_string(),
        description: f.opt("description").map(str::to_string),
        is_default: f.checked("is_default"),
        is_privileged: f.checked("is_privileged"),
    };
    let result = state.service.create_permission_level(&session.ctx, app_id, new).await;
    done(&state, &session, app_id, result.map(|_| ())).await
}

fn request_type(f: &Fields) -> Result<RequestType, Problem> {
    RequestType::parse(f.get("request_type")).map_err(|e| bad(e.to_string()))
}

/// `POST /admin/apps/{id}/policies`: the app's policy for one request type.
pub async fn set_policy(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let t = match request_type(&f) {
        Ok(t) => t,
        Err(p) => return render_app(&state, &session, app_id, Some(p)).await,
    };
    let policy_id = f.id("policy_id")?;
    let result = state.service.set_work_app_policy(&session.ctx, app_id, t, policy_id).await;
    done(&state, &session, app_id, result).await
}

/// `POST /admin/apps/{id}/levels/{level_id}/policies`: one level's policy for a request type.
pub async fn set_level_policy(
    State(state): State<AppState>,
    session: Session,
    Path((app_id, level_id)): Path<(Uuid, Uuid)>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let t = match request_type(&f) {
        Ok(t) => t,
        Err(p) => return render_app(&state, &session, app_id, Some(p)).await,
    };
    let policy_id = f.id("policy_id")?;
    let result = state
        .service
        .set_permission_level_policy(&session.ctx, app_id, level_id, t, policy_id)
        .await;
    done(&state, &session, app_id, result).await
}

/// `POST /admin/apps/{id}/fields`: the app's custom field values (an empty box removes one).
pub async fn set_fields(
    State(state): State<AppState>,
    session: Session,
    Path(app_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let csrf_checked = admin_form(&session, fields)?;
    let current =
        state.service.list_app_custom_fields(&session.ctx, app_id, PageRequest::first()).await?;
    let mut changes = Vec::new();
    for v in &current.items {
        let sent = csrf_checked.opt(&format!("field:{}", v.field.id)).map(str::to_string);
        let had = v.value.clone().or(v.guid_value.map(|g| g.to_string()));
        if sent != had {
            changes.push(FieldValueChange { field_id: v.field.id, value: sent });
        }
    }
    let result = if changes.is_empty() {
        Ok(())
    } else {
        state.service.set_app_custom_fields(&session.ctx, app_id, &changes).await.map(|_| ())
    };
    done(&state, &session, app_id, result).await
}
