//! `/organization/...` with bearer tokens: role rules, validation, isolation, `{success}` bodies.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{assert_flashback_error, send, TestServer};

#[tokio::test]
async fn organization_is_readable_by_members_and_renamed_only_by_admins() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let path = format!("/organization/{}", org.id);

    let (status, body) = send(srv.bearer(&user_token, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["organization"]["name"], "Acme");
    assert_eq!(body["organization"]["id"], org.id.as_str());

    let (status, body) =
        send(srv.bearer(&user_token, Method::PUT, &path).json(&json!({ "name": "Hacked" }))).await;
    assert_flashback_error(status, &body, 403);

    let (_, admin_token) = srv.user_with_token(&org, "Adam", "Administrator").await;
    let (status, body) =
        send(srv.bearer(&admin_token, Method::PUT, &path).json(&json!({ "name": "Acme Corp" })))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["organization"]["name"], "Acme Corp");

    let (status, body) =
        send(srv.bearer(&admin_token, Method::PUT, &path).json(&json!({ "name": "" }))).await;
    assert_flashback_error(status, &body, 400);

    // Another organization's id, or a non-id, is simply not found.
    let other = srv.new_org("Other").await;
    for foreign in [format!("/organization/{}", other.id), "/organization/xyz".to_string()] {
        let (status, body) = send(srv.bearer(&org.token, Method::GET, &foreign)).await;
        assert_flashback_error(status, &body, 404);
        let (status, body) =
            send(srv.bearer(&org.token, Method::PUT, &foreign).json(&json!({ "name": "x" }))).await;
        assert_flashback_error(status, &body, 404);
    }
}

#[tokio::test]
async fn user_management_needs_workspaces_role_and_never_exceeds_ones_own() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (_, billing_token) = srv.user_with_token(&org, "Bill", "Billing").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (_, admin_token) = srv.user_with_token(&org, "Adam", "Administrator").await;

    for token in [&user_token, &billing_token] {
        let (status, body) = send(
            srv.bearer(token, Method::POST, "/organization/users")
                .json(&json!({ "email": "new@acme.example", "name": "New" })),
        )
        .await;
        assert_flashback_error(status, &body, 403);
    }

    let (status, body) = send(
        srv.bearer(&ws_token, Method::POST, "/organization/users")
            .json(&json!({ "email": "new@acme.example", "name": "New" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["status"], "INVITED");
    assert_eq!(body["user"]["role"], "USER");
    let new_id = body["user"]["id"].as_str().unwrap().to_string();

    // WORKSPACES cannot create an ADMINISTRATOR; ADMINISTRATOR cannot create an OWNER.
    let (status, body) = send(
        srv.bearer(&ws_token, Method::POST, "/organization/users")
            .json(&json!({ "email": "a2@acme.example", "name": "A2", "role": "ADMINISTRATOR" })),
    )
    .await;
    assert_flashback_error(status, &body, 403);
    let (status, body) = send(
        srv.bearer(&admin_token, Method::POST, "/organization/users")
            .json(&json!({ "email": "o2@acme.example", "name": "O2", "role": "OWNER" })),
    )
    .await;
    assert_flashback_error(status, &body, 403);
    // ... nor promote anyone above themselves, nor edit the owner.
    let owner_path = format!("/organization/users/{}", org.owner_id);
    let (status, body) =
        send(srv.bearer(&admin_token, Method::PUT, &owner_path).json(&json!({ "name": "x" })))
            .await;
    assert_flashback_error(status, &body, 403);

    // Bad role, bad e-mail, duplicate e-mail.
    for (payload, code) in [
        (json!({ "email": "r@acme.example", "name": "R", "role": "KING" }), 400),
        (json!({ "email": "nope", "name": "R" }), 400),
        (json!({ "email": "NEW@acme.example", "name": "Dup" }), 409),
        (json!({ "name": "No email" }), 400),
    ] {
        let (status, body) =
            send(srv.bearer(&admin_token, Method::POST, "/organization/users").json(&payload))
                .await;
        assert_flashback_error(status, &body, code);
    }

    // Update, deactivate, activate.
    let path = format!("/organization/users/{new_id}");
    let (status, body) = send(
        srv.bearer(&ws_token, Method::PUT, &path)
            .json(&json!({ "name": "Renamed", "role": "BILLING" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["name"], "Renamed");
    assert_eq!(body["user"]["role"], "BILLING");
    let (status, body) =
        send(srv.bearer(&ws_token, Method::POST, &format!("{path}/activate"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["status"], "ACTIVE");
    let (status, body) = send(srv.bearer(&ws_token, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["status"], "DEACTIVATED");
    let (status, body) = send(srv.bearer(&user_token, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["status"], "DEACTIVATED");
}

#[tokio::test]
async fn unvalidated_accounts_get_400_and_deactivated_ones_401() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (id, token) = srv.user_with_token(&org, "Ivy", "Workspaces").await;
    // Make Ivy "invited" (not validated).
    let (status, _) = send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{id}"))
            .json(&json!({ "statusName": "Invited" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(body["message"], "User not found or account is not validated");

    let (status, _) = send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{id}"))
            .json(&json!({ "statusName": "Deactivated" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 401);
}

#[tokio::test]
async fn the_last_owner_cannot_deactivate_themselves() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = format!("/organization/users/{}", org.owner_id);
    let (status, body) = send(srv.bearer(&org.token, Method::DELETE, &path)).await;
    assert_flashback_error(status, &body, 409);
    let (status, body) =
        send(srv.bearer(&org.token, Method::PUT, &path).json(&json!({ "role": "USER" }))).await;
    assert_flashback_error(status, &body, 409);
}

#[tokio::test]
async fn organization_users_are_isolated_between_organizations() {
    let srv = TestServer::start().await;
    let acme = srv.new_org("Acme").await;
    let evil = srv.new_org("Evil").await;
    let victim = srv.create_user(&acme, "Vic", "vic@acme.example", "User").await;

    let (status, body) = send(srv.bearer(&evil.token, Method::GET, "/organization/users")).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.to_string();
    assert!(!text.contains(&victim) && !text.contains(&acme.owner_id));
    assert_eq!(body["users"].as_array().unwrap().len(), 1);

    let path = format!("/organization/users/{victim}");
    for (method, payload) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({ "name": "Pwned" }))),
        (Method::DELETE, None),
    ] {
        let mut request = srv.bearer(&evil.token, method, &path);
        if let Some(p) = payload {
            request = request.json(&p);
        }
        let (status, body) = send(request).await;
        assert_flashback_error(status, &body, 404);
    }
    let (status, body) =
        send(srv.bearer(&evil.token, Method::POST, &format!("{path}/activate"))).await;
    assert_flashback_error(status, &body, 404);
    let (_, body) = send(srv.api(&acme, Method::GET, &format!("/api/v1/users/{victim}"))).await;
    assert_eq!(body["data"]["name"], "Vic");
    assert_eq!(body["data"]["statusName"], "Active");
}
