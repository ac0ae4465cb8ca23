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

#[tokio::test]
async fn invented_methods_share_one_metrics_label_and_routes_are_templates() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    for i in 0..20 {
        let method = Method::from_bytes(format!("FOOBAR{i}").as_bytes()).unwrap();
        let path = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
        assert_eq!(send(srv.api(&org, method, &path)).await.0, StatusCode::METHOD_NOT_ALLOWED);
        let method = Method::from_bytes(b"PROPFIND").unwrap();
        send(srv.client.request(method, srv.url(&format!("/nowhere/{i}")))).await;
    }
    send(srv.api(&org, Method::DELETE, &format!("/api/v1/users/{}", uuid::Uuid::now_v7()))).await;
    let text = srv.client.get(srv.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("FOOBAR") && !text.contains("PROPFIND"), "{text}");
    assert!(
        text.contains(
            r#"http_requests_total{method="_OTHER",route="/api/v1/users/{userId}",status="405"} 20"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="_OTHER",route="unmatched",status="404"} 20"#),
        "{text}"
    );
    assert!(text.contains(r#"method="DELETE",route="/api/v1/users/{userId}""#), "{text}");
    // Every route label is a template or "unmatched": no id, no raw path.
    for line in text.lines().filter(|l| l.starts_with("http_requests_total{")) {
        let route = line.split("route=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(!route.split('/').any(|s| uuid::Uuid::parse_str(s).is_ok()), "{line}");
        assert!(!route.contains("nowhere"), "{line}");
    }
}

#[tokio::test]
async fn client_request_ids_are_kept_only_when_short_and_plain_and_are_audited() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let create = |email: &str, request_id: &str| {
        srv.api(&org, Method::POST, "/api/v1/users")
            .header("x-request-id", request_id)
            .json(&serde_json::json!({ "name": "Ann", "email": email }))
    };
    let audited = |id: String| {
        let srv = &srv;
        let org = &org;
        async move {
            let (_, log) = send(srv.api(org, Method::GET, "/api/v1/AuditLog")).await;
            log["data"].as_array().unwrap().iter().any(|e| e["requestId"] == id.as_str())
        }
    };
    let plain = "0190a3c4-7e1f-7000-8000-00000000abcd";
    let response = create("a@acme.example", plain).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-request-id"], plain);
    assert!(audited(plain.to_string()).await);

    let long = "a".repeat(65);
    for (i, injected) in
        ["evil\" request_id=\"forged", &long, "a b", "<script>x</script>", "id;drop"]
            .into_iter()
            .enumerate()
    {
        let response = create(&format!("u{i}@acme.example"), injected).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{injected}");
        let echoed = response.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(echoed, injected);
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "a fresh id: {echoed}");
        assert!(audited(echoed).await, "the fresh id is the one audited");
        assert!(!audited(injected.to_string()).await);
    }
}
