//! Users: search the directory, create or invite, change role and manager, deactivate and
//! reactivate, and personal tokens (created and shown once, revoked).
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::{OrgRole, User, UserStatus};
use portcullis_service::{NewUser, UserPatch};
use uuid::Uuid;

use super::{
    admin_form, alert, pager, refused, search_box, see_other, show_once, user_by_email, when,
    with_problem, ListParams, Problem,
};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

fn role_select(id: &str, current: OrgRole) -> maud::Markup {
    html! {
        select id=(id) name="role" {
            @for r in OrgRole::ALL { option value=(r.name()) selected[r == current] { (r.name()) } }
        }
    }
}

fn user_link(u: &User) -> maud::Markup {
    html! { a href=(format!("/admin/users/{}", u.id)) { (u.full_name()) } }
}

/// `GET /admin/users?q=…&after=…`: the directory, searched and paged in the store.
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
    let users = state.service.search_users(&session.ctx, &params.q, params.page()?).await?;
    let managers: Vec<Uuid> = users.items.iter().filter_map(|u| u.manager_id).collect();
    let mut manager_names = std::collections::HashMap::new();
    for id in managers {
        if let std::collections::hash_map::Entry::Vacant(slot) = manager_names.entry(id) {
            if let Ok(m) = state.service.get_user(&session.ctx, id).await {
                slot.insert(m.full_name());
            }
        }
    }
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Users",
            Some(session),
            html! {
                h1 { "Users" }
                (alert(problem.as_ref()))
                (search_box("/admin/users", &params.q, "by name or e-mail"))
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "Manager" } } }
                    tbody { @for u in &users.items { tr {
                        td { (user_link(u)) } td { (u.email) } td { (u.role.cakewalk_name()) } td { (u.status().cakewalk_name()) }
                        td { (u.manager_id.and_then(|m| manager_names.get(&m).cloned()).unwrap_or_default()) }
                    } } }
                }
                @if users.items.is_empty() { p.muted { "No user matches." } }
                (pager("/admin/users", params, &users))
                section.card {
                    h2 { "Add a user" }
                    form method="post" action="/admin/users" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        div.row {
                            div { label for="first_name" { "First name" } input id="first_name" name="first_name" required; }
                            div { label for="last_name" { "Last name" } input id="last_name" name="last_name"; }
                        }
                        div.row {
                            div { label for="email" { "E-mail" } input id="email" name="email" type="email" required; }
                            div { label for="new-role" { "Role" } (role_select("new-role", OrgRole::User)) }
                        }
                        label for="manager" { "Manager's e-mail (optional)" }
                        input id="manager" name="manager" type="email";
                        div { label { input type="checkbox" name="invite" value="true"; " Invite: the user is Invited until they first sign in" } }
                        button type="submit" { "Add user" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/users`: creates (or invites) a user.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let back = ListParams::default();
    let role = match OrgRole::parse(f.get("role")) {
        Ok(r) => r,
        Err(e) => {
            let problem = (axum::http::StatusCode::BAD_REQUEST, e.to_string());
            return render_list(&state, &session, &back, Some(problem)).await;
        }
    };
    let manager_id = match f.opt("manager") {
        None => None,
        Some(text) => match user_by_email(&state, &session, text).await? {
            Ok(m) => Some(m.id),
            Err(problem) => return render_list(&state, &session, &back, Some(problem)).await,
        },
    };
    let new = NewUser {
        first_name: f.get("first_name").to_string(),
        last_name: f.get("last_name").to_string(),
        email: f.get("email").to_string(),
        manager_id,
        role: Some(role),
        status: if f.checked("invite") { UserStatus::Invited } else { UserStatus::Active },
    };
    match state.service.create_user(&session.ctx, new).await {
        Ok(user) => Ok(see_other(&format!("/admin/users/{}", user.id))),
        Err(e) => render_list(&state, &session, &back, Some(refused(e)?)).await,
    }
}

/// `GET /admin/users/{id}`: one user: role, manager, status and personal tokens.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<Uuid>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_user(&state, &session, user_id, None).await
}

async fn render_user(
    state: &AppState,
    session: &Session,
    user_id: Uuid,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let user = state.service.get_user(&session.ctx, user_id).await?;
    let manager = match user.manager_id {
        Some(id) => state.service.get_user(&session.ctx, id).await.ok(),
        None => None,
    };
    let tokens = state.service.list_user_tokens(&session.ctx, user_id).await?;
    let now = state.service.clock().now();
    let status = user.status();
    let base = format!("/admin/users/{user_id}");
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Users",
            Some(session),
            html! {
                h1 { "User: " (user.full_name()) }
                (alert(problem.as_ref()))
                p { (user.email) " · " strong { (status.cakewalk_name()) } " · role " (user.role.name())
                    @if let Some(m) = &manager { " · manager " (user_link(m)) } }
                section.card {
                    h2 { "Role and manager" }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(session.csrf);
                        div.row {
                            div { label for="role" { "Role" } (role_select("role", user.role)) }
                            div { label for="manager" { "Manager's e-mail (empty: no manager)" }
                                  input id="manager" name="manager" type="email" value=(manager.as_ref().map(|m| m.email.as_str()).unwrap_or_default()); }
                        }
                        button type="submit" { "Save" }
                    }
                }
                section.card {
                    h2 { "Status" }
                    @if status == UserStatus::Deactivated {
                        p { "Deactivated. Reactivating does not bring back revoked tokens or removed accesses." }
                        form method="post" action=(format!("{base}/reactivate")) {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button type="submit" { "Reactivate" }
                        }
                    } @else {
                        p { "Deactivating offboards the user: their tokens and sessions end, their accesses are removed as the leaver settings say, their open requests are cancelled and their tasks go to others." }
                        form method="post" action=(format!("{base}/deactivate")) {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button.danger type="submit" { "Deactivate" }
                        }
                    }
                }
                section.card {
                    h2 { "Personal tokens" }
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "State" } th scope="col" { "" } } }
                        tbody { @for t in &tokens { tr {
                            td { (t.name) } td { (when(t.created_at)) } td { (t.expires_at.map(when).unwrap_or_else(|| "never".into())) }
                            td { @if let Some(r) = t.revoked_at { "revoked " (when(r)) } @else if t.expires_at.is_some_and(|e| e <= now) { "expired" } @else { "active" } }
                            td { @if t.revoked_at.is_none() {
                                form.inline method="post" action=(format!("{base}/tokens/{}/revoke", t.id)) {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    button.danger type="submit" aria-label=(format!("Revoke token {}", t.name)) { "Revoke" }
                                }
                            } }
                        } } }
                    }
                    @if status != UserStatus::Deactivated {
                        form method="post" action=(format!("{base}/tokens")) {
                            input type="hidden" name="csrf" value=(session.csrf);
                            div.row {
                                div { label for="token-name" { "New token's name" } input id="token-name" name="name" required; }
                                div { label for="expires" { "Expires on (optional)" } input id="expires" name="expires" type="date"; }
                            }
                            button type="submit" { "Create token" }
                        }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/users/{id}`: role and manager.
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let role = match OrgRole::parse(f.get("role")) {
        Ok(r) => r,
        Err(e) => {
            let problem = (axum::http::StatusCode::BAD_REQUEST, e.to_string());
            return render_user(&state, &session, user_id, Some(problem)).await;
        }
    };
    let current = state.service.get_user(&session.ctx, user_id).await?;
    let manager_id = match f.opt("manager") {
        None => None,
        Some(text) => match user_by_email(&state, &session, text).await? {
            Ok(m) => Some(m.id),
            Err(problem) => return render_user(&state, &session, user_id, Some(problem)).await,
        },
    };
    // Only what changed, so that a role change does not need the right to set managers.
    let patch = UserPatch {
        role: (role != current.role).then_some(role),
        manager_id: (manager_id != current.manager_id).then_some(manager_id),
        ..UserPatch::default()
    };
    match state.service.update_user(&session.ctx, user_id, patch).await {
        Ok(_) => Ok(see_other(&format!("/admin/users/{user_id}"))),
        Err(e) => render_user(&state, &session, user_id, Some(refused(e)?)).await,
    }
}

/// `POST /admin/users/{id}/deactivate`: the leaver path (offboarding).
pub async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.offboard_user(&session.ctx, user_id).await {
        Ok(_) => Ok(see_other(&format!("/admin/users/{user_id}"))),
        Err(e) => render_user(&state, &session, user_id, Some(refused(e)?)).await,
    }
}

/// `POST /admin/users/{id}/reactivate`.
pub async fn reactivate(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.restore_user(&session.ctx, user_id).await {
        Ok(_) => Ok(see_other(&format!("/admin/users/{user_id}"))),
        Err(e) => render_user(&state, &session, user_id, Some(refused(e)?)).await,
    }
}

/// `POST /admin/users/{id}/tokens`: a personal token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    session: Session,
    Path(user_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let expires_at = match f.opt("expires") {
        None => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(day) => day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Err(_) => {
                let problem = (
                    axum::http::StatusCode::BAD_REQUEST,
                    "Give the expiry as a date (YYYY-MM-DD).".to_string(),
                );
                return render_user(&state, &session, user_id, Some(problem)).await;
            }
        },
    };
    match state.service.create_user_token(&session.ctx, user_id, f.get("name"), expires_at).await {
        Ok(issued) => Ok(show_once(
            &session,
            "Personal token created",
            &format!("Token '{}' was created.", issued.token.name),
            &[("Token", &issued.value)],
            (&format!("/admin/users/{user_id}"), "Back to the user"),
        )),
        Err(e) => render_user(&state, &session, user_id, Some(refused(e)?)).await,
    }
}

/// `POST /admin/users/{id}/tokens/{token_id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    session: Session,
    Path((user_id, token_id)): Path<(Uuid, Uuid)>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.revoke_user_token(&session.ctx, user_id, token_id).await {
        Ok(()) => Ok(see_other(&format!("/admin/users/{user_id}"))),
        Err(e) => render_user(&state, &session, user_id, Some(refused(e)?)).await,
    }
}
