//! Request limits: rate limiting, URI and header sizes, request timeout.
//!
//! Rate limits are counted in one-minute windows per server process (with several processes
//! behind a load balancer a caller gets up to `limit × processes`):
//!
//! - an **authenticated** caller (API key, bearer token) has its own quota, counted only once its
//!   credentials have been verified, so nobody can use up someone else's quota by presenting
//!   their key;
//! - **failed authentications** count against the client address, never against the identity
//!   presented: sending wrong secrets for a real key blocks the sender's address (429 before any
//!   credential is checked), not the key;
//! - the **web console** is limited per client address, sign-in attempts (`POST /login`) more
//!   strictly;
//! - the **OAuth endpoints** (`/oauth/*`, `/.well-known/oauth-*`) are limited per client address
//!   with the console's budget, client registrations with the sign-in budget (`oauth/mod.rs`).
//!
//! The client address is the TCP peer, or, only when `client_ip_header` is configured, the
//! address a trusted reverse proxy put in that header.
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portcullis_domain::Clock;

use crate::error::ApiError;
use crate::AppState;

/// Longest request URI accepted (414 above).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header bytes accepted (431 above).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Rate-limit entries kept at most; beyond it the least recently seen one is evicted.
const MAX_TRACKED: usize = 100_000;
/// The length of a rate-limit window.
const WINDOW: chrono::Duration = chrono::Duration::minutes(1);

/// HTTP-level settings of the server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Requests per minute per authenticated API key or bearer token; 0 turns it off.
    pub rate_limit_per_minute: u32,
    /// Failed authentications per minute per client address before the address is refused
    /// (429) for a while; 0 turns it off.
    pub auth_failures_per_minute: u32,
    /// Web console requests per minute per client address; 0 turns it off.
    pub console_per_minute: u32,
    /// Console sign-in attempts (`POST /login`) per minute per client address; 0 turns it off.
    pub sign_ins_per_minute: u32,
    /// A header set by a trusted reverse proxy that carries the client's address
    /// (`X-Forwarded-For`: its last entry, `X-Real-IP`, …). `None`: the TCP peer is the client.
    pub client_ip_header: Option<HeaderName>,
    /// A request (body included) must be answered within this time (408 otherwise).
    pub request_timeout: Duration,
    /// Time a client has to send its request line and headers (slow-loris protection).
    pub header_read_timeout: Duration,
    /// Serve `/metrics` on the main listener (false when it has its own, `--metrics-listen`).
    pub metrics_on_main_listener: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: 1000,
            auth_failures_per_minute: 30,
            console_per_minute: 300,
            sign_ins_per_minute: 10,
            client_ip_header: None,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            metrics_on_main_listener: true,
        }
    }
}

impl HttpConfig {
    /// The defaults with every rate limit turned off (tests and benchmarks that are one heavy
    /// caller).
    pub fn without_rate_limits() -> Self {
        Self {
            rate_limit_per_minute: 0,
            auth_failures_per_minute: 0,
            console_per_minute: 0,
            sign_ins_per_minute: 0,
            ..Self::default()
        }
    }
}

/// What a rate-limit entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Requests of an authenticated API key or bearer token.
    Identity,
    /// Failed authentications from a client address.
    AuthFailures,
    /// Web console requests from a client address.
    Console,
    /// Console sign-in attempts from a client address.
    SignIn,
    /// Requests to the OAuth endpoints (metadata, token, revocation) from a client address.
    OAuth,
    /// OAuth client registrations from a client address.
    OAuthRegistration,
}

type Key = (Bucket, String);

#[derive(Debug)]
struct Entry {
    /// Start of the current window (ms since the epoch).
    start: i64,
    count: u32,
    /// Position in the least-recently-seen order.
    stamp: u64,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// stamp → key, oldest first.
    order: BTreeMap<u64, Key>,
    next_stamp: u64,
}

impl Table {
    fn touch(&mut self, key: &Key) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        if let Some(entry) = self.entries.get_mut(key) {
            self.order.remove(&entry.stamp);
            entry.stamp = stamp;
            self.order.insert(stamp, key.clone());
        }
    }

    fn remove_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_first() {
            self.entries.remove(&key);
        }
    }

    /// Drops the least recently seen entries whose window has ended (they count nothing any
    /// more), then, if the table is still full, the least recently seen entry.
    fn make_room(&mut self, now: i64, capacity: usize) {
        let window = WINDOW.num_milliseconds();
        while let Some((_, key)) = self.order.first_key_value() {
            let expired = self.entries.get(key).is_none_or(|e| now - e.start >= window);
            if !expired {
                break;
            }
            self.remove_oldest();
        }
        while self.entries.len() >= capacity {
            self.remove_oldest();
        }
    }
}

/// Fixed one-minute windows per (bucket, caller), on an injectable clock, in a bounded table:
/// expired entries are dropped as they come up, and when the table is full the least recently
/// seen entry is evicted (the table is never cleared as a whole).
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    capacity: usize,
    table: Mutex<Table>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_capacity(clock, MAX_TRACKED)
    }

    /// A limiter keeping at most `capacity` entries.
    pub fn with_capacity(clock: Arc<dyn Clock>, capacity: usize) -> Self {
        Self { clock, capacity: capacity.max(1), table: Mutex::new(Table::default()) }
    }

    /// Counts one request of `who` in `bucket`. `Err(seconds until its window ends)` when `who`
    /// has already made `limit` requests in the window (the refused request is not counted).
    pub fn hit(&self, bucket: Bucket, who: &str, limit: u32) -> Result<(), u64> {
        self.update(bucket, who, |count| {
            if count >= limit {
                return Err(());
            }
            Ok(count + 1)
        })
    }

    /// Counts one event of `who` in `bucket` without refusing anything (e.g. a failure that has
    /// already happened).
    pub fn record(&self, bucket: Bucket, who: &str) {
        let _ = self.update(bucket, who, |count| Ok(count.saturating_add(1)));
    }

    /// `Some(seconds until its window ends)` when `who` has reached `limit` in `bucket`; counts
    /// nothing.
    pub fn blocked(&self, bucket: Bucket, who: &str, limit: u32) -> Option<u64> {
        let now = self.clock.now().timestamp_millis();
        let table = self.table.lock().ok()?;
        let entry = table.entries.get(&(bucket, who.to_string()))?;
        let left = entry.start + WINDOW.num_milliseconds() - now;
        (left > 0 && entry.count >= limit).then(|| seconds(left))
    }

    /// How many entries the table holds.
    pub fn tracked(&self) -> usize {
        self.table.lock().map(|t| t.entries.len()).unwrap_or(0)
    }

    fn update(
        &self,
        bucket: Bucket,
        who: &str,
        next: impl FnOnce(u32) -> Result<u32, ()>,
    ) -> Result<(), u64> {
        let now = self.clock.now().timestamp_millis();
        let window = WINDOW.num_milliseconds();
        // A poisoned lock only means another request panicked mid-update: keep serving.
        let mut table = match self.table.lock() {
            Ok(table) => table,
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (bucket, who.to_string());
        if !table.entries.contains_key(&key) {
            table.make_room(now, self.capacity);
            table.entries.insert(key.clone(), Entry { start: now, count: 0, stamp: 0 });
        }
        table.touch(&key);
        let Some(entry) = table.entries.get_mut(&key) else { return Ok(()) };
        if now - entry.start >= window || now < entry.start {
            entry.start = now;
            entry.count = 0;
        }
        match next(entry.count) {
            Ok(count) => {
                entry.count = count;
                Ok(())
            }
            Err(()) => Err(seconds(entry.start + window - now)),
        }
    }
}

/// Whole seconds, rounded up, at least 1 (a `Retry-After` value).
fn seconds(millis: i64) -> u64 {
    u64::try_from((millis + 999) / 1000).unwrap_or(1).max(1)
}

/// The client's address, as the rate limits see it; put in the request's extensions by
/// [`enforce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The rate-limit key: the IPv4 address, or the /64 network of an IPv6 address (one
    /// subscriber usually holds a whole /64).
    pub fn key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

/// The client address of a request: from the trusted proxy header when one is configured and
/// present (the last, i.e. nearest, entry of a list), else the TCP peer.
fn client_addr(request: &Request, config: &HttpConfig) -> ClientAddr {
    let from_header = config.client_ip_header.as_ref().and_then(|name| {
        let value = request.headers().get_all(name).iter().next_back()?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    ClientAddr(from_header.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// Does the request present credentials of either API style?
fn presents_credentials(headers: &HeaderMap) -> bool {
    ["x-api-key", "x-api-secret", "authorization"].iter().any(|h| headers.contains_key(*h))
}

/// A 429 whose body is written in the called API's style by the error envelope.
pub fn too_many_requests(message: String, retry_after: u64) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).with_retry_after(retry_after)
}

/// Adds `Retry-After: seconds` to a response.
pub fn set_retry_after(response: &mut Response, retry_after: u64) {
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// Counts one request of an authenticated identity against its quota (the extractors call it
/// once the credentials are verified).
pub fn count_identity(state: &AppState, identity: &str) -> Result<(), ApiError> {
    let limit = state.http.rate_limit_per_minute;
    if limit == 0 {
        return Ok(());
    }
    state.rate_limiter.hit(Bucket::Identity, identity, limit).map_err(|retry_after| {
        too_many_requests(
            format!(
                "Rate limit of {limit} requests per minute exceeded; retry after {retry_after} s."
            ),
            retry_after,
        )
    })
}

/// The length of `uri` as written (`scheme://authority/path?query`), without writing it out.
fn uri_len(uri: &axum::http::Uri) -> usize {
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + 3);
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    scheme + authority + path
}

/// Middleware: URI and header sizes, the client address, and failed authentications per client
/// address (an address over its budget is refused before its credentials are even checked; every
/// 401 answered counts against it).
pub async fn enforce(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if uri_len(request.uri()) > MAX_URI_BYTES {
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
    let addr = client_addr(&request, &state.http);
    request.extensions_mut().insert(addr);
    let limit = state.http.auth_failures_per_minute;
    if limit == 0 {
        return next.run(request).await;
    }
    let who = addr.key();
    if presents_credentials(request.headers()) {
        if let Some(retry_after) = state.rate_limiter.blocked(Bucket::AuthFailures, &who, limit) {
            return too_many_requests(
                format!(
                    "Too many failed authentications from your address; retry after {retry_after} s."
                ),
                retry_after,
            )
            .into_response();
        }
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        state.rate_limiter.record(Bucket::AuthFailures, &who);
    }
    response
}

#[cfg(test)]
mod tests {
    use portcullis_domain::clock::ManualClock;

    use super::*;

    fn limiter(capacity: usize) -> (Arc<ManualClock>, RateLimiter) {
        let clock = Arc::new(ManualClock::starting_now());
        (clock.clone(), RateLimiter::with_capacity(clock, capacity))
    }

    #[test]
    fn a_uri_is_measured_as_written() {
        for text in ["/api/v1/users?cursor=abc", "http://example.com:8080/a/b?c=d", "/", "*"] {
            let uri: axum::http::Uri = text.parse().expect("uri");
            assert_eq!(uri_len(&uri), uri.to_string().len(), "{text}");
        }
    }

    #[test]
    fn the_limit_applies_per_caller_and_bucket_until_the_window_ends() {
        let (clock, limiter) = limiter(100);
        for _ in 0..3 {
            assert!(limiter.hit(Bucket::Identity, "a", 3).is_ok());
        }
        assert_eq!(limiter.hit(Bucket::Identity, "a", 3), Err(60));
        assert!(limiter.hit(Bucket::Identity, "b", 3).is_ok());
        assert!(limiter.hit(Bucket::Console, "a", 3).is_ok(), "buckets are separate");
        clock.advance(chrono::Duration::seconds(45));
        assert_eq!(limiter.hit(Bucket::Identity, "a", 3), Err(15));
        assert_eq!(limiter.blocked(Bucket::Identity, "a", 3), Some(15));
        clock.advance(chrono::Duration::milliseconds(14_500));
        assert_eq!(limiter.hit(Bucket::Identity, "a", 3), Err(1), "rounded up, never 0");
        clock.advance(chrono::Duration::milliseconds(500));
        assert_eq!(limiter.blocked(Bucket::Identity, "a", 3), None);
        assert!(limiter.hit(Bucket::Identity, "a", 3).is_ok(), "a new window");
    }

    #[test]
    fn recorded_failures_block_only_once_the_limit_is_reached() {
        let (_, limiter) = limiter(100);
        for _ in 0..2 {
            limiter.record(Bucket::AuthFailures, "10.0.0.1");
            assert_eq!(limiter.blocked(Bucket::AuthFailures, "10.0.0.1", 3), None);
        }
        limiter.record(Bucket::AuthFailures, "10.0.0.1");
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "10.0.0.1", 3), Some(60));
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "10.0.0.2", 3), None);
    }

    #[test]
    fn expired_entries_are_evicted_and_a_full_table_drops_only_the_least_recently_seen() {
        let (clock, limiter) = limiter(3);
        for who in ["a", "b", "c"] {
            limiter.record(Bucket::AuthFailures, who);
        }
        // "a" is seen again: "b" is now the least recently seen.
        limiter.record(Bucket::AuthFailures, "a");
        limiter.record(Bucket::AuthFailures, "d");
        assert_eq!(limiter.tracked(), 3);
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "a", 2), Some(60), "a kept its count");
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "c", 1), Some(60), "c kept its count");
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "b", 1), None, "b was evicted");

        // Once their windows are over, old entries go as new ones arrive, not all at once.
        clock.advance(chrono::Duration::seconds(61));
        limiter.record(Bucket::AuthFailures, "c");
        clock.advance(chrono::Duration::seconds(30));
        limiter.record(Bucket::AuthFailures, "e");
        assert_eq!(limiter.tracked(), 2, "a and d expired and were dropped; c and e remain");
        assert_eq!(limiter.blocked(Bucket::AuthFailures, "c", 1), Some(30));
    }

    #[test]
    fn a_flood_of_new_callers_does_not_forgive_a_busy_one() {
        let (_, limiter) = limiter(1000);
        for _ in 0..5 {
            limiter.record(Bucket::AuthFailures, "attacker");
        }
        for i in 0..5000 {
            limiter.record(Bucket::AuthFailures, &format!("other-{i}"));
            // The attacker keeps trying, so it stays among the recently seen.
            if i % 100 == 0 {
                assert!(limiter.blocked(Bucket::AuthFailures, "attacker", 5).is_some());
                limiter.record(Bucket::AuthFailures, "attacker");
            }
        }
        assert!(limiter.tracked() <= 1000);
        assert!(limiter.blocked(Bucket::AuthFailures, "attacker", 5).is_some());
    }

    #[test]
    fn client_addresses_key_ipv6_by_its_64_network() {
        let v6 = |s: &str| ClientAddr(s.parse().unwrap()).key();
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), v6("2001:db8:1:2:bbbb::2"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(v6("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(v6("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn the_proxy_header_is_honoured_only_when_configured() {
        let request = || {
            let mut r = Request::builder()
                .header("x-forwarded-for", "203.0.113.9, 198.51.100.4")
                .body(axum::body::Body::empty())
                .unwrap();
            r.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
            r
        };
        let plain = HttpConfig::default();
        assert_eq!(client_addr(&request(), &plain).key(), "127.0.0.1");
        let proxied = HttpConfig {
            client_ip_header: Some(HeaderName::from_static("x-forwarded-for")),
            ..HttpConfig::default()
        };
        assert_eq!(client_addr(&request(), &proxied).key(), "198.51.100.4");
        let mut garbage = request();
        garbage.headers_mut().insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(client_addr(&garbage, &proxied).key(), "127.0.0.1");
    }
}
