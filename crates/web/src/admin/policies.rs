//! Approval policies: the list, and create / edit with a steps editor (who approves each step:
//! the manager, the app's owners, the administrators, one named user, or a group's members).
//! Which policy an app or a level follows is set on the app's page.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::governance::MAX_POLICY_STEPS;
use portcullis_domain::{Approver, PageRequest, Policy, PolicyStep, RequestType};
use portcullis_service::{NewPolicy, PolicyPatch};
use uuid::Uuid;

use super::{admin_form, alert, refused, see_other, user_by_email, with_problem, Fields, Problem};
use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

type FormFields = Form<Vec<(String, String)>>;

/// The approver kinds the service supports, with the form's value and words.
const KINDS: [(Approver, &str, &str); 5] = [
    (Approver::Manager, "Manager", "The user's manager"),
    (Approver::AppOwner, "AppOwner", "The app's owners"),
    (Approver::Administrators, "Administrators", "The administrators"),
    (Approver::User, "User", "One person (e-mail below)"),
    (Approver::GroupMembers, "GroupMembers", "A group's members (group name below)"),
];

/// A step in words, with the named person or group.
async fn step_words(state: &AppState, session: &Session, step: &PolicyStep) -> String {
    let kind = KINDS.iter().find(|(a, _, _)| *a == step.approver).map(|k| k.2).unwrap_or("?");
    match (step.approver, step.user_id, step.group_id) {
        (Approver::User, Some(id), _) => match state.service.get_user(&session.ctx, id).await {
            Ok(u) => format!("{} ({})", u.full_name(), u.email),
            Err(_) => format!("user {id}"),
        },
        (Approver::GroupMembers, _, Some(id)) => {
            match state.service.get_group(&session.ctx, id).await {
                Ok(g) => format!("Members of {}", g.name),
                Err(_) => format!("group {id}"),
            }
        }
        _ => kind.to_string(),
    }
}

/// The steps editor: the policy's steps, then empty rows up to the most a policy may have.
async fn steps_editor(
    state: &AppState,
    session: &Session,
    steps: &[PolicyStep],
) -> Result<Markup, ConsoleError> {
    let mut rows = Vec::new();
    for i in 0..MAX_POLICY_STEPS {
        let step = steps.get(i);
        let (mut email, mut group) = (String::new(), String::new());
        if let Some(PolicyStep { user_id: Some(id), .. }) = step {
            email = state
                .service
                .get_user(&session.ctx, *id)
                .await
                .map(|u| u.email)
                .unwrap_or_default();
        }
        if let Some(PolicyStep { group_id: Some(id), .. }) = step {
            group = state
                .service
                .get_group(&session.ctx, *id)
                .await
                .map(|g| g.name)
                .unwrap_or_default();
        }
        rows.push((i, step.map(|s| s.approver), email, group));
    }
    Ok(html! {
        fieldset {
            legend { "Steps, in order (leave a row on \u{2014} to skip it; no steps approves at once)" }
            table {
                thead { tr { th scope="col" { "Step" } th scope="col" { "Approver" } th scope="col" { "Person's e-mail" } th scope="col" { "Group name" } } }
                tbody { @for (i, approver, email, group) in &rows { tr {
                    td { (i + 1) }
                    td { select id=(format!("approver_{i}")) name=(format!("approver_{i}")) aria-label=(format!("Approver of step {}", i + 1)) {
                        option value="" { "\u{2014}" }
                        @for (a, value, words) in KINDS { option value=(value) selected[Some(a) == *approver] { (words) } }
                    } }
                    td { input name=(format!("user_{i}")) type="email" value=(email) aria-label=(format!("Person approving step {}", i + 1)); }
                    td { input name=(format!("group_{i}")) value=(group) aria-label=(format!("Group approving step {}", i + 1)); }
                } } }
            }
        }
    })
}

/// The steps of a submitted editor.
async fn steps_from(
    state: &AppState,
    session: &Session,
    f: &Fields,
) -> Result<Result<Vec<PolicyStep>, Problem>, ConsoleError> {
    let mut steps = Vec::new();
    for i in 0..MAX_POLICY_STEPS {
        let Some(kind) = f.opt(&format!("approver_{i}")) else { continue };
        let Some((approver, _, _)) = KINDS.iter().find(|(_, v, _)| *v == kind) else {
            return Ok(Err((StatusCode::BAD_REQUEST, format!("Unknown approver '{kind}'."))));
        };
        let mut step = PolicyStep { approver: *approver, user_id: None, group_id: None };
        match approver {
            Approver::User => match f.opt(&format!("user_{i}")) {
                None => {
                    let m = format!("Step {}: give the e-mail of the person who approves.", i + 1);
                    return Ok(Err((StatusCode::BAD_REQUEST, m)));
                }
                Some(email) => match user_by_email(state, session, email).await? {
                    Ok(u) => step.user_id = Some(u.id),
                    Err(p) => return Ok(Err(p)),
                },
            },
            Approver::GroupMembers => {
                let name = f.get(&format!("group_{i}"));
                let found =
                    state.service.search_groups(&session.ctx, name, PageRequest::first()).await?;
                match found
                    .items
                    .into_iter()
                    .find(|g| !name.is_empty() && g.name.eq_ignore_ascii_case(name))
                {
                    Some(g) => step.group_id = Some(g.id),
                    None => {
                        let m = format!("Step {}: there is no group named '{name}'.", i + 1);
                        return Ok(Err((StatusCode::BAD_REQUEST, m)));
                    }
                }
            }
            _ => {}
        }
        steps.push(step);
    }
    Ok(Ok(steps))
}

/// `GET /admin/policies`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_list(&state, &session, None).await
}

async fn render_list(
    state: &AppState,
    session: &Session,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let mut policies: Vec<Policy> = Vec::new();
    let mut page_request = PageRequest::first();
    // Policies are few (ten system ones and those an organization writes); a page of a hundred
    // at a time until the end, capped.
    for _ in 0..10 {
        let next = state.service.list_policies(&session.ctx, None, page_request).await?;
        policies.extend(next.items);
        match next.next_after {
            Some(after) => page_request = PageRequest::after(Some(after)),
            None => break,
        }
    }
    let mut described = Vec::new();
    for p in &policies {
        let mut steps = Vec::new();
        for s in &p.steps {
            steps.push(step_words(state, session, s).await);
        }
        described.push((p, steps));
    }
    let editor = steps_editor(state, session, &[]).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Policies",
            Some(session),
            html! {
                h1 { "Approval policies" }
                (alert(problem.as_ref()))
                p.hint { "A policy lists who approves a request, step by step. Choose which policy an app or a permission level follows on the app's page." }
                table {
                    thead { tr { th scope="col" { "Policy" } th scope="col" { "Request type" } th scope="col" { "Steps" } th scope="col" { "Version" } } }
                    tbody { @for (p, steps) in &described { tr {
                        td { a href=(format!("/admin/policies/{}", p.id)) { (p.name) } @if p.is_default { " " span.muted { "(organization default)" } } }
                        td { (p.request_type.name()) }
                        td { @if steps.is_empty() { "approved at once" } ol { @for s in steps { li { (s) } } } }
                        td { (p.version) }
                    } } }
                }
                section.card {
                    h2 { "Create a policy" }
                    form method="post" action="/admin/policies" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        div.row {
                            div { label for="name" { "Name" } input id="name" name="name" required; }
                            div { label for="request_type" { "Request type" }
                                select id="request_type" name="request_type" {
                                    @for t in RequestType::ALL { option value=(t.name()) { (t.name()) } }
                                }
                            }
                        }
                        (editor)
                        button type="submit" { "Create policy" }
                    }
                }
            },
        ),
    ))
}

/// `POST /admin/policies`.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let request_type = match RequestType::parse(f.get("request_type")) {
        Ok(t) => t,
        Err(e) => {
            let problem = (StatusCode::BAD_REQUEST, e.to_string());
            return render_list(&state, &session, Some(problem)).await;
        }
    };
    let steps = match steps_from(&state, &session, &f).await? {
        Ok(steps) => steps,
        Err(p) => return render_list(&state, &session, Some(p)).await,
    };
    let new = NewPolicy { name: f.get("name").to_string(), request_type, steps };
    match state.service.create_policy(&session.ctx, new).await {
        Ok(p) => Ok(see_other(&format!("/admin/policies/{}", p.id))),
        Err(e) => render_list(&state, &session, Some(refused(e)?)).await,
    }
}

/// `GET /admin/policies/{id}`: the policy in the editor.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(policy_id): Path<Uuid>,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    render_policy(&state, &session, policy_id, None).await
}

async fn render_policy(
    state: &AppState,
    session: &Session,
    policy_id: Uuid,
    problem: Option<Problem>,
) -> Result<Response, ConsoleError> {
    let policy = state.service.get_policy(&session.ctx, policy_id).await?;
    let editor = steps_editor(state, session, &policy.steps).await?;
    Ok(with_problem(
        problem.as_ref(),
        page(
            "Policies",
            Some(session),
            html! {
                h1 { "Policy: " (policy.name) }
                (alert(problem.as_ref()))
                p { "For " strong { (policy.request_type.name()) } ", version " (policy.version)
                    @if policy.is_system { " · a system policy" } @if policy.is_default { " · the organization default" } "." }
                p.hint { "Requests already following this policy keep the version they started with." }
                form.card method="post" action=(format!("/admin/policies/{policy_id}")) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="name" { "Name" } input id="name" name="name" required value=(policy.name);
                    (editor)
                    button type="submit" { "Save" }
                }
                p { a href="/admin/policies" { "All policies" } }
            },
        ),
    ))
}

/// `POST /admin/policies/{id}`.
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(policy_id): Path<Uuid>,
    Form(fields): FormFields,
) -> Result<Response, ConsoleError> {
    let f = admin_form(&session, fields)?;
    let steps = match steps_from(&state, &session, &f).await? {
        Ok(steps) => steps,
        Err(p) => return render_policy(&state, &session, policy_id, Some(p)).await,
    };
    let patch = PolicyPatch { name: Some(f.get("name").to_string()), steps: Some(steps) };
    match state.service.update_policy(&session.ctx, policy_id, patch).await {
        Ok(_) => Ok(see_other(&format!("/admin/policies/{policy_id}"))),
        Err(e) => render_policy(&state, &session, policy_id, Some(refused(e)?)).await,
    }
}
