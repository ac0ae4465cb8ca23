//! Case-insensitive routing: `/API/V1/USERS` and `/api/v1/Users` reach `/api/v1/users`.
//!
//! The Cakewalk API is served by ASP.NET, whose routes match case-insensitively, and clients rely
//! on that (its docs spell `/users` and `/Users` both). A request path is compared with every
//! documented route template of the same length, static segments case-insensitively; when one
//! matches (the one with most static segments wins), its static segments' canonical spelling is
//! put back before routing. Ids pass through untouched.
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
        let segments: Vec<&str> = path.split('/').collect();
        let best = self
            .templates
            .iter()
            .filter(|t| t.len() == segments.len())
            .filter(|t| {
                t.iter()
                    .zip(&segments)
                    .all(|(tpl, seg)| tpl.as_ref().is_none_or(|s| s.eq_ignore_ascii_case(seg)))
            })
            .max_by_key(|t| t.iter().filter(|s| s.is_some()).count())?;
        let canonical: Vec<&str> =
            best.iter().zip(&segments).map(|(tpl, seg)| tpl.as_deref().unwrap_or(seg)).collect();
        let canonical = canonical.join("/");
        (canonical != path).then_some(canonical)
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
