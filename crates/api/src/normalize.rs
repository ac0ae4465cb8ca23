//! Case-insensitive routing: `/API/V1/USERS` and `/api/v1/Users` reach `/api/v1/users`, and a
//! trailing slash is tolerated: `/api/v1/UsersGroups/` reaches `/api/v1/UsersGroups`.
//!
//! The Cakewalk API is served by ASP.NET, whose routes match case-insensitively and with or
//! without a trailing slash, and clients rely on that (its docs spell `/users` and `/Users` both,
//! and title one endpoint `GET /UsersGroups/`). A request path, less one trailing slash, is
//! compared with every documented route template of the same length, static segments
//! case-insensitively; when one matches (the one with most static segments wins), its static
//! segments' canonical spelling is put back before routing. Ids pass through untouched. Paths
//! that match no documented route (the web console's) are left exactly as they came.
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, Uri};
use axum::response::Response;
use axum::Router;

/// A route template: `Some(spelling)` for a static segment, `None` for a parameter.
type Template = Vec<Option<String>>;

/// The router behind path normalisation: what `serve` runs.
#[derive(Clone)]
pub struct NormalizedApp {
    router: Router,
    templates: Arc<Vec<Template>>,
    http: crate::HttpConfig,
}

impl NormalizedApp {
    /// The HTTP settings the app was built with (the server loop needs its timeouts).
    pub fn http_config(&self) -> &crate::HttpConfig {
        &self.http
    }

    pub fn new(router: Router, api: &utoipa::openapi::OpenApi, http: crate::HttpConfig) -> Self {
        let templates = api
            .paths
            .paths
            .keys()
            .map(|path| {
                path.split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                    .collect::<Template>()
            })
            .collect();
        Self { router, templates: Arc::new(templates), http }
    }

    /// The canonical spelling of `path`, if it differs from `path`.
    fn normalize(&self, path: &str) -> Option<String> {
        let trimmed = match path.strip_suffix('/') {
            Some(rest) if !rest.is_empty() => rest,
            _ => path,
        };
        let segments: Vec<&str> = trimmed.split('/').collect();
        let best = self.best_template(&segments)?;
        // Most requests are spelled canonically already: no new path to build.
        let spelled_right = trimmed.len() == path.len()
            && best
                .iter()
                .zip(&segments)
                .all(|(tpl, seg)| tpl.as_deref().is_none_or(|t| t == *seg));
        if spelled_right {
            return None;
        }
        let canonical: Vec<&str> =
            best.iter().zip(&segments).map(|(tpl, seg)| tpl.as_deref().unwrap_or(seg)).collect();
        Some(canonical.join("/")).filter(|canonical| canonical != path)
    }

    /// The documented route `segments` match, if any: static segments compare
    /// case-insensitively, and the template with most static segments wins.
    fn best_template(&self, segments: &[&str]) -> Option<&Template> {
        self.templates
            .iter()
            .filter(|t| t.len() == segments.len())
            .filter(|t| {
                t.iter().zip(segments).all(|(tpl, seg)| match tpl {
                    Some(s) => s.eq_ignore_ascii_case(seg),
                    // A parameter is never empty (`/UsersGroups//` is not a group's path).
                    None => !seg.is_empty(),
                })
            })
            .max_by_key(|t| t.iter().filter(|s| s.is_some()).count())
    }
}

impl tower::Service<Request<Body>> for NormalizedApp {
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as tower::Service<Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::<Request<Body>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if let Some(path) = self.normalize(request.uri().path()) {
            let path_and_query = match request.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            let mut parts = request.uri().clone().into_parts();
            if let Ok(pq) = path_and_query.parse() {
                parts.path_and_query = Some(pq);
                if let Ok(uri) = Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        self.router.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> NormalizedApp {
        let api = utoipa::openapi::OpenApiBuilder::new()
            .paths(
                utoipa::openapi::PathsBuilder::new()
                    .path("/api/v1/UsersGroups", Default::default())
                    .path("/api/v1/UsersGroups/{usersGroupId}", Default::default())
                    .path("/api/v1/UsersGroups/{usersGroupId}/Users", Default::default())
                    .path("/workspace/{id}", Default::default()),
            )
            .build();
        NormalizedApp::new(Router::new(), &api, crate::HttpConfig::default())
    }

    #[test]
    fn case_and_one_trailing_slash_are_normalised_on_documented_routes_only() {
        let app = app();
        let id = "0190a3c4-0000-7000-8000-000000000001";
        let cases = [
            ("/api/v1/UsersGroups", None),
            ("/api/v1/UsersGroups/", Some("/api/v1/UsersGroups".to_string())),
            ("/API/V1/usersgroups/", Some("/api/v1/UsersGroups".to_string())),
            (
                &*format!("/api/v1/usersgroups/{id}/users/"),
                Some(format!("/api/v1/UsersGroups/{id}/Users")),
            ),
            (&*format!("/workspace/{id}/"), Some(format!("/workspace/{id}"))),
            // Not documented routes: untouched.
            ("/", None),
            ("/admin/users/", None),
            ("/api/v1/UsersGroups//", None),
        ];
        for (path, expected) in cases {
            assert_eq!(app.normalize(path), expected, "{path}");
        }
    }
}
