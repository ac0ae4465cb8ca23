//! Rate limits, size limits and timeouts.
use std::time::Duration;

use portcullis_api::HttpConfig;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{assert_flashback_error, assert_problem, client_from, send, TestServer};

#[tokio::test]
async fn each_credential_and_token_has_its_own_rate_limit_with_retry_after() {
    let srv =
        TestServer::start_with(HttpConfig { rate_limit_per_minute: 5, ..HttpConfig::default() })
            .await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    for _ in 0..5 {
        assert_eq!(send(srv.api(&org, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);
    }
    let response = srv.api(&org, Method::GET, "/api/v1/users").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_problem(StatusCode::TOO_MANY_REQUESTS, &body, 429, "/api/v1/users");
    // Another credential is not affected.
    assert_eq!(send(srv.api(&other, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);

    // Bearer tokens are limited per token, with the Flashback body.
    for _ in 0..5 {
        assert_eq!(
            send(srv.bearer(&org.token, Method::GET, "/organization/users")).await.0,
            StatusCode::OK
        );
    }
    let (status, body) = send(srv.bearer(&org.token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 429);
    // Unauthenticated operational endpoints are not limited.
    for _ in 0..10 {
        assert_eq!(send(srv.client.get(srv.url("/healthz"))).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn oversized_uris_and_headers_are_refused() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let long = format!("/api/v1/users?cursor={}", "a".repeat(9000));
    let (status, body) = send(srv.api(&org, Method::GET, &long)).await;
    assert_problem(status, &body, 414, "/api/v1/users");
    let response = srv
        .api(&org, Method::GET, "/api/v1/users")
        .header("X-Padding", "p".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    let srv = TestServer::start_with(HttpConfig {
        header_read_timeout: Duration::from_millis(500),
        ..HttpConfig::without_rate_limits()
    })
    .await;
    let addr = srv.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // ...and never finishes the headers.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server must close a connection whose headers never end");
    // The server still serves others.
    assert_eq!(send(srv.client.get(srv.url("/healthz"))).await.0, StatusCode::OK);
}

#[tokio::test]
async fn slow_requests_time_out_with_408() {
    let srv = TestServer::start_with(HttpConfig {
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::without_rate_limits()
    })
    .await;
    let org = srv.new_org("Acme").await;
    // Announce a 100-byte body, send 8 bytes, and stall: the request times out.
    let addr = srv.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nX-API-KEY: {}\r\nX-API-SECRET: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        org.key, org.secret
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n =
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
    let response = String::from_utf8_lossy(&buf[..n]);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(response.contains("\"instance\":\"/api/v1/users\""), "{response}");
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn wrong_secrets_block_the_senders_address_and_never_the_key_or_token() {
    let srv = TestServer::start_with(HttpConfig {
        rate_limit_per_minute: 5,
        auth_failures_per_minute: 3,
        ..HttpConfig::without_rate_limits()
    })
    .await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/users";
    let attacker = client_from([127, 0, 0, 2]);
    let with_secret = |secret: &str| {
        attacker.get(srv.url(path)).header("X-API-KEY", &org.key).header("X-API-SECRET", secret)
    };
    for _ in 0..3 {
        let (status, body) = send(with_secret("sk_wrong")).await;
        assert_problem(status, &body, 401, path);
    }
    // From then on the address is refused before any secret is looked at, the right one too.
    for _ in 0..20 {
        let response = with_secret("sk_wrong").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!((1..=60).contains(&retry_after(&response)));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_problem(StatusCode::TOO_MANY_REQUESTS, &body, 429, path);
    }
    assert_eq!(send(with_secret(&org.secret)).await.0, StatusCode::TOO_MANY_REQUESTS);
    // A bearer token's id with a wrong secret, from a third address: the same, per address.
    let (token_id, _) = org.token.rsplit_once('_').unwrap();
    let forged = format!("{token_id}_wrong");
    let other_attacker = client_from([127, 0, 0, 3]);
    for expected in [401, 401, 401, 429, 429] {
        let (status, body) =
            send(other_attacker.get(srv.url("/organization/users")).bearer_auth(&forged)).await;
        assert_flashback_error(status, &body, expected);
    }

    // The real key and token, from their own address, still have their whole quota: none of the
    // failures counted against them.
    for _ in 0..5 {
        assert_eq!(send(srv.api(&org, Method::GET, path)).await.0, StatusCode::OK);
        let bearer = srv.bearer(&org.token, Method::GET, "/organization/users");
        assert_eq!(send(bearer).await.0, StatusCode::OK);
    }
    assert_eq!(send(srv.api(&org, Method::GET, path)).await.0, StatusCode::TOO_MANY_REQUESTS);

    // Once the minute is over (the limiter runs on the server's clock), the address may try again.
    srv.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(send(with_secret(&org.secret)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn writes_without_credentials_or_from_read_only_keys_are_refused_before_the_body_is_read() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ro = srv.read_only(&org).await;
    let (ro_key, ro_secret) = (ro.key.as_str(), ro.secret.as_str());
    let addr = srv.base.trim_start_matches("http://").to_string();
    let cases = [
        (
            "POST /api/v1/WorkApps/Accesses",
            format!("X-API-KEY: {ro_key}\r\nX-API-SECRET: {ro_secret}\r\n"),
            "403",
        ),
        ("POST /api/v1/UsersGroups", String::new(), "401"),
        (
            "POST /api/v1/WorkApps/Accesses",
            format!("X-API-KEY: {}\r\nX-API-SECRET: sk_x\r\n", org.key),
            "401",
        ),
        ("POST /organization/users", "Authorization: Bearer pct_nope\r\n".to_string(), "401"),
    ];
    for (request_line, credentials, expected) in cases {
        // Announce a 16 MB array and send only its first bytes: the answer must come without the
        // server waiting for (let alone buffering) the rest.
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "{request_line} HTTP/1.1\r\nHost: x\r\n{credentials}Content-Type: application/json\r\n\
             Content-Length: 16000000\r\n\r\n{{\"data\":[{{\"userId\":"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answered without the body")
            .unwrap();
        let response = String::from_utf8_lossy(&buf[..n]);
        assert!(
            response.starts_with(&format!("HTTP/1.1 {expected}")),
            "{request_line}: {response}"
        );
    }
}
