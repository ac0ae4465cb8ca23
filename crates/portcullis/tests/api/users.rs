//! `/api/v1/users`: fields, creation rules, pagination, tenancy.
use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{assert_problem, send, TestServer};

#[tokio::test]
async fn user_has_exactly_the_cakewalk_fields() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = format!("/api/v1/users/{}", org.owner_id);
    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_object().unwrap();
    let keys: HashSet<&str> = data.keys().map(String::as_str).collect();
    let expected: HashSet<&str> = [
        "id",
        "name",
        "email",
        "roleId",
        "roleName",
        "statusId",
        "statusName",
        "lastLogin",
        "managerId",
    ]
    .into();
    assert_eq!(keys, expected);
    assert_eq!(data["roleName"], "Owner");
    assert_eq!(data["roleId"], 5);
    assert_eq!(data["statusName"], "Active");
    assert_eq!(data["statusId"], 1);
    assert_eq!(body["links"]["self"], path);
}

#[tokio::test]
async fn create_user_validates_and_rejects_duplicate_emails_case_insensitively() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let manager = srv.create_user(&org, "Mia", "mia@acme.example", "Administrator").await;
    let (status, body) = send(srv.api(&org, Method::POST, "/api/v1/users").json(&json!({
        "name": "Bob", "email": "Bob@Acme.example", "managerId": manager
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["managerId"], manager.as_str());
    assert_eq!(body["data"]["roleName"], "User");
    assert_eq!(body["data"]["statusName"], "Active");
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(body["links"]["self"], format!("/api/v1/users/{id}"));

    let (status, body) = send(
        srv.api(&org, Method::POST, "/api/v1/users")
            .json(&json!({ "name": "Bobby", "email": "bob@ACME.example" })),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/users");

    // The same e-mail is fine in another organization.
    let other = srv.new_org("Other").await;
    srv.create_user(&other, "Bob", "bob@acme.example", "User").await;

    // Unknown manager.
    let (status, body) = send(srv.api(&org, Method::POST, "/api/v1/users").json(&json!({
        "name": "Eve", "email": "eve@acme.example", "managerId": uuid::Uuid::now_v7()
    })))
    .await;
    assert_problem(status, &body, 404, "/api/v1/users");
}

#[tokio::test]
async fn patch_updates_fields_and_guards_managers_and_the_last_owner() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let a = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let b = srv.create_user(&org, "Ben", "ben@acme.example", "User").await;
    let path_a = format!("/api/v1/users/{a}");
    let path_b = format!("/api/v1/users/{b}");

    let (status, body) = send(srv.api(&org, Method::PATCH, &path_a).json(&json!({
        "name": "Ann Smith", "managerId": b, "roleName": "Workspaces"
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Ann Smith");
    assert_eq!(body["data"]["managerId"], b.as_str());
    assert_eq!(body["data"]["roleName"], "Workspaces");
    assert_eq!(body["data"]["roleId"], 3);

    // b -> a would close a loop (a's manager is b).
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path_b).json(&json!({ "managerId": a }))).await;
    assert_problem(status, &body, 409, &path_b);
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path_b).json(&json!({ "managerId": b }))).await;
    assert_problem(status, &body, 409, &path_b);

    // null clears the manager; absent leaves it.
    let (_, body) =
        send(srv.api(&org, Method::PATCH, &path_a).json(&json!({ "name": "Ann" }))).await;
    assert_eq!(body["data"]["managerId"], b.as_str());
    let (_, body) =
        send(srv.api(&org, Method::PATCH, &path_a).json(&json!({ "managerId": null }))).await;
    assert_eq!(body["data"]["managerId"], serde_json::Value::Null);

    // E-mail collision on update.
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path_a).json(&json!({ "email": "BEN@acme.example" })))
            .await;
    assert_problem(status, &body, 409, &path_a);

    // The last active owner can be neither demoted nor deactivated ...
    let owner = format!("/api/v1/users/{}", org.owner_id);
    for change in [json!({ "roleName": "Administrator" }), json!({ "statusName": "Deactivated" })] {
        let (status, body) = send(srv.api(&org, Method::PATCH, &owner).json(&change)).await;
        assert_problem(status, &body, 409, &owner);
    }
    // ... until there is a second one.
    let (status, _) =
        send(srv.api(&org, Method::PATCH, &path_b).json(&json!({ "roleName": "Owner" }))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &owner).json(&json!({ "roleName": "Administrator" })))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Unknown user.
    let ghost = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &ghost).json(&json!({ "name": "X" }))).await;
    assert_problem(status, &body, 404, &ghost);
}

#[tokio::test]
async fn pagination_walks_250_plus_users_without_duplicates_or_gaps_during_inserts() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let mut existing: HashSet<String> = HashSet::from([org.owner_id.clone()]);
    for i in 0..259 {
        existing.insert(
            srv.create_user(&org, &format!("User {i}"), &format!("u{i}@acme.example"), "User")
                .await,
        );
    }

    // Keep inserting while a client walks the pages.
    let writer = {
        let srv_base = srv.base.clone();
        let org = org.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..60 {
                let resp = client
                    .post(format!("{srv_base}/api/v1/users"))
                    .header("X-API-KEY", &org.key)
                    .header("X-API-SECRET", &org.secret)
                    .json(&json!({ "name": format!("Late {i}"), "email": format!("late{i}@acme.example") }))
                    .send()
                    .await
                    .expect("insert");
                assert_eq!(resp.status(), StatusCode::CREATED);
            }
        })
    };

    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/api/v1/users".to_string());
    let mut pages = 0;
    while let Some(link) = next {
        let (status, body) = send(srv.api(&org, Method::GET, &link)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["links"]["self"], link.as_str());
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 100);
        seen.extend(data.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        next = body["links"]["next"].as_str().map(str::to_string);
        pages += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();

    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a user appeared twice");
    assert!(existing.is_subset(&unique), "a user that existed before the walk was skipped");
    assert!(pages >= 3);

    // A fresh walk now sees all 320.
    let mut total = 0;
    let mut next = Some("/api/v1/users".to_string());
    while let Some(link) = next {
        let (_, body) = send(srv.api(&org, Method::GET, &link)).await;
        total += body["data"].as_array().unwrap().len();
        next = body["links"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(total, 320);
}

#[tokio::test]
async fn another_organizations_users_are_invisible_and_untouchable() {
    let srv = TestServer::start().await;
    let acme = srv.new_org("Acme").await;
    let evil = srv.new_org("Evil").await;
    let victim = srv.create_user(&acme, "Vic", "vic@acme.example", "User").await;

    let path = format!("/api/v1/users/{victim}");
    let (status, body) = send(srv.api(&evil, Method::GET, &path)).await;
    assert_problem(status, &body, 404, &path);
    let (status, body) =
        send(srv.api(&evil, Method::PATCH, &path).json(&json!({"name":"Pwned"}))).await;
    assert_problem(status, &body, 404, &path);

    // A manager from another organization is "not found", not linked.
    let (status, body) = send(srv.api(&evil, Method::POST, "/api/v1/users").json(&json!({
        "name": "Mole", "email": "mole@evil.example", "managerId": victim
    })))
    .await;
    assert_problem(status, &body, 404, "/api/v1/users");

    // Tokens cannot be issued for, or revoked from, the other organization's users.
    let tokens = format!("/api/v1/users/{victim}/Tokens");
    let (status, body) =
        send(srv.api(&evil, Method::POST, &tokens).json(&json!({"name":"x"}))).await;
    assert_problem(status, &body, 404, &tokens);

    // Credentials of the other organization cannot be revoked.
    let (_, creds) = send(srv.api(&acme, Method::GET, "/api/v1/ApiCredentials")).await;
    let cred = creds["data"][0]["id"].as_str().unwrap();
    let revoke = format!("/api/v1/ApiCredentials/{cred}");
    let (status, body) = send(srv.api(&evil, Method::DELETE, &revoke)).await;
    assert_problem(status, &body, 404, &revoke);
    assert_eq!(send(srv.api(&acme, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);

    // Listings only ever show one's own rows.
    let (_, list) = send(srv.api(&evil, Method::GET, "/api/v1/users")).await;
    let text = list.to_string();
    assert!(!text.contains(&victim) && !text.contains(&acme.owner_id));
    let (_, list) = send(srv.api(&evil, Method::GET, "/api/v1/ApiCredentials")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_change_writes_one_audit_row_in_the_same_transaction() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let id = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let path = format!("/api/v1/users/{id}");
    send(srv.api(&org, Method::PATCH, &path).json(&json!({ "name": "Ann B" }))).await;
    // A refused change writes nothing.
    send(srv.api(&org, Method::PATCH, &path).json(&json!({ "email": "bad" }))).await;

    let actions = srv
        .db
        .strings("SELECT action || ' by ' || actor_type FROM audit_events ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "organization.created by system",
            "user.created by credential",
            "user.updated by credential"
        ]
    );
    // Nobody can rewrite history, not even with direct SQL access.
    assert!(srv.db.execute("UPDATE audit_events SET action = 'x'").await.is_err());
    assert!(srv.db.execute("DELETE FROM audit_events").await.is_err());
}
