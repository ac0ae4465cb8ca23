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
//! AI assistants (MCP clients) connect through OAuth: `oauth.rs` is the authorization endpoint's
//! consent page and the lists of connected assistants (the protocol endpoints are the API's).
//!
//! Sign-in: single sign-on through the identity provider (OpenID Connect, `sso.rs`), or a
//! personal token for break-glass access and automation.
//!
//! Sessions: the sign-in page exchanges a personal token (or the provider's ID token) for a server-side session (the cookie
//! holds a random id; Secure, HttpOnly, SameSite=Strict) with idle and absolute lifetimes; every
//! request checks the session, its token and its user, so signing out, revoking the token or
//! deleting the user ends it at once. Console traffic is rate-limited per client address,
//! sign-in attempts more strictly.

mod admin;
mod employee;
mod layout;
mod notifications;
mod oauth;
mod reviews;
mod session;
mod setup;
mod sso;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use portcullis_api::{AppState, Bucket, ClientAddr};

pub use session::{LOGIN_COOKIE, SESSION_COOKIE};
pub use setup::{new_setup_code, Setup};

/// Middleware: the console's rate limits per client address (sign-in attempts have their own,
/// stricter one); over it, a 429 page with `Retry-After`.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let signing_in = (request.method() == Method::POST && path == "/login")
        || (path.starts_with("/login/oidc") && path != "/login/oidc/callback");
    let (bucket, limit) = if signing_in {
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

/// The console's routes, to be merged into the application router built on `state`, without a
/// setup code (the first-run page cannot create an organization).
pub fn routes(state: &AppState) -> Router<AppState> {
    routes_with_setup(state, Setup::default())
}

/// The console's routes with the first-run page's setup (`portcullis serve` makes one with a
/// code when it starts on a database without an organization).
pub fn routes_with_setup(state: &AppState, setup: Setup) -> Router<AppState> {
    Router::new()
        .route("/setup", get(setup::form).post(setup::create))
        .route("/", get(employee::my_apps))
        .route("/login", get(session::login_page).post(session::login))
        .route("/login/oidc", get(sso::start_server))
        .route("/login/oidc/callback", get(sso::callback))
        .route("/login/oidc/{org_id}", get(sso::start_organization))
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
        .route("/admin/users", get(admin::users::list).post(admin::users::create))
        .route("/admin/users/{user_id}", get(admin::users::show).post(admin::users::update))
        .route("/admin/users/{user_id}/deactivate", post(admin::users::deactivate))
        .route("/admin/users/{user_id}/reactivate", post(admin::users::reactivate))
        .route("/admin/users/{user_id}/tokens", post(admin::users::create_token))
        .route("/admin/users/{user_id}/tokens/{token_id}/revoke", post(admin::users::revoke_token))
        .route("/admin/groups", get(admin::groups::list).post(admin::groups::create))
        .route("/admin/groups/{group_id}", get(admin::groups::show).post(admin::groups::update))
        .route("/admin/groups/{group_id}/delete", post(admin::groups::delete))
        .route("/admin/groups/{group_id}/members", post(admin::groups::add_member))
        .route("/admin/groups/{group_id}/members/remove", post(admin::groups::remove_member))
        .route("/admin/groups/{group_id}/defaults", post(admin::groups::add_default))
        .route("/admin/groups/{group_id}/defaults/remove", post(admin::groups::remove_default))
        .route("/admin/groups/{group_id}/hidden", post(admin::groups::add_hidden))
        .route("/admin/groups/{group_id}/hidden/remove", post(admin::groups::remove_hidden))
        .route("/admin/apps", get(admin::apps::list).post(admin::apps::create))
        .route("/admin/apps/{app_id}", get(admin::apps::show).post(admin::apps::update))
        .route("/admin/apps/{app_id}/levels", post(admin::apps::add_level))
        .route(
            "/admin/apps/{app_id}/levels/{level_id}/policies",
            post(admin::apps::set_level_policy),
        )
        .route("/admin/apps/{app_id}/policies", post(admin::apps::set_policy))
        .route("/admin/apps/{app_id}/fields", post(admin::apps::set_fields))
        .route("/admin/policies", get(admin::policies::list).post(admin::policies::create))
        .route(
            "/admin/policies/{policy_id}",
            get(admin::policies::show).post(admin::policies::update),
        )
        .route("/admin/credentials", get(admin::credentials::list).post(admin::credentials::create))
        .route("/admin/credentials/{id}/revoke", post(admin::credentials::revoke))
        .route("/admin/scim", get(admin::scim::list).post(admin::scim::create))
        .route("/admin/scim/{id}/revoke", post(admin::scim::revoke))
        .route("/admin/workspaces", get(admin::workspaces))
        .route("/admin/webhooks", get(admin::webhooks::list).post(admin::webhooks::create))
        .route("/admin/webhooks/{webhook_id}", get(admin::webhooks::deliveries))
        .route("/admin/webhooks/{webhook_id}/delete", post(admin::webhooks::delete))
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
        .route("/oauth/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/settings/assistants", get(oauth::mine))
        .route("/settings/assistants/{grant_id}/revoke", post(oauth::revoke_mine))
        .route("/admin/assistants", get(oauth::everyone))
        .route("/admin/assistants/{grant_id}/revoke", post(oauth::revoke_anyones))
        .route("/assets/console.css", get(layout::stylesheet))
        .layer(axum::middleware::from_fn_with_state(state.clone(), setup::first_run))
        .layer(axum::Extension(setup))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit))
}
