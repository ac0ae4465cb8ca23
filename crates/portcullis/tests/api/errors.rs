//! Every failure of the Cakewalk surface is a ProblemDetails body, including axum's own rejections.
use reqwest::{Method, StatusCode};

use crate::common::{assert_flashback_error, assert_problem, send, TestServer};

#[tokio::test]
async fn malformed_json_wrong_content_type_and_schema_errors_are_problem_details() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/users";

    let malformed = srv
        .api(&org, Method::POST, path)
        .header("content-type", "application/json")
        .body("{\"name\": \"Bob\", ");
    let (status, body) = send(malformed).await;
    assert_problem(status, &body, 400, path);

    let wrong_type = srv
        .api(&org, Method::POST, path)
        .header("content-type", "text/plain")
        .body(r#"{"name":"Bob","email":"bob@acme.example"}"#);
    let (status, body) = send(wrong_type).await;
    assert_problem(status, &body, 415, path);

    let no_body = srv.api(&org, Method::POST, path);
    let (status, body) = send(no_body).await;
    assert!(status == StatusCode::UNSUPPORTED_MEDIA_TYPE || status == StatusCode::BAD_REQUEST);
    assert_problem(status, &body, status.as_u16(), path);

    for payload in [
        serde_json::json!({ "name": "Bob" }), // missing field
        serde_json::json!({ "name": "Bob", "email": "b@x.io", "extra": 1 }), // unknown field
        serde_json::json!({ "name": 7, "email": "b@x.io" }), // wrong type
        serde_json::json!({ "name": "Bob", "email": "b@x.io", "managerId": "nope" }), // bad uuid
        serde_json::json!({ "name": "Bob", "email": "not-an-email" }), // bad e-mail
        serde_json::json!({ "name": "   ", "email": "b@x.io" }), // empty name
        serde_json::json!({ "name": "Bob", "email": "b@x.io", "roleName": "God" }), // bad role
    ] {
        let (status, body) = send(srv.api(&org, Method::POST, path).json(&payload)).await;
        assert_problem(status, &body, 400, path);
    }
}

#[tokio::test]
async fn bad_path_ids_unknown_routes_and_wrong_methods_are_problem_details() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;

    let path = "/api/v1/users/not-a-uuid";
    let (status, body) = send(srv.api(&org, Method::GET, path)).await;
    assert_problem(status, &body, 400, path);

    let path = "/api/v1/NoSuchThing";
    let (status, body) = send(srv.api(&org, Method::GET, path)).await;
    assert_problem(status, &body, 404, path);

    let path = "/api/v1/users";
    let (status, body) = send(srv.api(&org, Method::DELETE, path)).await;
    assert_problem(status, &body, 405, path);

    let path = "/api/v1/users?cursor=%%%garbage";
    let (status, body) = send(srv.api(&org, Method::GET, path)).await;
    assert_problem(status, &body, 400, "/api/v1/users");

    // Outside /api the Flashback envelope is used instead.
    let (status, body) = send(srv.client.get(srv.url("/no/such/route"))).await;
    assert_flashback_error(status, &body, 404);
}

#[tokio::test]
async fn bodies_over_16_mib_answer_413() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/users";
    let huge = format!(r#"{{"name":"{}","email":"a@b.io"}}"#, "x".repeat(17 * 1024 * 1024));
    let request =
        srv.api(&org, Method::POST, path).header("content-type", "application/json").body(huge);
    let (status, body) = send(request).await;
    assert_problem(status, &body, 413, path);
}

#[tokio::test]
async fn paths_match_case_insensitively_like_the_cakewalk_server() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    for path in ["/api/v1/Users", "/API/V1/USERS", "/api/v1/users"] {
        let (status, body) = send(srv.api(&org, Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["data"][0]["id"], org.owner_id.as_str());
    }
    let path = format!("/api/v1/Users/{}", org.owner_id);
    let (status, _) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK);
}
