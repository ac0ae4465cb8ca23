//! Credentials: API key + secret, read-only keys, bearer tokens, revocation.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{assert_flashback_error, assert_problem, send, TestServer};

#[tokio::test]
async fn missing_or_wrong_api_credentials_answer_401_problem_details() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/users";

    let (status, body) = send(srv.client.get(srv.url(path))).await;
    assert_problem(status, &body, 401, path);

    let only_key = srv.client.get(srv.url(path)).header("X-API-KEY", &org.key);
    let (status, body) = send(only_key).await;
    assert_problem(status, &body, 401, path);

    let wrong_secret = srv
        .client
        .get(srv.url(path))
        .header("X-API-KEY", &org.key)
        .header("X-API-SECRET", "sk_nope");
    let (status, body) = send(wrong_secret).await;
    assert_problem(status, &body, 401, path);

    let unknown_key = srv
        .client
        .get(srv.url(path))
        .header("X-API-KEY", "pk_0190a0a0a0a07a0a8a0a0a0a0a0a0a0a")
        .header("X-API-SECRET", &org.secret);
    let (status, body) = send(unknown_key).await;
    assert_problem(status, &body, 401, path);

    let garbage_key =
        srv.client.get(srv.url(path)).header("X-API-KEY", "garbage").header("X-API-SECRET", "x");
    let (status, body) = send(garbage_key).await;
    assert_problem(status, &body, 401, path);

    // The secret of one organization does not open another organization's key.
    let other = srv.new_org("Other").await;
    let swapped = srv
        .client
        .get(srv.url(path))
        .header("X-API-KEY", &org.key)
        .header("X-API-SECRET", &other.secret);
    let (status, body) = send(swapped).await;
    assert_problem(status, &body, 401, path);
}

#[tokio::test]
async fn read_only_credential_reads_but_gets_403_on_every_write() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ro = srv.read_only(&org).await;

    let (status, body) = send(srv.api(&ro, Method::GET, "/api/v1/users")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let writes = [
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"name":"Bob","email":"bob@acme.example"}),
        ),
        (Method::PATCH, format!("/api/v1/users/{}", org.owner_id), json!({"name":"New"})),
        (Method::POST, "/api/v1/ApiCredentials".to_string(), json!({"name":"x"})),
        (Method::POST, format!("/api/v1/users/{}/Tokens", org.owner_id), json!({"name":"x"})),
    ];
    for (method, path, payload) in writes {
        let (status, body) = send(srv.api(&ro, method.clone(), &path).json(&payload)).await;
        assert_problem(status, &body, 403, &path);
        assert!(body["detail"].as_str().unwrap().contains("read-only"), "{body}");
    }
    // Nothing was written by the refused calls.
    let (_, body) = send(srv.api(&org, Method::GET, "/api/v1/users")).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn revoked_credentials_and_tokens_stop_working_at_once() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, body) =
        send(srv.api(&org, Method::POST, "/api/v1/ApiCredentials").json(&json!({ "name": "ci" })))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let cred_id = body["data"]["id"].as_str().unwrap().to_string();
    let mut ci = org.clone();
    ci.key = body["data"]["apiKey"].as_str().unwrap().to_string();
    ci.secret = body["data"]["apiSecret"].as_str().unwrap().to_string();
    assert_eq!(send(srv.api(&ci, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);

    // The listing never shows secrets again.
    let (_, list) = send(srv.api(&org, Method::GET, "/api/v1/ApiCredentials")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(list["data"].as_array().unwrap().iter().all(|c| c.get("apiSecret").is_none()));
    assert!(!list.to_string().contains(&ci.secret));

    let path = format!("/api/v1/ApiCredentials/{cred_id}");
    assert_eq!(send(srv.api(&org, Method::DELETE, &path)).await.0, StatusCode::NO_CONTENT);
    let (status, body) = send(srv.api(&ci, Method::GET, "/api/v1/users")).await;
    assert_problem(status, &body, 401, "/api/v1/users");

    // Tokens: issue, use, revoke.
    let (status, body) = send(
        srv.api(&org, Method::POST, &format!("/api/v1/users/{}/Tokens", org.owner_id))
            .json(&json!({ "name": "laptop" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_string();
    let token_id = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        send(srv.bearer(&token, Method::GET, "/organization/users")).await.0,
        StatusCode::OK
    );
    let revoke = format!("/api/v1/users/{}/Tokens/{token_id}", org.owner_id);
    assert_eq!(send(srv.api(&org, Method::DELETE, &revoke)).await.0, StatusCode::NO_CONTENT);
    let (status, body) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 401);
    // Revoking again, or a token of another user, is 404.
    let (status, body) = send(srv.api(&org, Method::DELETE, &revoke)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "revocation is idempotent: {body}");
    let wrong_user = format!("/api/v1/users/{}/Tokens/{token_id}", uuid::Uuid::now_v7());
    let (status, body) = send(srv.api(&org, Method::DELETE, &wrong_user)).await;
    assert_problem(status, &body, 404, &wrong_user);
}

#[tokio::test]
async fn bearer_token_failures_answer_401_success_false() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = "/organization/users";
    let (status, body) = send(srv.client.get(srv.url(path))).await;
    assert_flashback_error(status, &body, 401);
    for bad in
        ["nonsense", "pct_0190a0a0a0a07a0a8a0a0a0a0a0a0a0a_secret", &format!("{}x", org.token)]
    {
        let (status, body) = send(srv.bearer(bad, Method::GET, path)).await;
        assert_flashback_error(status, &body, 401);
    }
    // An API credential is not a bearer token, and a bearer token is not an API credential.
    let (status, body) = send(srv.bearer(&org.secret, Method::GET, path)).await;
    assert_flashback_error(status, &body, 401);
    let (status, body) = send(srv.bearer(&org.token, Method::GET, "/api/v1/users")).await;
    assert_problem(status, &body, 401, "/api/v1/users");
}

#[tokio::test]
async fn expired_tokens_are_refused_and_past_expiry_is_rejected() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = format!("/api/v1/users/{}/Tokens", org.owner_id);
    let (status, body) = send(
        srv.api(&org, Method::POST, &path)
            .json(&json!({ "name": "old", "expiresAt": "2001-01-01T00:00:00Z" })),
    )
    .await;
    assert_problem(status, &body, 400, &path);

    let soon = srv.timestamp_in(chrono::Duration::minutes(30));
    let (status, body) = send(
        srv.api(&org, Method::POST, &path).json(&json!({ "name": "short", "expiresAt": soon })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(
        send(srv.bearer(&token, Method::GET, "/organization/users")).await.0,
        StatusCode::OK
    );
    // Usable up to the last millisecond before its expiry, refused from the expiry on.
    srv.clock.advance(chrono::Duration::minutes(30) - chrono::Duration::milliseconds(1));
    assert_eq!(
        send(srv.bearer(&token, Method::GET, "/organization/users")).await.0,
        StatusCode::OK
    );
    srv.clock.advance(chrono::Duration::milliseconds(1));
    let (status, body) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 401);
}
