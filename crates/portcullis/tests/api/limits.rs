//! Rate limits, size limits and timeouts.
use std::time::Duration;

use portcullis_api::HttpConfig;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{assert_flashback_error, assert_problem, send, TestServer};

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
        rate_limit_per_minute: 0,
        header_read_timeout: Duration::from_millis(500),
        ..HttpConfig::default()
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
        rate_limit_per_minute: 0,
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
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
