//! Headers every response gets, and the request ids we accept from clients.
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Longest client-supplied `X-Request-Id` kept (a longer one is replaced by a fresh id).
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// The console's pages: their own stylesheet and forms, nothing else; never framed.
const HTML_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Everything else (JSON, text): no active content at all, never framed.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Is `id` a request id we record as given: 1 to 64 characters of `[A-Za-z0-9-]` (a UUID, a
/// ULID, a trace id)? Anything else (spaces, quotes, control characters, JSON, very long values)
/// would end up in logs and the audit log, so it is replaced.
pub fn acceptable_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Middleware (outside the request-id layers): drops an unacceptable `X-Request-Id` so that a
/// fresh one is generated, echoed and recorded instead.
pub async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let values: Vec<&HeaderValue> = headers.get_all("x-request-id").iter().collect();
    let keep = match values.as_slice() {
        [] => true,
        [one] => one.to_str().is_ok_and(acceptable_request_id),
        _ => false,
    };
    if !keep {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// Middleware: security headers on every response. Framing is refused everywhere
/// (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), content types are not sniffed, no
/// referrer leaks ids in URLs, and nothing is cached unless the handler said otherwise (the
/// console's stylesheet); HTML pages get a policy that allows only their own stylesheet and forms.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let headers = response.headers_mut();
    // A page may widen its own policy (the OAuth consent page lets its form lead to the
    // client's redirect URI); everything else gets ours.
    if !(is_html && headers.contains_key(header::CONTENT_SECURITY_POLICY)) {
        let csp = if is_html { HTML_CSP } else { API_CSP };
        set(headers, header::CONTENT_SECURITY_POLICY, csp);
    }
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    headers.insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_and_plain() {
        for ok in ["0190a3c4-0000-7000-8000-000000000001", "abc", "A-1", &"x".repeat(64)] {
            assert!(acceptable_request_id(ok), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a\"b", "<script>", "a_b", "id\u{e9}", "a\nb"] {
            assert!(!acceptable_request_id(bad), "{bad}");
        }
    }
}
