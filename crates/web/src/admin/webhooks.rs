//! Webhook subscriptions: create (the signing secret shown once), delete, and each one's
//! deliveries with their attempts.
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use maud::html;
use portcullis_api::AppState;
use portcullis_domain::{EventType, PageRequest};
use uuid::Uuid;

use super::{admin_form, alert, refused, see_other, show_once, when, with_problem, Problem};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

/// `GET /admin/webhooks`.
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
    let subs = state.service.list_subscriptions(&session.ctx).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Webhooks",
            Some(session),
            html! {
                h1 { "Webhooks" }
                (alert(problem.as_ref()))
                table {
                    thead { tr { th scope="col" { "Target" } th scope="col" { "Events" } th scope="col" { "State" } th scope="col" { "" } } }
                    tbody { @for s in &subs { tr {
                        td { a href=(format!("/admin/webhooks/{}", s.id)) { (s.target_url) } @if !s.description.is_empty() { div.muted { (s.description) } } }
                        td { (s.events.join(", ")) }
                        td { @if s.enabled { "enabled" } @else { span.error { "disabled" } } @if let Some(f) = s.failing_since { " — failing since " (when(f)) } @if let Some(p) = s.paused_until { " — paused until " (when(p)) } }
                        td { form.inline method="post" action=(format!("/admin/webhooks/{}/delete", s.id)) {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button.danger type="submit" aria-label=(format!("Delete the webhook to {}", s.target_url)) { "Delete" }
                        } }
                    } } }
                }
                @if subs.is_empty() { p.muted { "No webhook yet." } }
                section.card {
                    h2 { "Add a webhook" }
                    form method="post" action="/admin/webhooks" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        label for="target_url" { "Target URL (https)" } input id="target_url" name="target_url" type="url" required;
                        label for="description" { "Description" } input id="description" name="description";
                        fieldset {
                            legend { "Events" }
                            @for e in EventType::ALL {
                                label { input type="checkbox" name="events" value=(e.name()); " " code { (e.name()) } }
                            }
                        }
                        button type="submit" { "Add webhook" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/webhooks`: the signing secret is shown on the answer, once.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let events: Vec<String> = f.all("events").into_iter().map(str::to_string).collect();
    let created = state
        .service
        .create_subscription(&session.ctx, f.get("target_url"), &events, f.opt("description"))
        .await;
    match created {
        Ok(c) => Ok(show_once(
            &session,
            "Webhook created",
            &format!(
                "Events now go to {}. Verify them with this signing secret.",
                c.subscription.target_url
            ),
            &[("Signing secret", &c.secret)],
            ("/admin/webhooks", "Back to the webhooks"),
        )),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    admin_form(&session, fields)?;
    match state.service.delete_subscription(&session.ctx, id).await {
        Ok(()) => Ok(see_other("/admin/webhooks")),
        Err(e) => render(&state, &session, Some(refused(e)?)).await,
    }
}

/// `GET /admin/webhooks/{id}`: the deliveries.
pub async fn deliveries(
    State(state): State<AppState>,
    session: Session,
    Path(webhook_id): Path<Uuid>,
) -> Result<maud::Markup, ConsoleError> {
    require_admin(&session)?;
    let deliveries =
        state.service.list_deliveries(&session.ctx, webhook_id, PageRequest::first()).await?.items;
    Ok(page(
        "Webhooks",
        Some(&session),
        html! {
            h1 { "Deliveries" }
            table {
                thead { tr { th scope="col" { "Events" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Next try" } } }
                tbody { @for (d, attempts) in &deliveries { tr {
                    td {
                        (d.event_type)
                        @if d.event_ids.len() > 1 { " and " (d.event_ids.len() - 1) " more" }
                    }
                    td { (d.status.name()) }
                    td { @for a in attempts { div { "#" (a.attempt) " " (when(a.attempted_at)) ": " (a.status_code.map(|c| c.to_string()).unwrap_or_else(|| a.error.clone().unwrap_or_default())) } } }
                    td { (d.next_attempt_at.map(when).unwrap_or_default()) }
                } } }
            }
        },
    ))
}
