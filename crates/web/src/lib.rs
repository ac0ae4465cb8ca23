//! The web console, served by the same binary: server-rendered HTML (maud), plain forms that work
//! without JavaScript, every form CSRF-protected.
//!
//! - employees: sign in with a personal token, "My apps", the catalogue (minus their groups'
//!   hidden apps), request access, follow their requests;
//! - approvers: an inbox of their open tasks, approve/decline with a comment;
//! - administrators: users, groups, apps, workspaces, webhooks with deliveries, the audit log.
//!
//! Sessions: the sign-in page exchanges the token for a cookie holding the token sealed with the
//! master key (Secure, HttpOnly, SameSite=Strict); every request re-authenticates it, so revoking
//! the token or deactivating the user ends the session at once.

mod admin;
mod employee;
mod layout;
mod session;

use axum::routing::{get, post};
use axum::Router;
use portcullis_api::AppState;

pub use session::SESSION_COOKIE;

/// The console's routes, to be merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(employee::my_apps))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/catalogue", get(employee::catalogue))
        .route("/catalogue/request", post(employee::request_access))
        .route("/my-requests", get(employee::my_requests))
        .route("/inbox", get(employee::inbox))
        .route("/inbox/{task_id}/decide", post(employee::decide))
        .route("/admin/users", get(admin::users))
        .route("/admin/groups", get(admin::groups))
        .route("/admin/groups/{group_id}", get(admin::group))
        .route("/admin/apps", get(admin::apps))
        .route("/admin/apps/{app_id}", get(admin::app))
        .route("/admin/workspaces", get(admin::workspaces))
        .route("/admin/webhooks", get(admin::webhooks))
        .route("/admin/webhooks/{webhook_id}", get(admin::webhook))
        .route("/admin/audit", get(admin::audit))
        .route("/assets/console.css", get(layout::stylesheet))
}
