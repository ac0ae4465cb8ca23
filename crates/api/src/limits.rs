//! Request limits: per-caller rate limiting, URI and header sizes, request timeout.
//!
//! The rate limit is per server process: with several processes behind a load balancer a caller
//! gets up to `limit × processes` per minute (documented in the README).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Longest request URI accepted (414 above).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header bytes accepted (431 above).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Callers tracked at most (the table is reset when full, which only ever forgives).
const MAX_TRACKED_CALLERS: usize = 100_000;

/// HTTP-level settings of the server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Requests per minute per API key or bearer token; 0 turns rate limiting off.
    pub rate_limit_per_minute: u32,
    /// A request (body included) must be answered within this time (408 otherwise).
    pub request_timeout: Duration,
    /// Time a client has to send its request line and headers (slow-loris protection).
    pub header_read_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: 1000,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Fixed one-minute windows per caller.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Counts a request; `Err(seconds until the window resets)` when over the limit.
    fn check(&self, caller: &str, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else { return Ok(()) };
        if windows.len() >= MAX_TRACKED_CALLERS && !windows.contains_key(caller) {
            windows.clear();
        }
        let (start, count) = windows.entry(caller.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *count = 0;
        }
        if *count >= limit {
            let left = Duration::from_secs(60).saturating_sub(now.duration_since(*start));
            return Err(left.as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

/// Who is calling, for rate limiting: the API key (public), or the bearer token's id part —
/// never the secret.
fn caller(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(format!("key:{}", key.trim()));
    }
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    let id = token.trim().strip_prefix("pct_")?.split('_').next()?;
    Some(format!("token:{id}"))
}

/// Middleware: URI length, then the caller's rate limit.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().to_string().len() > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("The request URI is longer than {MAX_URI_BYTES} bytes."),
        )
        .into_response();
    }
    let header_bytes: usize =
        request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("The request headers are larger than {MAX_HEADER_BYTES} bytes."),
        )
        .into_response();
    }
    let limit = state.http.rate_limit_per_minute;
    if limit > 0 {
        if let Some(caller) = caller(&request) {
            if let Err(retry_after) = state.rate_limiter.check(&caller, limit) {
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Rate limit of {limit} requests per minute exceeded; retry after {retry_after} s."),
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                return response;
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_caller() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.check("a", 3).is_ok());
        }
        let retry = limiter.check("a", 3).unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(limiter.check("b", 3).is_ok());
    }
}
