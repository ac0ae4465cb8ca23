//! The Flashback organization and user API, call by call as its reference documents it (objects,
//! wrapper keys, status codes, messages) and as its public TypeScript client reads it.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_flashback_error, send, Org, TestServer};

/// Every key of the documented OrgUser object, with its JSON type.
fn assert_org_user(user: &Value) {
    let keys: Vec<&str> = user.as_object().expect("object").keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "deletedAt",
            "email",
            "id",
            "lastName",
            "name",
            "orgId",
            "orgRole",
            "orgRoleDescription",
            "orgRoles",
            "validated"
        ],
        "{user}"
    );
    assert!(user["orgRole"].is_u64() && user["validated"].is_boolean(), "{user}");
    assert!(user["orgRoles"].is_array() && user["orgRoleDescription"].is_string(), "{user}");
}

async fn create_via_flashback(srv: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    send(srv.bearer(token, Method::POST, "/organization/users").json(&body)).await
}

/// A user made with the public client's own body (password and invite flags included).
async fn client_created_user(srv: &TestServer, org: &Org, email: &str, role: u8) -> Value {
    let (status, body) = create_via_flashback(
        srv,
        &org.token,
        json!({
            "email": email, "password": "SecurePassword123!", "firstName": "New",
            "lastName": "User", "orgRole": role, "sendInvite": true, "provider": "local",
            "authMethod": "LOCAL"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn post_organization_users_creates_an_unvalidated_user_and_answers_201() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, body) = create_via_flashback(
        &srv,
        &org.token,
        json!({
            "email": "new@acme.example", "password": "SecurePassword123!", "firstName": "New",
            "lastName": "User", "orgRole": 0, "sendInvite": true
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["message"].as_str().unwrap().starts_with("User created successfully."));
    let user = &body["data"];
    assert_org_user(user);
    assert_eq!(user["name"], "New");
    assert_eq!(user["lastName"], "User");
    assert_eq!(user["email"], "new@acme.example");
    assert_eq!(user["orgId"], org.id.as_str());
    assert_eq!(user["orgRole"], 0);
    assert_eq!(user["orgRoleDescription"], "USER");
    assert_eq!(user["orgRoles"], json!([0]));
    assert_eq!(user["validated"], false);
    assert_eq!(user["deletedAt"], Value::Null);

    // orgRole defaults to USER; the invitation is an audited, published event.
    let (status, body) = create_via_flashback(
        &srv,
        &org.token,
        json!({ "email": "plain@acme.example", "firstName": "Plain", "lastName": "Person" }),
    )
    .await;
    assert_eq!((status, body["data"]["orgRole"].as_u64()), (StatusCode::CREATED, Some(0)));
    let (_, log) = send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=user.invited")).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 2, "{log}");
    // Cakewalk's view of the same user keeps working: one name, and the Invited status.
    let id = body["data"]["id"].as_str().unwrap();
    let (_, cakewalk) = send(srv.api(&org, Method::GET, &format!("/api/v1/users/{id}"))).await;
    assert_eq!(cakewalk["data"]["name"], "Plain Person");
    assert_eq!(cakewalk["data"]["statusName"], "Invited");
    assert_eq!(cakewalk["data"]["roleName"], "User");
}

#[tokio::test]
async fn post_organization_users_errors() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (_, admin_token) = srv.user_with_token(&org, "Ada", "Administrator").await;
    let body = json!({ "email": "x@acme.example", "firstName": "X", "lastName": "Y" });
    let (status, answer) = create_via_flashback(&srv, &user_token, body).await;
    assert_flashback_error(status, &answer, 403);
    assert_eq!(answer["message"], "Insufficient permissions to create users");
    // Nobody creates a role above their own.
    let above =
        json!({ "email": "o@acme.example", "firstName": "O", "lastName": "P", "orgRole": 255 });
    let (status, answer) = create_via_flashback(&srv, &admin_token, above).await;
    assert_flashback_error(status, &answer, 403);
    for (bad, expected) in [
        (
            json!({ "email": "r@acme.example", "firstName": "R", "lastName": "S", "orgRole": 3 }),
            400,
        ),
        (json!({ "email": "nope", "firstName": "R", "lastName": "S" }), 400),
        (json!({ "email": "r@acme.example", "lastName": "S" }), 400),
        (json!({ "email": "r@acme.example", "firstName": " ", "lastName": "S" }), 400),
        (json!({ "email": "OWNER@ACME.EXAMPLE", "firstName": "D", "lastName": "U" }), 409),
    ] {
        let (status, answer) = create_via_flashback(&srv, &org.token, bad.clone()).await;
        assert_flashback_error(status, &answer, expected);
    }
}

#[tokio::test]
async fn get_organization_users_lists_data_and_total_for_workspaces_and_above() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (_, billing_token) = srv.user_with_token(&org, "Bill", "Billing").await;
    client_created_user(&srv, &org, "new@acme.example", 1).await;

    let (status, body) = send(srv.bearer(&ws_token, Method::GET, "/organization/users")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let users = body["data"].as_array().unwrap();
    assert_eq!((users.len(), body["total"].as_u64()), (4, Some(4)));
    users.iter().for_each(assert_org_user);
    let owner = users.iter().find(|u| u["id"] == org.owner_id.as_str()).unwrap();
    assert_eq!(owner["orgRole"], 255);
    assert_eq!(owner["orgRoleDescription"], "OWNER");
    assert_eq!(owner["orgRoles"], json!([0, 1, 2, 254, 255]));
    assert_eq!(owner["validated"], true);

    // Below WORKSPACES: 403 with an empty list and a zero total.
    let (status, body) = send(srv.bearer(&billing_token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!((body["data"].clone(), body["total"].clone()), (json!([]), json!(0)));
    assert_eq!(body["message"], "Insufficient permissions to view users");
}

#[tokio::test]
async fn get_organization_user_answers_the_bare_object() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (ws_id, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;

    let (status, body) =
        send(srv.bearer(&org.token, Method::GET, &format!("/organization/users/{ws_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_org_user(&body);
    assert_eq!(body["id"], ws_id.as_str());
    assert_eq!(body["orgRole"], 2);
    assert_eq!(body["orgRoleDescription"], "WORKSPACES");
    assert_eq!(body["orgRoles"], json!([0, 1, 2]));
    assert_eq!(body["validated"], true);
    assert_eq!(body["name"], "Wes");

    let (status, body) =
        send(srv.bearer(&user_token, Method::GET, &format!("/organization/users/{ws_id}"))).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to view users");
    for missing in [uuid::Uuid::now_v7().to_string(), "user-456".to_string()] {
        let (status, body) =
            send(srv.bearer(&ws_token, Method::GET, &format!("/organization/users/{missing}")))
                .await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(body["message"], "User not found");
    }
}

#[tokio::test]
async fn put_organization_user_changes_names_and_numeric_role() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let new = client_created_user(&srv, &org, "new@acme.example", 0).await;
    let path = format!("/organization/users/{}", new["id"].as_str().unwrap());

    let (status, body) = send(
        srv.bearer(&ws_token, Method::PUT, &path)
            .json(&json!({ "name": "Renamed", "lastName": "Person", "orgRole": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["success"].as_bool(), body["message"].as_str()),
        (Some(true), Some("User updated successfully"))
    );
    assert_org_user(&body["data"]);
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(body["data"]["lastName"], "Person");
    assert_eq!(body["data"]["orgRole"], 1);
    assert_eq!(body["data"]["orgRoleDescription"], "BILLING");
    // The change is really stored (a role change that answers 200 and changes nothing is a bug).
    let (_, stored) = send(srv.bearer(&ws_token, Method::GET, &path)).await;
    assert_eq!((stored["orgRole"].clone(), stored["name"].clone()), (json!(1), json!("Renamed")));

    // 400 "Invalid role combination" with `data: {}`; 403 below WORKSPACES or above one's role.
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": 7 }))).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(
        (body["message"].as_str(), body["data"].clone()),
        (Some("Invalid role combination"), json!({}))
    );
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": 254 }))).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to update users");
    let (status, body) =
        send(srv.bearer(&user_token, Method::PUT, &path).json(&json!({ "name": "X" }))).await;
    assert_flashback_error(status, &body, 403);
    let unknown = format!("/organization/users/{}", uuid::Uuid::now_v7());
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &unknown).json(&json!({ "name": "X" }))).await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "User not found");
}

#[tokio::test]
async fn delete_organization_user_soft_deletes_and_activate_restores() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (ws_id, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (victim_id, victim_token) = srv.user_with_token(&org, "Vic", "User").await;
    let path = format!("/organization/users/{victim_id}");

    let (status, body) = send(srv.bearer(&victim_token, Method::GET, "/user/profile")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(srv.bearer(&victim_token, Method::DELETE, &path)).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(body["message"], "Insufficient permissions to delete users");
    let (status, body) =
        send(srv.bearer(&ws_token, Method::DELETE, &format!("/organization/users/{ws_id}"))).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(body["message"], "Cannot delete yourself");

    let (status, body) = send(srv.bearer(&ws_token, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "success": true, "message": "User deleted successfully" }));
    // deletedAt is set, the row stays, and the user's token stops working at once.
    let (_, stored) = send(srv.bearer(&ws_token, Method::GET, &path)).await;
    assert!(stored["deletedAt"].is_string(), "{stored}");
    let (status, body) = send(srv.bearer(&victim_token, Method::GET, "/user/profile")).await;
    assert_flashback_error(status, &body, 401);
    let (_, cakewalk) =
        send(srv.api(&org, Method::GET, &format!("/api/v1/users/{victim_id}"))).await;
    assert_eq!(cakewalk["data"]["statusName"], "Deactivated");

    let activate = format!("{path}/activate");
    let (status, body) = send(srv.bearer(&victim_token, Method::POST, &activate)).await;
    assert_flashback_error(status, &body, 401);
    let (status, body) = send(srv.bearer(&ws_token, Method::POST, &activate)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "success": true, "message": "User activated successfully" }));
    let (_, stored) = send(srv.bearer(&ws_token, Method::GET, &path)).await;
    assert_eq!(
        (stored["deletedAt"].clone(), stored["validated"].clone()),
        (Value::Null, json!(true))
    );
    // The deletion revoked the user's tokens for good: restoring the user revives none of them;
    // a new token works.
    let (status, body) = send(srv.bearer(&victim_token, Method::GET, "/user/profile")).await;
    assert_flashback_error(status, &body, 401);
    let fresh = srv.token_for(&org, &victim_id).await;
    let (status, _) = send(srv.bearer(&fresh, Method::GET, "/user/profile")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = send(srv.bearer(&ws_token, Method::POST, &activate)).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(body["message"], "User is not deleted");
    let unknown = format!("/organization/users/{}", uuid::Uuid::now_v7());
    for (method, p) in
        [(Method::DELETE, unknown.clone()), (Method::POST, format!("{unknown}/activate"))]
    {
        let (status, body) = send(srv.bearer(&ws_token, method, &p)).await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(body["message"], "User not found");
    }
}

#[tokio::test]
async fn the_last_owner_can_be_neither_deleted_nor_demoted() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, admin_token) = srv.user_with_token(&org, "Ada", "Administrator").await;
    let owner_path = format!("/organization/users/{}", org.owner_id);
    // An ADMINISTRATOR may not touch an OWNER at all.
    let (status, body) = send(srv.bearer(&admin_token, Method::DELETE, &owner_path)).await;
    assert_flashback_error(status, &body, 403);
    // The owner may not demote themselves while they are the last one.
    let (status, body) = send(
        srv.bearer(&org.token, Method::PUT, &format!("/user/{}/role", org.owner_id))
            .json(&json!({ "orgRole": 0 })),
    )
    .await;
    assert_flashback_error(status, &body, 409);
}

#[tokio::test]
async fn post_resend_invitation_records_the_invitation_again() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let new = client_created_user(&srv, &org, "new@acme.example", 0).await;
    let path = format!("/organization/users/{}/resend-invitation", new["id"].as_str().unwrap());
    let (status, body) = send(srv.bearer(&org.token, Method::POST, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["message"].is_string());
    let (_, log) = send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=user.invited")).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 2, "{log}");

    let (status, body) = send(srv.bearer(&user_token, Method::POST, &path)).await;
    assert_flashback_error(status, &body, 403);
    let validated = format!("/organization/users/{}/resend-invitation", org.owner_id);
    let (status, body) = send(srv.bearer(&org.token, Method::POST, &validated)).await;
    assert_flashback_error(status, &body, 400);
}

#[tokio::test]
async fn get_organization_answers_every_field_in_data() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, user_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (status, body) =
        send(srv.bearer(&user_token, Method::GET, &format!("/organization/{}", org.id))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let data = &body["data"];
    assert_eq!(data["id"], org.id.as_str());
    assert_eq!(data["name"], "Acme");
    assert!(data["domain"].as_str().is_some_and(|d| !d.is_empty()), "{data}");
    for key in [
        "address1",
        "address2",
        "city",
        "zipcode",
        "phone",
        "state",
        "country",
        "website",
        "deletedAt",
    ] {
        assert_eq!(data[key], Value::Null, "{key}: {data}");
    }
    for key in ["reposDisabled", "is_business", "mfaEnforced"] {
        assert_eq!(data[key], false, "{key}: {data}");
    }

    // Another organization's id, or something that is not an id: 404 with `data: null`.
    let other = srv.new_org("Other").await;
    for id in [other.id.as_str(), "org-123"] {
        let (status, body) =
            send(srv.bearer(&user_token, Method::GET, &format!("/organization/{id}"))).await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(
            (body["message"].as_str(), body["data"].clone()),
            (Some("Organization not found"), Value::Null)
        );
    }
}

#[tokio::test]
async fn put_organization_updates_any_subset() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, admin_token) = srv.user_with_token(&org, "Ada", "Administrator").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let path = format!("/organization/{}", org.id);

    let (status, body) = send(srv.bearer(&admin_token, Method::PUT, &path).json(&json!({
        "address1": "1 Main Street", "city": "Lisbon", "zipcode": "1000-001", "country": "PT",
        "phone": "+351 21 000 0000", "website": "https://acme.example", "is_business": true,
        "mfaEnforced": true
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Organization updated successfully");
    let data = &body["data"];
    assert_eq!(
        (data["city"].as_str(), data["is_business"].as_bool(), data["mfaEnforced"].as_bool()),
        (Some("Lisbon"), Some(true), Some(true))
    );
    assert_eq!(data["name"], "Acme", "untouched fields stay");
    // A second subset keeps the first; null clears a field.
    let (status, body) = send(
        srv.bearer(&org.token, Method::PUT, &path)
            .json(&json!({ "name": "Acme Corp", "address1": null })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["data"]["name"].as_str(), body["data"]["city"].as_str()),
        (Some("Acme Corp"), Some("Lisbon"))
    );
    assert_eq!(body["data"]["address1"], Value::Null);
    let (_, read) = send(srv.bearer(&ws_token, Method::GET, &path)).await;
    assert_eq!(read["data"]["website"], "https://acme.example");
    // The profile shows the organization's settings.
    let (_, profile) = send(srv.bearer(&ws_token, Method::GET, "/user/profile")).await;
    assert_eq!(
        (profile["data"]["mfaRequired"].as_bool(), profile["data"]["isBusiness"].as_bool()),
        (Some(true), Some(true))
    );

    // Errors, all with `data: null`.
    let (status, body) =
        send(srv.bearer(&admin_token, Method::PUT, &path).json(&json!({ "domain": "x.example" })))
            .await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(
        (body["message"].as_str(), body["data"].clone()),
        (Some("No valid fields to update"), Value::Null)
    );
    let (status, body) =
        send(srv.bearer(&admin_token, Method::PUT, &path).json(&json!({ "name": "" }))).await;
    assert_flashback_error(status, &body, 400);
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "name": "Hacked" }))).await;
    assert_flashback_error(status, &body, 403);
    assert_eq!(
        body["message"],
        "Insufficient permissions: only OWNER and ADMINISTRATOR roles can modify organization"
    );
    assert_eq!(body["data"], Value::Null);
    let other = srv.new_org("Other").await;
    let (status, body) = send(
        srv.bearer(&admin_token, Method::PUT, &format!("/organization/{}", other.id))
            .json(&json!({ "name": "Pwned" })),
    )
    .await;
    assert_flashback_error(status, &body, 404);
    assert_eq!(body["message"], "Organization not found");
}

#[tokio::test]
async fn get_user_profile_tells_a_client_its_organization_and_role() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (ws_id, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (status, body) = send(srv.bearer(&ws_token, Method::GET, "/user/profile")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let data = &body["data"];
    assert_eq!(data["id"], ws_id.as_str());
    assert_eq!(data["orgId"], org.id.as_str());
    assert_eq!(
        (data["orgRole"].as_u64(), data["orgRoleDescription"].as_str()),
        (Some(2), Some("WORKSPACES"))
    );
    assert_eq!(data["orgRoles"], json!([0, 1, 2]));
    assert_eq!(
        (data["validated"].as_bool(), data["mfaRequired"].as_bool(), data["isBusiness"].as_bool()),
        (Some(true), Some(false), Some(false))
    );
    assert_eq!((data["name"].as_str(), data["lastName"].as_str()), (Some("Wes"), Some("")));
    let (status, body) = send(srv.bearer("not-a-token", Method::GET, "/user/profile")).await;
    assert_flashback_error(status, &body, 401);
}

#[tokio::test]
async fn get_user_by_id_answers_the_role() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (uma_id, uma_token) = srv.user_with_token(&org, "Uma", "User").await;
    let (status, body) =
        send(srv.bearer(&org.token, Method::GET, &format!("/user/{uma_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "success": true, "data": {
            "userId": uma_id, "orgRole": 0, "orgRoleDescription": "USER", "orgRoles": [0]
        }})
    );
    // Oneself: yes; somebody else, below WORKSPACES: no.
    let (status, _) = send(srv.bearer(&uma_token, Method::GET, &format!("/user/{uma_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        send(srv.bearer(&uma_token, Method::GET, &format!("/user/{}", org.owner_id))).await;
    assert_flashback_error(status, &body, 403);
    let (status, body) =
        send(srv.bearer(&org.token, Method::GET, &format!("/user/{}", uuid::Uuid::now_v7()))).await;
    assert_flashback_error(status, &body, 404);
}

#[tokio::test]
async fn put_user_role_changes_the_role_and_reports_both() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, ws_token) = srv.user_with_token(&org, "Wes", "Workspaces").await;
    let (uma_id, _) = srv.user_with_token(&org, "Uma", "User").await;
    let path = format!("/user/{uma_id}/role");
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": 2 }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["userId"], uma_id.as_str());
    assert_eq!(
        (body["data"]["previousRole"].as_u64(), body["data"]["newRole"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(body["data"]["message"].is_string());
    let (_, cakewalk) = send(srv.api(&org, Method::GET, &format!("/api/v1/users/{uma_id}"))).await;
    assert_eq!(cakewalk["data"]["roleName"], "Workspaces");

    // Only roles at or below one's own; only real role numbers.
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": 254 }))).await;
    assert_flashback_error(status, &body, 403);
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": 42 }))).await;
    assert_flashback_error(status, &body, 400);
    let (status, body) =
        send(srv.bearer(&ws_token, Method::PUT, &path).json(&json!({ "orgRole": "ADMIN" }))).await;
    assert_flashback_error(status, &body, 400);
}

#[tokio::test]
async fn put_user_renames_oneself_and_ignores_a_password() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (uma_id, uma_token) = srv.user_with_token(&org, "Uma", "User").await;
    let path = format!("/user/{uma_id}");
    let (status, body) = send(srv.bearer(&uma_token, Method::PUT, &path).json(&json!({
        "name": "Uma", "lastName": "Thurman", "password": "ignored-Secret-1"
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "success": true, "message": "User updated successfully" }));
    let (_, profile) = send(srv.bearer(&uma_token, Method::GET, "/user/profile")).await;
    assert_eq!(profile["data"]["lastName"], "Thurman");
    // Renaming somebody else is directory management.
    let (status, body) = send(
        srv.bearer(&uma_token, Method::PUT, &format!("/user/{}", org.owner_id))
            .json(&json!({ "name": "Mallory" })),
    )
    .await;
    assert_flashback_error(status, &body, 403);
}

#[tokio::test]
async fn organization_users_are_isolated_between_organizations() {
    let srv = TestServer::start().await;
    let acme = srv.new_org("Acme").await;
    let evil = srv.new_org("Evil").await;
    let victim = srv.create_user(&acme, "Vic", "vic@acme.example", "User").await;
    let (_, body) = send(srv.bearer(&evil.token, Method::GET, "/organization/users")).await;
    assert!(body["data"].as_array().unwrap().iter().all(|u| u["orgId"] == evil.id.as_str()));
    for (method, path, payload) in [
        (Method::GET, format!("/organization/users/{victim}"), None),
        (Method::PUT, format!("/organization/users/{victim}"), Some(json!({ "name": "Pwned" }))),
        (Method::DELETE, format!("/organization/users/{victim}"), None),
        (Method::POST, format!("/organization/users/{victim}/activate"), None),
        (Method::POST, format!("/organization/users/{victim}/resend-invitation"), None),
        (Method::GET, format!("/user/{victim}"), None),
        (Method::PUT, format!("/user/{victim}/role"), Some(json!({ "orgRole": 0 }))),
        (Method::PUT, format!("/user/{victim}"), Some(json!({ "name": "Pwned" }))),
    ] {
        let mut request = srv.bearer(&evil.token, method.clone(), &path);
        if let Some(payload) = payload {
            request = request.json(&payload);
        }
        let (status, body) = send(request).await;
        assert_flashback_error(status, &body, 404);
        assert_eq!(body["message"], "User not found", "{method} {path}");
    }
    let (_, still) = send(srv.api(&acme, Method::GET, &format!("/api/v1/users/{victim}"))).await;
    assert_eq!(
        (still["data"]["name"].as_str(), still["data"]["statusName"].as_str()),
        (Some("Vic"), Some("Active"))
    );
}

#[tokio::test]
async fn an_invited_user_is_validated_by_their_first_sign_in() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let new = client_created_user(&srv, &org, "new@acme.example", 2).await;
    let id = new["id"].as_str().unwrap();
    let token = srv.token_for(&org, id).await;
    // Not validated yet: the profile answers, directory calls answer 400.
    let (_, profile) = send(srv.bearer(&token, Method::GET, "/user/profile")).await;
    assert_eq!(profile["data"]["validated"], false);
    let (status, body) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_flashback_error(status, &body, 400);
    assert_eq!(body["message"], "User not found or account is not validated");

    // What the console's sign-in does with the token (the browser test drives the page itself).
    let actor = srv.service.authenticate_bearer(&token).await.expect("token");
    srv.service
        .record_sign_in(&portcullis_service::Ctx::new(actor, None))
        .await
        .expect("sign-in recorded");
    let (_, profile) = send(srv.bearer(&token, Method::GET, "/user/profile")).await;
    assert_eq!(profile["data"]["validated"], true);
    let (status, _) = send(srv.bearer(&token, Method::GET, "/organization/users")).await;
    assert_eq!(status, StatusCode::OK);
}
