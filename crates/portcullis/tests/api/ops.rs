//! Health, readiness, metrics and request ids.
use reqwest::{Method, StatusCode};

use crate::common::{send, TestServer};

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, body) = send(srv.client.get(srv.url("/healthz"))).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = send(srv.client.get(srv.url("/readyz"))).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));

    send(srv.api(&org, Method::GET, "/api/v1/users")).await;
    send(srv.api(&org, Method::GET, &format!("/api/v1/users/{}", uuid::Uuid::now_v7()))).await;
    let text = srv.client.get(srv.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/users",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/v1/users/{userId}",status="404""#), "{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let srv = TestServer::start().await;
    let response =
        srv.client.get(srv.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = srv.client.get(srv.url("/healthz")).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
}
