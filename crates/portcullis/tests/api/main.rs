//! Black-box tests of the HTTP API: each test starts a real server on a random port with a fresh
//! database and talks HTTP to it.

mod common;
#[path = "../support/tools.rs"]
mod tools;

mod access_reviews;
mod auth;
mod cakewalk_current;
mod console;
mod console_admin;
mod custom_fields;
mod errors;
mod flashback_org;
mod governance;
mod groups;
mod input;
mod isolation;
mod jml;
mod limits;
mod mcp;
mod notifications;
mod oauth;
mod openapi;
mod ops;
mod scim;
mod separation_of_duties;
mod sso;
mod users;
mod webhooks;
mod webhooks_security;
mod work_apps;
mod workspaces;
