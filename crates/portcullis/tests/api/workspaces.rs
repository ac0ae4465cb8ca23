//! `/workspace`: the Flashback workspace API and seed 002.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_flashback_error, send, TestServer};

async fn create(srv: &TestServer, token: &str, name: &str) -> String {
    let (status, body) =
        send(srv.bearer(token, Method::POST, "/workspace").json(&json!({ "name": name }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    body["workspace"]["id"].as_str().unwrap().to_string()
}

async fn add(srv: &TestServer, token: &str, ws: &str, body: Value) -> (StatusCode, Value) {
    send(srv.bearer(token, Method::POST, &format!("/workspace/{ws}/users")).json(&body)).await
}

async fn roles(srv: &TestServer, token: &str, ws: &str) -> Vec<(String, String)> {
    let (status, body) =
        send(srv.bearer(token, Method::GET, &format!("/workspace/{ws}/users"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut out: Vec<(String, String)> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (u["userId"].as_str().unwrap().to_string(), u["role"].as_str().unwrap().to_string())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn seed_request_verbatim_and_every_documented_response() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, ws_admin_token) = srv.user_with_token(&org, "Wanda", "Workspaces").await;
    let (_, outsider_token) = srv.user_with_token(&org, "Otto", "User").await;
    let target = srv.create_user(&org, "Tess", "tess@acme.example", "User").await;
    let ws = create(&srv, &ws_admin_token, "Data platform").await;

    // 200: the seed's curl body, with a real user id.
    let response = srv
        .bearer(&ws_admin_token, Method::POST, &format!("/workspace/{ws}/users"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(format!(
            r#"{{
    "userId": "{target}",
    "role": "WRITE"
  }}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "success": true }));
    assert!(roles(&srv, &ws_admin_token, &ws)
        .await
        .contains(&(target.clone(), "WRITE".to_string())));

    // 404: the seed's literal example id names nobody.
    let (status, body) =
        add(&srv, &ws_admin_token, &ws, json!({ "userId": "user-456", "role": "WRITE" })).await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "Target user not found");
    let (status, body) =
        add(&srv, &ws_admin_token, &ws, json!({ "userId": uuid::Uuid::now_v7(), "role": "READ" }))
            .await;
    assert_eq!((status.as_u16(), body["message"].as_str()), (404, Some("Target user not found")));

    // 403: not an ADMIN of the workspace nor an org administrator.
    let (status, body) =
        add(&srv, &outsider_token, &ws, json!({ "userId": target, "role": "READ" })).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to manage workspace users");
    // A WRITE member is not enough either.
    let writer_token = srv.token_for(&org, &target).await;
    let (status, body) =
        add(&srv, &writer_token, &ws, json!({ "userId": target, "role": "ADMIN" })).await;
    assert_eq!(
        (status.as_u16(), body["message"].as_str()),
        (403, Some("Insufficient permissions to manage workspace users"))
    );

    // 400: the caller's account is not validated.
    let (invited, invited_token) = srv.user_with_token(&org, "Ivan", "Administrator").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{invited}"))
            .json(&json!({ "statusName": "Invited" })),
    )
    .await;
    let (status, body) =
        add(&srv, &invited_token, &ws, json!({ "userId": target, "role": "READ" })).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(body["message"], "User not found or account is not validated");

    // 400: bad body or role.
    for bad in [
        json!({ "userId": target, "role": "OWNER" }),
        json!({ "userId": target, "role": "write" }),
        json!({ "userId": target }),
        json!({ "role": "READ" }),
        json!("nope"),
    ] {
        let (status, body) = add(&srv, &ws_admin_token, &ws, bad).await;
        assert_flashback_error(status, &body, 400);
    }
    let (status, body) = send(
        srv.bearer(&ws_admin_token, Method::POST, &format!("/workspace/{ws}/users"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_flashback_error(status, &body, 400);

    // 401: missing or invalid token.
    let (status, body) = send(
        srv.client
            .post(srv.url(&format!("/workspace/{ws}/users")))
            .json(&json!({ "userId": target, "role": "READ" })),
    )
    .await;
    assert_flashback_error(status, &body, 401);
    let (status, body) =
        add(&srv, "pct_garbage", &ws, json!({ "userId": target, "role": "READ" })).await;
    assert_flashback_error(status, &body, 401);
}

#[tokio::test]
async fn existing_members_get_their_role_updated_and_the_last_admin_is_protected() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (creator, token) = srv.user_with_token(&org, "Cara", "Workspaces").await;
    let other = srv.create_user(&org, "Omar", "omar@acme.example", "User").await;
    let ws = create(&srv, &token, "Analytics").await;
    assert_eq!(roles(&srv, &token, &ws).await, vec![(creator.clone(), "ADMIN".to_string())]);

    add(&srv, &token, &ws, json!({ "userId": other, "role": "READ" })).await;
    let (status, _) = add(&srv, &token, &ws, json!({ "userId": other, "role": "WRITE" })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(roles(&srv, &token, &ws).await.contains(&(other.clone(), "WRITE".to_string())));
    assert_eq!(roles(&srv, &token, &ws).await.len(), 2, "no duplicate membership");

    // The last ADMIN can be neither demoted (POST or PUT) nor removed.
    let (status, body) = add(&srv, &token, &ws, json!({ "userId": creator, "role": "READ" })).await;
    assert_flashback_error(status, &body, 400);
    assert!(body["message"].as_str().unwrap().contains("last ADMIN"));
    let me = format!("/workspace/{ws}/users/{creator}");
    let (status, body) =
        send(srv.bearer(&token, Method::PUT, &me).json(&json!({ "role": "WRITE" }))).await;
    assert_flashback_error(status, &body, 400);
    let (status, body) = send(srv.bearer(&token, Method::DELETE, &me)).await;
    assert_flashback_error(status, &body, 400);

    // With a second ADMIN it works.
    let them = format!("/workspace/{ws}/users/{other}");
    let (status, body) =
        send(srv.bearer(&token, Method::PUT, &them).json(&json!({ "role": "ADMIN" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(srv.bearer(&token, Method::DELETE, &me)).await;
    assert_eq!((status, body["success"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(roles(&srv, &org.token, &ws).await, vec![(other.clone(), "ADMIN".to_string())]);
    // Removing a non-member, or a bad role on PUT.
    let (status, body) = send(srv.bearer(&org.token, Method::DELETE, &me)).await;
    assert_flashback_error(status, &body, 404);
    let (status, body) =
        send(srv.bearer(&org.token, Method::PUT, &them).json(&json!({ "role": "KING" }))).await;
    assert_flashback_error(status, &body, 400);
}

#[tokio::test]
async fn creation_visibility_update_and_soft_delete() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (_, billing_token) = srv.user_with_token(&org, "Bill", "Billing").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    for token in [&user_token, &billing_token] {
        let (status, body) =
            send(srv.bearer(token, Method::POST, "/workspace").json(&json!({ "name": "Nope" })))
                .await;
        assert_flashback_error(status, &body, 403);
    }
    let (status, body) =
        send(srv.bearer(&ws_token, Method::POST, "/workspace").json(&json!({ "name": "  " })))
            .await;
    assert_flashback_error(status, &body, 400);
    let ws = create(&srv, &ws_token, "Growth").await;
    let (_, body) = send(srv.bearer(&ws_token, Method::GET, &format!("/workspace/{ws}"))).await;
    assert_eq!(body["workspace"]["name"], "Growth");
    assert_eq!(body["workspace"]["role"], "ADMIN");
    assert_eq!(body["workspace"]["orgId"], org.id.as_str());

    // Visibility: members and org administrators; others get nothing listed, and reads answer
    // 404 as if the workspace did not exist.
    let (_, mine) = send(srv.bearer(&ws_token, Method::GET, "/workspace")).await;
    assert_eq!(mine["workspaces"].as_array().unwrap().len(), 1);
    let (_, theirs) = send(srv.bearer(&user_token, Method::GET, "/workspace")).await;
    assert_eq!(theirs["workspaces"], json!([]));
    let (status, body) =
        send(srv.bearer(&user_token, Method::GET, &format!("/workspace/{ws}"))).await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "Workspace not found or access denied");
    let (_, owner_view) = send(srv.bearer(&org.token, Method::GET, "/workspace")).await;
    assert_eq!(owner_view["workspaces"].as_array().unwrap().len(), 1);

    // Rename: workspace ADMIN only (or org administrators).
    let path = format!("/workspace/{ws}");
    let (status, body) =
        send(srv.bearer(&user_token, Method::PUT, &path).json(&json!({ "name": "X" }))).await;
    assert_flashback_error(status, &body, 403);
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "name": "Growth team" })))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["workspace"]["name"], "Growth team");

    // Soft delete: gone for every call afterwards.
    let (status, body) = send(srv.bearer(&user_token, Method::DELETE, &path)).await;
    assert_flashback_error(status, &body, 403);
    let (status, body) = send(srv.bearer(&ws_token, Method::DELETE, &path)).await;
    assert_eq!((status, body["success"].as_bool()), (StatusCode::OK, Some(true)));
    for (method, p) in [
        (Method::GET, path.clone()),
        (Method::PUT, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, format!("{path}/users")),
        (Method::POST, format!("{path}/users")),
    ] {
        let (status, body) = send(
            srv.bearer(&ws_token, method, &p)
                .json(&json!({ "name": "x", "userId": org.owner_id, "role": "READ" })),
        )
        .await;
        assert_flashback_error(status, &body, 404);
    }
    let (_, after) = send(srv.bearer(&org.token, Method::GET, "/workspace")).await;
    assert_eq!(after["workspaces"], json!([]));
    let (status, body) = send(srv.bearer(&ws_token, Method::GET, "/workspace/not-a-uuid")).await;
    assert_flashback_error(status, &body, 404);
}

#[tokio::test]
async fn workspaces_are_isolated_between_organizations() {
    let srv = TestServer::start().await;
    let acme = srv.new_org("Acme").await;
    let evil = srv.new_org("Evil").await;
    let ws = create(&srv, &acme.token, "Secret").await;
    let evil_user = srv.create_user(&evil, "Mole", "mole@evil.example", "User").await;

    // The other organization's owner sees nothing and touches nothing.
    let path = format!("/workspace/{ws}");
    for (method, p) in [
        (Method::GET, path.clone()),
        (Method::PUT, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, format!("{path}/users")),
        (Method::POST, format!("{path}/users")),
        (Method::PUT, format!("{path}/users/{}", acme.owner_id)),
        (Method::DELETE, format!("{path}/users/{}", acme.owner_id)),
    ] {
        let (status, body) = send(
            srv.bearer(&evil.token, method, &p)
                .json(&json!({ "name": "x", "userId": evil_user, "role": "ADMIN" })),
        )
        .await;
        assert_flashback_error(status, &body, 404);
    }
    let (_, list) = send(srv.bearer(&evil.token, Method::GET, "/workspace")).await;
    assert_eq!(list["workspaces"], json!([]));

    // A user of another organization cannot be added.
    let (status, body) =
        add(&srv, &acme.token, &ws, json!({ "userId": evil_user, "role": "READ" })).await;
    assert_eq!((status.as_u16(), body["message"].as_str()), (404, Some("Target user not found")));
    assert_eq!(roles(&srv, &acme.token, &ws).await.len(), 1);
}

/// The documented WorkspaceUser object.
fn assert_workspace_user(member: &Value) {
    assert!(member["userId"].is_string() && member["role"].is_string(), "{member}");
    let user = &member["user"];
    assert_eq!(user["id"], member["userId"], "{member}");
    for key in ["name", "lastName", "email"] {
        assert!(user[key].is_string(), "{key}: {member}");
    }
    assert!(user["orgRole"].is_u64(), "{member}");
}

#[tokio::test]
async fn post_workspace_answers_201_with_id_name_and_org_id() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (status, body) =
        send(srv.bearer(&org.token, Method::POST, "/workspace").json(&json!({ "name": "Data" })))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["workspace"]["id"].is_string());
    assert_eq!(body["workspace"]["name"], "Data");
    assert_eq!(body["workspace"]["orgId"], org.id.as_str());
    let (status, body) =
        send(srv.bearer(&user_token, Method::POST, "/workspace").json(&json!({ "name": "X" })))
            .await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to create workspaces");
}

#[tokio::test]
async fn get_workspaces_and_get_workspace_carry_their_users() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ws = create(&srv, &org.token, "Data").await;
    let reader = srv.create_user(&org, "Rita Reader", "rita@acme.example", "Billing").await;
    let (status, _) = add(&srv, &org.token, &ws, json!({ "userId": reader, "role": "READ" })).await;
    assert_eq!(status, StatusCode::OK);

    let (status, list) = send(srv.bearer(&org.token, Method::GET, "/workspace")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let users = list["workspaces"][0]["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{list}");
    users.iter().for_each(assert_workspace_user);

    let (status, one) =
        send(srv.bearer(&org.token, Method::GET, &format!("/workspace/{ws}"))).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["workspace"]["orgId"], org.id.as_str());
    let users = one["workspace"]["users"].as_array().unwrap();
    let rita = users.iter().find(|u| u["userId"] == reader.as_str()).unwrap();
    assert_workspace_user(rita);
    assert_eq!(rita["role"], "READ");
    assert_eq!(
        (rita["user"]["name"].as_str(), rita["user"]["lastName"].as_str()),
        (Some("Rita"), Some("Reader"))
    );
    assert_eq!(rita["user"]["email"], "rita@acme.example");
    assert_eq!(rita["user"]["orgRole"], 1);
    let owner = users.iter().find(|u| u["userId"] == org.owner_id.as_str()).unwrap();
    assert_eq!(
        (owner["role"].as_str(), owner["user"]["orgRole"].as_u64()),
        (Some("ADMIN"), Some(255))
    );

    // Our extension `GET /workspace/{id}/users` gives the same objects.
    let (_, members) =
        send(srv.bearer(&org.token, Method::GET, &format!("/workspace/{ws}/users"))).await;
    members["users"].as_array().unwrap().iter().for_each(assert_workspace_user);
    // Not found and not visible read the same.
    let (status, body) =
        send(srv.bearer(&org.token, Method::GET, &format!("/workspace/{}", uuid::Uuid::now_v7())))
            .await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "Workspace not found or access denied");
}

#[tokio::test]
async fn put_and_delete_workspace_answer_their_documented_shapes() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let ws = create(&srv, &org.token, "Data").await;
    let path = format!("/workspace/{ws}");

    // The name is optional: without it nothing changes.
    let (status, body) = send(srv.bearer(&org.token, Method::PUT, &path).json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["success"].as_bool(), body["workspace"]["name"].as_str()),
        (Some(true), Some("Data"))
    );
    let (status, body) =
        send(srv.bearer(&org.token, Method::PUT, &path).json(&json!({ "name": "Data team" })))
            .await;
    assert_eq!((status, body["workspace"]["name"].as_str()), (StatusCode::OK, Some("Data team")));
    assert_eq!(body["workspace"]["orgId"], org.id.as_str());

    // Not an ADMIN of the workspace (WORKSPACES role alone is not enough for someone else's).
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "name": "X" }))).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to update workspace");
    let (status, body) = send(srv.bearer(&ws_token, Method::DELETE, &path)).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to delete workspace");
    let unknown = format!("/workspace/{}", uuid::Uuid::now_v7());
    let (status, body) =
        send(srv.bearer(&org.token, Method::PUT, &unknown).json(&json!({ "name": "X" }))).await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "Workspace not found");

    let (status, body) = send(srv.bearer(&org.token, Method::DELETE, &path)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
}

#[tokio::test]
async fn put_and_delete_workspace_user_answer_user_not_found_in_workspace() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ws = create(&srv, &org.token, "Data").await;
    let outsider = srv.create_user(&org, "Otto", "otto@acme.example", "User").await;
    for id in [outsider.clone(), uuid::Uuid::now_v7().to_string(), "user-456".to_string()] {
        let path = format!("/workspace/{ws}/users/{id}");
        let (status, body) =
            send(srv.bearer(&org.token, Method::PUT, &path).json(&json!({ "role": "READ" }))).await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(body["message"], "User not found in workspace");
        let (status, body) = send(srv.bearer(&org.token, Method::DELETE, &path)).await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(body["message"], "User not found in workspace");
    }
}
