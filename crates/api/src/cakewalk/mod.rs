//! The Cakewalk-compatible API under `/api/v1`: X-API-KEY + X-API-SECRET, ProblemDetails errors,
//! `{data, links}` envelopes and opaque cursors.

pub mod access_reviews;
mod credentials;
pub(crate) mod custom_fields;
mod groups;
mod notifications;
mod organization_settings;
mod policies;
pub(crate) mod requests;
mod scim_tokens;
mod single_sign_on;
pub(crate) mod users;
mod webhooks;
pub(crate) mod work_apps;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis_domain::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::routes())
        .merge(access_reviews::routes())
        .merge(credentials::routes())
        .merge(work_apps::routes())
        .merge(custom_fields::routes())
        .merge(policies::routes())
        .merge(requests::routes())
        .merge(groups::routes())
        .merge(organization_settings::routes())
        .merge(single_sign_on::routes())
        .merge(notifications::routes())
        .merge(webhooks::routes())
        .merge(scim_tokens::routes())
}

/// `LinksViewModel`: the current resource or page, and the next page if there is one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One object: `{ "data": {...}, "links": {...} }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Record<T> {
    pub data: T,
    pub links: Links,
}

impl<T> Record<T> {
    pub fn new(data: T, self_link: String) -> Self {
        Self { data, links: Links { self_link, next: None } }
    }
}

/// A page: `{ "data": [...], "links": { "self", "next"? } }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub links: Links,
}

/// The `cursor` query parameter of every list endpoint (`page[cursor]` is accepted as the same
/// parameter, see [`crate::extract::ApiQuery`]). A list endpoint with filters declares its own
/// query struct with `cursor` among its fields; every query struct is read with `ApiQuery`,
/// which refuses names the struct does not have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CursorQuery {
    /// Opaque cursor from a previous page's `links.next`; omit for the first page.
    pub cursor: Option<String>,
}

/// The query of a list that is never paginated and has no filters: it accepts no parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

const CURSOR_PREFIX: &str = "after=";

impl CursorQuery {
    /// Decodes the cursor into a keyset position.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let Some(cursor) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(PageRequest::first());
        };
        let invalid =
            || ApiError::bad_request("The cursor is not valid; follow links.next verbatim.");
        let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let id = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        Ok(PageRequest::after(Some(Uuid::parse_str(id).map_err(|_| invalid())?)))
    }
}

/// A list's path with its active filters as a query string (for `links.self`/`links.next`).
pub fn path_with_filters(base: &str, filters: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = filters
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
        .collect();
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

fn encode_cursor(after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{after}"))
}

impl<T> List<T> {
    /// Wraps a page; `path` is the list's path (with its filters), `query` the cursor used.
    pub fn from_page<U>(
        page: Page<U>,
        path: &str,
        query: &CursorQuery,
        view: impl FnMut(U) -> T,
    ) -> Self {
        // `path` may already carry filters (`?status=…`): the cursor joins them.
        let sep = if path.contains('?') { '&' } else { '?' };
        let self_link = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => format!("{path}{sep}cursor={cursor}"),
            None => path.to_string(),
        };
        let next =
            page.next_after.map(|after| format!("{path}{sep}cursor={}", encode_cursor(after)));
        List { data: page.items.into_iter().map(view).collect(), links: Links { self_link, next } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        let q = CursorQuery { cursor: Some(encode_cursor(id)) };
        assert_eq!(q.page().ok().and_then(|p| p.after), Some(id));
        for bad in ["!!!", "aGVsbG8=", "YWZ0ZXI9bm90LWEtdXVpZA=="] {
            assert!(CursorQuery { cursor: Some(bad.into()) }.page().is_err(), "{bad}");
        }
        assert_eq!(CursorQuery { cursor: None }.page().ok(), Some(PageRequest::first()));
    }
}
