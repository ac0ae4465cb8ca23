//! API credentials of the organization: create (key and secret shown once), revoke.
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::AccessLevel;
use uuid::Uuid;

use super::{admin_form, alert, refused, see_other, show_once, when, with_problem, Problem};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

/// `GET /admin/credentials`.
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
    let credentials = state.service.list_api_credentials(&session.ctx).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Credentials",
            Some(session),
            html! {
                h1 { "API credentials" }
                (alert(problem.as_ref()))
                p.hint { "Credentials let programs call the API (" code { "X-API-KEY" } " and " code { "X-API-SECRET" } "). People sign in with personal tokens, created on their user page. Identity providers use " a href="/admin/scim" { "SCIM tokens" } "." }
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Access" } th scope="col" { "Created" } th scope="col" { "State" } th scope="col" { "" } } }
                    tbody { @for c in &credentials { tr {
                        td { (c.name) } td { @if c.access_level == AccessLevel::ReadOnly { "read-only" } @else { "read-write" } }
                        td { (when(c.created_at)) }
                        td { @if let Some(r) = c.revoked_at { "revoked " (when(r)) } @else { "active" } }
                        td { @if c.revoked_at.is_none() {
                            form.inline method="post" action=(format!("/admin/credentials/{}/revoke", c.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button.danger type="submit" aria-label=(format!("Revoke credential {}", c.name)) { "Revoke" }
                            }
                        } }
                    } } }
                }
                section.card {
                    h2 { "Create a credential" }
                    form method="post" action="/admin/credentials" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for="name" { "Name" } input id="name" name="name" required;
                        div { label { input type="checkbox" name="read_only" value="true"; " Read-only (may read, never change)" } }
                        button type="submit" { "Create credential" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/credentials`: the key and secret are shown on the answer, once.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let level = if f.checked("read_only") { AccessLevel::ReadOnly } else { AccessLevel::ReadWrite };
    match state.service.create_api_credential(&session.ctx, f.get("name"), level).await {
        Ok(issued) => Ok(show_once(
            &session,
            "API credential created",
            &format!("Credential '{}' was created.", issued.credential.name),
            &[("API key", &issued.api_key), ("API secret", &issued.api_secret)],
            ("/admin/credentials", "Back to the credentials"),
        )),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}

/// `POST /admin/credentials/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.revoke_api_credential(&session.ctx, id).await {
        Ok(()) => Ok(see_other("/admin/credentials")),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}
