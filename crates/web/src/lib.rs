//! The web console, served by the same binary: server-rendered HTML (maud), plain forms that work
//! without JavaScript, every form CSRF-protected.
//!
//! - employees: sign in with a personal token, "My apps", the catalogue (minus their groups'
//!   hidden apps), request access, follow their requests;
//! - approvers: an inbox of their open tasks, approve/decline with a comment;
//! - reviewers: "Reviews", their queue in every running access review (keep / revoke / change
//!   level, keep many at once, a comment);
//! - administrators: users, groups, apps, workspaces, webhooks with deliveries, the audit log, and
//!   access reviews (start one; per campaign its progress, items, close, cancel and the export),
//!   and the settings (approvals, joiner / mover / leaver automation).
//!
//! Sessions: the sign-in page exchanges a personal token for a server-side session (the cookie
//! holds a random id; Secure, HttpOnly, SameSite=Strict) with idle and absolute lifetimes; every
//! request checks the session, its token and its user, so signing out, revoking the token or
//! deleting the user ends it at once. Console traffic is rate-limited per client address,
//! sign-in attempts more strictly.

mod admin;
mod employee;
mod layout;
mod notifications;
mod reviews;
mod session;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use portcullis_api::{AppState, Bucket, ClientAddr};

pub use session::{LOGIN_COOKIE, SESSION_COOKIE};

/// Middleware: the console's rate limits per client address (sign-in attempts have their own,
/// stricter one); over it, a 429 page with `Retry-After`.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (bucket, limit) = if request.method() == Method::POST && request.uri().path() == "/login" {
        (Bucket::SignIn, state.http.sign_ins_per_minute)
    } else {
        (Bucket::Console, state.http.console_per_minute)
    };
    if limit > 0 {
        let who = request.extensions().get::<ClientAddr>().map(ClientAddr::key).unwrap_or_default();
        if let Err(retry_after) = state.rate_limiter.hit(bucket, &who, limit) {
            return layout::ConsoleError::too_many_requests(retry_after).into_response();
        }
    }
    next.run(request).await
}

/// The console's routes, to be merged into the application router built on `state`.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(employee::my_apps))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/catalogue", get(employee::catalogue))
        .route("/catalogue/request", post(employee::request_access))
        .route("/my-requests", get(employee::my_requests))
        .route("/inbox", get(employee::inbox))
        .route("/inbox/{task_id}/decide", post(employee::decide))
        .route("/reviews", get(reviews::queue))
        .route("/reviews/{review_id}/items/{item_id}", post(reviews::decide))
        .route("/reviews/{review_id}/keep", post(reviews::keep_many))
        .route("/admin/reviews", get(reviews::campaigns).post(reviews::start))
        .route("/admin/reviews/{review_id}", get(reviews::campaign))
        .route("/admin/reviews/{review_id}/close", post(reviews::close))
        .route("/admin/reviews/{review_id}/cancel", post(reviews::cancel))
        .route("/admin/reviews/{review_id}/export.csv", get(reviews::export_csv))
        .route("/admin/reviews/{review_id}/export.json", get(reviews::export_json))
        .route("/admin/users", get(admin::users))
        .route("/admin/groups", get(admin::groups))
        .route("/admin/groups/{group_id}", get(admin::group))
        .route("/admin/apps", get(admin::apps))
        .route("/admin/apps/{app_id}", get(admin::app))
        .route("/admin/workspaces", get(admin::workspaces))
        .route("/admin/webhooks", get(admin::webhooks))
        .route("/admin/webhooks/{webhook_id}", get(admin::webhook))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/settings", get(admin::settings).post(admin::save_settings))
        .route(
            "/settings/notifications",
            get(notifications::my_preferences).post(notifications::save_my_preferences),
        )
        .route(
            "/admin/notifications",
            get(notifications::organization).post(notifications::save_organization),
        )
        .route("/assets/console.css", get(layout::stylesheet))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit))
}
