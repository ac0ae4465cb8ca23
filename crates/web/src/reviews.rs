//! Access reviews in the console: the "Reviews" page where a reviewer works through their queue
//! (keep / revoke / change level with a comment, keep many at once), and the administrators'
//! pages: every campaign, starting one, and one campaign with its progress, its items, closing,
//! cancelling and the export.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use portcullis_api::access_review_exports::{csv_export, json_export};
use portcullis_api::AppState;
use portcullis_domain::{
    AccessReviewStatus, AccessReviewType, ItemDecision, NewAccessReview, PageRequest,
    PermissionLevel, ReviewDecision, ReviewItemDetail, UndecidedItems,
};
use portcullis_service::{AccessReviewDetails, DecisionFilter, ReviewItemFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn is_running(d: &AccessReviewDetails) -> bool {
    matches!(d.status, AccessReviewStatus::Open | AccessReviewStatus::Overdue)
}

/// "12 of 40 decided", and what is still open.
fn progress_line(d: &AccessReviewDetails) -> Markup {
    let p = &d.progress;
    html! {
        (p.decided) " of " (p.items) " decided"
        " (keep " (p.keep) ", revoke " (p.revoke) ", change level " (p.change_level) ")"
        @if p.unassigned > 0 { "; " (p.unassigned) " without a reviewer" }
    }
}

fn undecided_word(d: &AccessReviewDetails) -> &'static str {
    match d.review.undecided_items {
        UndecidedItems::Keep => "kept",
        UndecidedItems::Revoke => "revoked",
    }
}

fn status_badge(d: &AccessReviewDetails) -> Markup {
    html! {
        @if d.status == AccessReviewStatus::Overdue { strong.error { "Overdue" } }
        @else { strong { (d.status.name()) } }
    }
}

/// The levels of each app among the items, for the "change level" choices.
async fn levels_of(
    state: &AppState,
    session: &Session,
    items: &[ReviewItemDetail],
) -> Result<HashMap<Uuid, Vec<PermissionLevel>>, ConsoleError> {
    let mut levels = HashMap::new();
    for d in items {
        if let std::collections::hash_map::Entry::Vacant(slot) = levels.entry(d.item.work_app_id) {
            let found = state
                .service
                .list_permission_levels(&session.ctx, d.item.work_app_id, PageRequest::first())
                .await?
                .items;
            slot.insert(found);
        }
    }
    Ok(levels)
}

/// The people and app an item is about, in one line.
fn subject(d: &ReviewItemDetail) -> Markup {
    html! {
        strong { (d.user.name) } " (" (d.user.email) ") — " (d.app_name)
        @if let Some(level) = &d.level_name { " at " em { (level) } }
    }
}

/// The decision select of an item: keep, revoke, or one of its app's other levels.
fn decision_select(d: &ReviewItemDetail, levels: &[PermissionLevel]) -> Markup {
    let id = format!("decision-{}", d.item.id);
    let current = d.item.decision;
    html! {
        label for=(id) { "Decision" }
        select id=(id) name="decision" required {
            option value="Keep" selected[current == Some(ReviewDecision::Keep)] { "Keep" }
            option value="Revoke" selected[current == Some(ReviewDecision::Revoke)] { "Revoke" }
            @for l in levels.iter().filter(|l| Some(l.id) != d.item.permission_level_id) {
                option value=(format!("level:{}", l.id))
                    selected[current == Some(ReviewDecision::ChangeLevel) && d.item.decision_level_id == Some(l.id)] {
                    "Change level to " (l.name)
                }
            }
        }
    }
}

/// `GET /reviews`: the caller's queue in every running campaign.
pub async fn queue(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    let me = session.user.id;
    let campaigns: Vec<AccessReviewDetails> = state
        .service
        .list_access_reviews(&session.ctx, None, PageRequest::first())
        .await?
        .items
        .into_iter()
        .filter(is_running)
        .collect();
    let mut sections = Vec::new();
    for c in campaigns {
        let mine = |decision| ReviewItemFilter {
            reviewer_id: Some(me),
            decision: Some(decision),
            ..ReviewItemFilter::default()
        };
        let todo = state
            .service
            .list_access_review_items(
                &session.ctx,
                c.review.id,
                mine(DecisionFilter::Undecided),
                PageRequest::first(),
            )
            .await?;
        let done = state
            .service
            .list_access_review_items(
                &session.ctx,
                c.review.id,
                mine(DecisionFilter::Decided),
                PageRequest::first(),
            )
            .await?
            .items;
        if todo.items.is_empty() && done.is_empty() {
            continue;
        }
        let mut all = todo.items.clone();
        all.extend(done.iter().cloned());
        let levels = levels_of(&state, &session, &all).await?;
        sections.push((c, todo, done, levels));
    }
    Ok(page(
        "Reviews",
        Some(&session),
        html! {
            h1 { "Reviews" }
            p.hint { "Certify the accesses you review: keep what is still needed, revoke what is not, or move it to another level. Decisions can be changed until the campaign closes; nobody reviews their own access." }
            @if sections.is_empty() { p { "No access review waits for you." } }
            @for (c, todo, done, levels) in &sections {
                section.card aria-labelledby=(format!("review-{}", c.review.id)) {
                    h2 id=(format!("review-{}", c.review.id)) { (c.review.name) }
                    p { (status_badge(c)) " · due " (when(c.review.due_date)) " · " (progress_line(c)) }
                    @if let Some(d) = &c.review.description { p.muted { (d) } }
                    @if todo.items.is_empty() { p.ok { "You have decided every item." } }
                    @else {
                        h3 { "To decide" }
                        table {
                            caption.muted { "Tick items to keep them all at once, or decide each one." }
                            thead { tr { th scope="col" { "Keep?" } th scope="col" { "Access" } th scope="col" { "Since" } th scope="col" { "Decision" } } }
                            tbody {
                                @for d in &todo.items {
                                    tr {
                                        td {
                                            input type="checkbox" name="item" value=(d.item.id)
                                                form=(format!("keep-{}", c.review.id))
                                                aria-label=(format!("Keep {}'s access to {}", d.user.name, d.app_name));
                                        }
                                        td { (subject(d)) div.muted { "Source: " (d.item.source.name()) } }
                                        td { (when(d.item.granted_at)) }
                                        td { (decision_form(&session, c, d, levels.get(&d.item.work_app_id).map(Vec::as_slice).unwrap_or_default())) }
                                    }
                                }
                            }
                        }
                        form id=(format!("keep-{}", c.review.id)) method="post" action=(format!("/reviews/{}/keep", c.review.id)) {
                            input type="hidden" name="csrf" value=(session.csrf);
                            button type="submit" { "Keep the ticked accesses" }
                        }
                        @if todo.next_after.is_some() { p.muted { "More items follow once you have decided these." } }
                    }
                    @if !done.is_empty() {
                        h3 { "Decided (you can still change these)" }
                        table {
                            thead { tr { th scope="col" { "Access" } th scope="col" { "Decision" } th scope="col" { "Change" } } }
                            tbody {
                                @for d in done {
                                    tr {
                                        td { (subject(d)) }
                                        td {
                                            (d.item.decision.map(|x| x.name()).unwrap_or_default())
                                            @if let Some(l) = &d.decision_level_name { " → " (l) }
                                            @if let Some(comment) = &d.item.comment { div.muted { "“" (comment) "”" } }
                                        }
                                        td { (decision_form(&session, c, d, levels.get(&d.item.work_app_id).map(Vec::as_slice).unwrap_or_default())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn decision_form(
    session: &Session,
    c: &AccessReviewDetails,
    d: &ReviewItemDetail,
    levels: &[PermissionLevel],
) -> Markup {
    html! {
        form method="post" action=(format!("/reviews/{}/items/{}", c.review.id, d.item.id)) {
            input type="hidden" name="csrf" value=(session.csrf);
            (decision_select(d, levels))
            label for=(format!("comment-{}", d.item.id)) { "Comment (optional)" }
            input id=(format!("comment-{}", d.item.id)) name="comment" type="text" maxlength="2000"
                value=(d.item.comment.clone().unwrap_or_default());
            button type="submit" { "Save decision" }
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    decision: String,
    comment: Option<String>,
}

/// `Keep`, `Revoke` or `level:<id>` (change level).
fn parse_decision(value: &str, comment: Option<String>) -> Result<ItemDecision, ConsoleError> {
    let comment = comment.filter(|c| !c.trim().is_empty());
    let (decision, level) = match value.strip_prefix("level:") {
        Some(level) => (
            ReviewDecision::ChangeLevel,
            Some(
                Uuid::parse_str(level)
                    .map_err(|_| ConsoleError::new(400, "Unknown permission level."))?,
            ),
        ),
        None => (
            ReviewDecision::parse(value)
                .map_err(|_| ConsoleError::new(400, "Choose keep, revoke or a level."))?,
            None,
        ),
    };
    Ok(ItemDecision { decision, permission_level_id: level, comment })
}

/// `POST /reviews/{review}/items/{item}`: one decision.
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path((review_id, item_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    let decision = parse_decision(&form.decision, form.comment)?;
    state
        .service
        .decide_access_review_item(&session.ctx, review_id, item_id, decision, None)
        .await?;
    Ok(Redirect::to(&format!("/reviews#review-{review_id}")).into_response())
}

/// `POST /reviews/{review}/keep`: keeps every ticked item (`item`, repeated) at once.
pub async fn keep_many(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    session.check_csrf(csrf.unwrap_or_default())?;
    let mut decisions = Vec::new();
    for (_, value) in fields.iter().filter(|(k, _)| k == "item") {
        let id = Uuid::parse_str(value).map_err(|_| ConsoleError::new(400, "Unknown item."))?;
        let keep = ItemDecision {
            decision: ReviewDecision::Keep,
            permission_level_id: None,
            comment: None,
        };
        decisions.push((id, keep));
    }
    if decisions.is_empty() {
        return Err(ConsoleError::new(400, "Tick the accesses to keep first."));
    }
    if decisions.len() > portcullis_domain::access_reviews::MAX_BULK_DECISIONS {
        return Err(ConsoleError::new(400, "Keep at most 1,000 accesses at once."));
    }
    state.service.decide_access_review_items(&session.ctx, review_id, decisions, None).await?;
    Ok(Redirect::to(&format!("/reviews#review-{review_id}")).into_response())
}

/// `GET /admin/reviews`: every campaign, and a form to start one.
pub async fn campaigns(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let campaigns =
        state.service.list_access_reviews(&session.ctx, None, PageRequest::first()).await?.items;
    let apps = state.service.list_work_apps(&session.ctx, PageRequest::first()).await?.items;
    let tomorrow = (state.service.clock().now() + chrono::Duration::days(14)).date_naive();
    Ok(page(
        "Access reviews",
        Some(&session),
        html! {
            h1 { "Access reviews" }
            @if campaigns.is_empty() { p { "No campaign yet." } }
            @else {
                table {
                    thead { tr { th scope="col" { "Campaign" } th scope="col" { "Reviewers" } th scope="col" { "Status" } th scope="col" { "Due" } th scope="col" { "Progress" } } }
                    tbody { @for c in campaigns.iter().rev() { tr {
                        td { a href=(format!("/admin/reviews/{}", c.review.id)) { (c.review.name) } }
                        td { (c.review.review_type.name()) }
                        td { (status_badge(c)) }
                        td { (when(c.review.due_date)) }
                        td { (progress_line(c)) }
                    } } }
                }
            }
            section.card aria-labelledby="start" {
                h2 id="start" { "Start a campaign" }
                form method="post" action="/admin/reviews" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="name" { "Name" }
                    input id="name" name="name" type="text" required maxlength="200";
                    label for="type" { "Reviewers" }
                    select id="type" name="access_review_type" {
                        option value="WorkAppOwner" { "The app's owners" }
                        option value="Manager" { "Each user's manager" }
                        option value="CurrentUser" { "Me" }
                    }
                    label for="due" { "Due date" }
                    input id="due" name="due_date" type="date" required value=(tomorrow.to_string());
                    fieldset {
                        legend { "Apps (none ticked: every managed app)" }
                        @for d in &apps {
                            label { input type="checkbox" name="work_app_id" value=(d.app.id); " " (d.app.name) }
                        }
                    }
                    button type="submit" { "Start the campaign" }
                }
            }
        },
    ))
}

/// `POST /admin/reviews`: starts a campaign with the signed-in administrator as its creator.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    session.check_csrf(field("csrf").unwrap_or_default())?;
    require_admin(&session)?;
    let review_type = AccessReviewType::parse(field("access_review_type").unwrap_or_default())
        .map_err(|e| ConsoleError::new(400, e.to_string()))?;
    let due = NaiveDate::parse_from_str(field("due_date").unwrap_or_default(), "%Y-%m-%d")
        .map_err(|_| ConsoleError::new(400, "Give the due date as a date."))?;
    // Due at the end of that day (UTC).
    let due_date = due.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc();
    let mut work_app_ids = Vec::new();
    for (_, value) in fields.iter().filter(|(k, _)| k == "work_app_id") {
        work_app_ids
            .push(Uuid::parse_str(value).map_err(|_| ConsoleError::new(400, "Unknown app."))?);
    }
    let new = NewAccessReview {
        name: field("name").unwrap_or_default().to_string(),
        description: None,
        review_type,
        due_date,
        work_app_ids,
        created_by_user_id: session.user.id,
    };
    let created = state.service.create_access_review(&session.ctx, new).await?;
    Ok(Redirect::to(&format!("/admin/reviews/{}", created.review.id)).into_response())
}

#[derive(Deserialize)]
pub struct ItemsQuery {
    decision: Option<String>,
}

/// `GET /admin/reviews/{id}`: one campaign: progress, outcomes, items, close, cancel, export.
pub async fn campaign(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
    Query(query): Query<ItemsQuery>,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let c = state.service.get_access_review(&session.ctx, review_id).await?;
    let decision = match query.decision.as_deref().unwrap_or_default() {
        "" => None,
        "Undecided" => Some(DecisionFilter::Undecided),
        other => Some(DecisionFilter::Is(
            ReviewDecision::parse(other).map_err(|e| ConsoleError::new(400, e.to_string()))?,
        )),
    };
    let filter = ReviewItemFilter { decision, ..ReviewItemFilter::default() };
    let items = state
        .service
        .list_access_review_items(&session.ctx, review_id, filter, PageRequest::first())
        .await?;
    let running = is_running(&c);
    let p = &c.progress;
    Ok(page(
        "Access reviews",
        Some(&session),
        html! {
            h1 { "Access review: " (c.review.name) }
            @if let Some(d) = &c.review.description { p { (d) } }
            p {
                (status_badge(&c)) " · reviewers: " (c.review.review_type.name())
                " · due " (when(c.review.due_date))
                " · undecided items are " strong { (undecided_word(&c)) } " at closing"
                @if c.review.close_at_due_date { " · closes itself at the due date" }
            }
            @if c.reminders_due { p.error { "Overdue: reminders are due to the reviewers with undecided items." } }
            h2 { "Progress" }
            table {
                caption.muted { "Items of the campaign" }
                thead { tr { th scope="col" { "Items" } th scope="col" { "Decided" } th scope="col" { "Undecided" } th scope="col" { "Keep" } th scope="col" { "Revoke" } th scope="col" { "Change level" } th scope="col" { "Without reviewer" } } }
                tbody { tr {
                    td { (p.items) } td { (p.decided) } td { (p.undecided()) } td { (p.keep) } td { (p.revoke) } td { (p.change_level) } td { (p.unassigned) }
                } }
            }
            @if !p.outcomes.is_empty() {
                h2 { "Carried out" }
                ul { @for (outcome, n) in &p.outcomes { li { (outcome.name()) ": " (n) } } }
            }
            p {
                a href=(format!("/admin/reviews/{review_id}/export.csv")) { "Export the evidence (CSV)" }
                " · "
                a href=(format!("/admin/reviews/{review_id}/export.json")) { "Export (JSON)" }
            }
            @if running {
                form.inline method="post" action=(format!("/admin/reviews/{review_id}/close")) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { "Close and carry out the decisions" }
                }
                " "
                form.inline method="post" action=(format!("/admin/reviews/{review_id}/cancel")) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button.danger type="submit" { "Cancel the campaign" }
                }
            }
            h2 { "Items" }
            form.filters method="get" action=(format!("/admin/reviews/{review_id}")) {
                div {
                    label for="decision" { "Decision" }
                    select id="decision" name="decision" {
                        option value="" { "Any" }
                        @for d in ["Undecided", "Keep", "Revoke", "ChangeLevel"] {
                            option value=(d) selected[query.decision.as_deref() == Some(d)] { (d) }
                        }
                    }
                }
                button.secondary type="submit" { "Filter" }
            }
            table {
                thead { tr { th scope="col" { "Access" } th scope="col" { "Reviewers" } th scope="col" { "Decision" } th scope="col" { "Decided" } th scope="col" { "Outcome" } } }
                tbody { @for d in &items.items { tr {
                    td { (subject(d)) }
                    td {
                        @for r in &d.reviewers { div { (r.name) } }
                        @if let Some(why) = &d.item.unassigned_reason { div.error { (why) } }
                    }
                    td {
                        (d.item.decision.map(|x| x.name()).unwrap_or("—"))
                        @if let Some(l) = &d.decision_level_name { " → " (l) }
                        @if let Some(comment) = &d.item.comment { div.muted { "“" (comment) "”" } }
                    }
                    td { (d.item.decided_at.map(when).unwrap_or_default()) }
                    td {
                        (d.item.outcome.map(|o| o.name()).unwrap_or("—"))
                        @if let Some(note) = &d.item.outcome_note { div.muted { (note) } }
                        @if let Some(request) = d.item.outcome_request_id { div.muted { "request " (request) } }
                    }
                } } }
            }
            @if items.next_after.is_some() { p.muted { "The first 100 items are shown; the export has them all." } }
        },
    ))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /admin/reviews/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    end(state, session, review_id, form, AccessReviewStatus::Closed).await
}

/// `POST /admin/reviews/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    end(state, session, review_id, form, AccessReviewStatus::Cancelled).await
}

/// Closes or cancels a campaign, then shows it.
async fn end(
    state: AppState,
    session: Session,
    review_id: Uuid,
    form: CsrfForm,
    to: AccessReviewStatus,
) -> Result<Response, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    match to {
        AccessReviewStatus::Cancelled => {
            state.service.cancel_access_review(&session.ctx, review_id).await?
        }
        _ => state.service.close_access_review(&session.ctx, review_id).await?,
    };
    Ok(Redirect::to(&format!("/admin/reviews/{review_id}")).into_response())
}

/// `GET /admin/reviews/{id}/export.csv`: the evidence as a CSV download.
pub async fn export_csv(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
) -> Result<Response, ConsoleError> {
    export(state, session, review_id, "csv").await
}

/// `GET /admin/reviews/{id}/export.json`: the evidence as a JSON download.
pub async fn export_json(
    State(state): State<AppState>,
    session: Session,
    Path(review_id): Path<Uuid>,
) -> Result<Response, ConsoleError> {
    export(state, session, review_id, "json").await
}

async fn export(
    state: AppState,
    session: Session,
    review_id: Uuid,
    ext: &str,
) -> Result<Response, ConsoleError> {
    require_admin(&session)?;
    let (details, items) = state.service.export_access_review(&session.ctx, review_id).await?;
    let (content_type, body) = if ext == "csv" {
        ("text/csv; charset=utf-8", csv_export(&items))
    } else {
        let export = json_export(details, items, state.service.clock().now());
        let json = serde_json::to_string_pretty(&export)
            .map_err(|_| ConsoleError::new(500, "Something went wrong on our side."))?;
        ("application/json", json)
    };
    let disposition = format!("attachment; filename=\"access-review-{review_id}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
