//! Case-insensitive routing: `/API/V1/USERS` and `/api/v1/Users` reach `/api/v1/users`.
//!
//! The Cakewalk API is served by ASP.NET, whose routes match case-insensitively, and clients rely
//! on that (its docs spell `/users` and `/Users` both). Each static segment the API documents is
//! mapped from its lowercase form to its canonical spelling before routing; ids and unknown
//! segments pass through untouched.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Request, Uri};
use axum::response::Response;
use axum::Router;

/// The router behind path normalisation: what `serve` runs.
#[derive(Clone)]
pub struct NormalizedApp {
    router: Router,
    canonical: Arc<HashMap<String, String>>,
}

impl NormalizedApp {
    pub fn new(router: Router, api: &utoipa::openapi::OpenApi) -> Self {
        let mut canonical = HashMap::new();
        for path in api.paths.paths.keys() {
            for segment in path.split('/').filter(|s| !s.is_empty() && !s.starts_with('{')) {
                canonical.insert(segment.to_ascii_lowercase(), segment.to_string());
            }
        }
        Self { router, canonical: Arc::new(canonical) }
    }

    fn normalize(&self, path: &str) -> Option<String> {
        let mut changed = false;
        let segments: Vec<&str> = path
            .split('/')
            .map(|segment| match self.canonical.get(&segment.to_ascii_lowercase()) {
                Some(canon) if canon != segment => {
                    changed = true;
                    canon.as_str()
                }
                _ => segment,
            })
            .collect();
        changed.then(|| segments.join("/"))
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
