//! SCIM tokens, which the identity provider calls `/scim/v2` with: create (shown once), revoke.
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use uuid::Uuid;

use super::{admin_form, alert, refused, see_other, show_once, when, with_problem, Problem};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

/// `GET /admin/scim`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render(&state, &session, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let tokens = state.service.list_scim_tokens(&session.ctx).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Credentials",
            Some(session),
            html! {
                h1 { "SCIM tokens" }
                (alert(problem.as_ref()))
                p.hint { "Your identity provider provisions users and groups through " code { "/scim/v2" } " with one of these tokens as its bearer token. See also the " a href="/admin/credentials" { "API credentials" } "." }
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } th scope="col" { "" } } }
                    tbody { @for t in &tokens { tr {
                        td { (t.name) } td { (when(t.created_at)) } td { (t.last_used_at.map(when).unwrap_or_else(|| "never".into())) }
                        td { @if let Some(r) = t.revoked_at { "revoked " (when(r)) } @else { "active" } }
                        td { @if t.revoked_at.is_none() {
                            form.inline method="post" action=(format!("/admin/scim/{}/revoke", t.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button.danger type="submit" aria-label=(format!("Revoke SCIM token {}", t.name)) { "Revoke" }
                            }
                        } }
                    } } }
                }
                section.card {
                    h2 { "Create a SCIM token" }
                    form method="post" action="/admin/scim" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for="name" { "Name" } input id="name" name="name" required placeholder="e.g. Okta";
                        button type="submit" { "Create SCIM token" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/scim`: the token is shown on the answer, once.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    match state.service.create_scim_token(&session.ctx, f.get("name")).await {
        Ok(issued) => Ok(show_once(
            &session,
            "SCIM token created",
            &format!("SCIM token '{}' was created.", issued.token.name),
            &[("SCIM token", &issued.value)],
            ("/admin/scim", "Back to the SCIM tokens"),
        )),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}

/// `POST /admin/scim/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.revoke_scim_token(&session.ctx, id).await {
        Ok(()) => Ok(see_other("/admin/scim")),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}
