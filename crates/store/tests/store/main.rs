//! The store test suite: every operation of every repository trait, run against a real
//! database — always a fresh SQLite file, and a fresh PostgreSQL schema too when
//! `PORTCULLIS_TEST_DATABASE_URL` is set (`export PORTCULLIS_TEST_DATABASE_URL=$(bash .ci/postgres.sh)`).
//!
//! Each case is written once, as `async fn case(db: &TestDb)`, and [`on_every_backend!`] turns
//! it into one test that runs it on each backend in turn. Timestamps are fixed (see
//! [`common::t0`]); nothing reads the clock or sleeps.

#[macro_use]
mod common;

mod access_reviews;
mod accesses;
mod audit;
mod basics;
mod console_search;
mod console_sessions;
mod coverage;
mod credentials;
mod custom_fields;
mod groups;
mod migrations;
mod notifications;
mod oauth;
mod policies;
mod requests;
mod scim;
mod users;
mod webhooks;
mod work_apps;
mod workspaces;
