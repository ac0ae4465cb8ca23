//! `/api/v1/WorkApps`: apps, permission levels, accesses and the seed-000 bulk grant.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, TestServer};

const BULK: &str = "/api/v1/WorkApps/Accesses";

#[tokio::test]
async fn create_and_read_work_apps_with_cakewalk_fields() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let owner = srv.create_user(&org, "Olga", "olga@acme.example", "User").await;
    let (status, body) = send(srv.api(&org, Method::POST, "/api/v1/WorkApps").json(&json!({
        "name": "GitHub", "description": "Code hosting", "ownerIds": [owner, owner],
        "provisioningMode": "Automatic", "url": "https://github.com"
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let app = &body["data"];
    let id = app["id"].as_str().unwrap();
    for field in [
        "id",
        "name",
        "categoryName",
        "statusName",
        "url",
        "imageUrl",
        "description",
        "tagLine",
        "serverLocations",
        "certifications",
        "customFields",
        "defaultUsersGroups",
        "hiddenUsersGroups",
        "numberOfAccounts",
        "isBundle",
        "owner",
        "statusId",
        "categoryId",
    ] {
        assert!(app.get(field).is_some(), "missing {field}: {app}");
    }
    assert_eq!(app["statusName"], "Managed");
    assert_eq!(app["statusId"], 1);
    assert_eq!(app["provisioningMode"], "Automatic");
    assert_eq!(app["ownerIds"], json!([owner]), "duplicate owners collapse");
    assert_eq!(app["owner"]["id"], owner.as_str());
    assert_eq!(app["owner"]["name"], "Olga");
    assert_eq!(app["numberOfAccounts"], 0);

    let path = format!("/api/v1/WorkApps/{id}");
    let (status, got) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["data"]["name"], "GitHub");
    assert_eq!(got["links"]["self"], path);

    let (status, list) = send(srv.api(&org, Method::GET, "/api/v1/WorkApps")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // Errors: duplicate name (case-insensitive), unknown owner, bad mode, archived at birth.
    let cases = [
        (json!({ "name": "github" }), 409),
        (json!({ "name": "X", "ownerIds": [uuid::Uuid::now_v7()] }), 404),
        (json!({ "name": "X", "provisioningMode": "Sometimes" }), 400),
        (json!({ "name": "X", "statusName": "Archived" }), 400),
        (json!({ "name": "" }), 400),
        (json!({ "name": "X", "colour": "red" }), 400),
    ];
    for (payload, code) in cases {
        let (status, body) =
            send(srv.api(&org, Method::POST, "/api/v1/WorkApps").json(&payload)).await;
        assert_problem(status, &body, code, "/api/v1/WorkApps");
    }
    let path = format!("/api/v1/WorkApps/{}", uuid::Uuid::now_v7());
    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn patch_updates_and_archives_an_app() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    srv.create_app(&org, "Zoom", &[]).await;
    let path = format!("/api/v1/WorkApps/{app}");
    let (status, body) = send(srv.api(&org, Method::PATCH, &path).json(&json!({
        "description": "Chat", "provisioningMode": "Automatic", "ownerIds": [org.owner_id]
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], "Chat");
    assert_eq!(body["data"]["provisioningMode"], "Automatic");
    assert_eq!(body["data"]["ownerIds"], json!([org.owner_id]));

    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "name": "zoom" }))).await;
    assert_problem(status, &body, 409, &path);

    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "statusName": "Archived" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["statusName"], "Archived");
    assert_eq!(body["data"]["statusId"], 3);

    // Granting access to an archived app is a conflict.
    let (status, body) =
        srv.bulk_grant(&org, json!([{ "workAppId": app, "userId": org.owner_id }])).await;
    assert_problem(status, &body, 409, BULK);
}

#[tokio::test]
async fn permission_levels_are_unique_per_app_and_listed() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (app, levels) = srv.create_app(&org, "Jira", &["Viewer", "Editor"]).await;
    let (other_app, _) = srv.create_app(&org, "Confluence", &["Viewer"]).await;
    assert!(!other_app.is_empty(), "the same level name on another app is fine");
    let path = format!("/api/v1/WorkApps/{app}/PermissionLevels");
    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], levels[0].as_str());
    let keys: Vec<&str> = data[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5, "PermissionLevelViewModelV1 has no extra fields: {keys:?}");
    assert_eq!(data[0]["description"], "Viewer", "description defaults to the name");

    let (status, body) =
        send(srv.api(&org, Method::POST, &path).json(&json!({ "name": "EDITOR" }))).await;
    assert_problem(status, &body, 409, &path);
    let (status, body) = send(
        srv.api(&org, Method::POST, &path)
            .json(&json!({ "name": "Admin", "isDefault": true, "isPrivileged": true })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["isPrivileged"], true);

    let ghost = format!("/api/v1/WorkApps/{}/PermissionLevels", uuid::Uuid::now_v7());
    let (status, body) = send(srv.api(&org, Method::GET, &ghost)).await;
    assert_problem(status, &body, 404, &ghost);
    let (status, body) =
        send(srv.api(&org, Method::POST, &ghost).json(&json!({ "name": "x" }))).await;
    assert_problem(status, &body, 404, &ghost);
}

#[tokio::test]
async fn seed_request_grants_and_regrant_updates_the_level() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, levels) = srv
        .create_app_with(
            &org,
            json!({ "name": "Google Workspace", "ownerIds": [org.owner_id] }),
            &["Member", "Admin"],
        )
        .await;
    let (plain, _) = srv.create_app(&org, "Notion", &[]).await;

    // The seed's request, verbatim in shape; 201 with an empty body.
    let response = srv
        .api(&org, Method::POST, BULK)
        .header("Accept", "*/*")
        .json(&json!({ "data": [
            { "workAppId": app, "userId": user, "permissionLevelId": levels[0] },
            { "workAppId": plain, "userId": user, "permissionLevelId": null },
            { "workAppId": app, "userId": org.owner_id, "permissionLevelId": levels[1] },
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.bytes().await.unwrap().is_empty(), "201 has an empty body");

    let accesses = srv.accesses(&org, &app).await;
    assert_eq!(accesses.len(), 2);
    let ann = accesses.iter().find(|a| a["user"]["id"] == user.as_str()).unwrap();
    assert_eq!(ann["permissionLevel"]["id"], levels[0].as_str());
    assert_eq!(ann["permissionLevel"]["name"], "Member");
    assert_eq!(ann["isOwner"], false);
    assert_eq!(ann["source"], "Direct");
    assert_eq!(ann["user"]["email"], "ann@acme.example");
    let owner = accesses.iter().find(|a| a["user"]["id"] == org.owner_id.as_str()).unwrap();
    assert_eq!(owner["isOwner"], true);
    let notion = srv.accesses(&org, &plain).await;
    assert_eq!(notion[0]["permissionLevel"], Value::Null);

    // Re-granting updates the level; duplicates in one call collapse (the last one wins).
    let (status, body) = srv
        .bulk_grant(
            &org,
            json!([
                { "workAppId": app, "userId": user, "permissionLevelId": levels[0] },
                { "workAppId": app, "userId": user, "permissionLevelId": levels[1] },
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let accesses = srv.accesses(&org, &app).await;
    assert_eq!(accesses.len(), 2);
    let ann = accesses.iter().find(|a| a["user"]["id"] == user.as_str()).unwrap();
    assert_eq!(ann["permissionLevel"]["id"], levels[1].as_str());

    let (_, got) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{app}"))).await;
    assert_eq!(got["data"]["numberOfAccounts"], 2);
}

#[tokio::test]
async fn every_bulk_error_case_answers_its_status_and_writes_nothing() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, levels) = srv.create_app(&org, "Jira", &["Viewer"]).await;
    let (plain, _) = srv.create_app(&org, "Notion", &[]).await;
    let (second, second_levels) = srv.create_app(&org, "Figma", &["Editor"]).await;
    let foreign_user = srv.create_user(&other, "Fred", "fred@other.example", "User").await;
    let (foreign_app, foreign_levels) = srv.create_app(&other, "Jira", &["Viewer"]).await;
    let ghost = uuid::Uuid::now_v7().to_string();
    // A valid access that must survive every failed call unchanged.
    let (status, _) = srv
        .bulk_grant(
            &org,
            json!([{ "workAppId": app, "userId": org.owner_id, "permissionLevelId": levels[0] }]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let good = json!({ "workAppId": plain, "userId": user });
    let cases: Vec<(&str, Value, u16)> = vec![
        ("unknown app", json!({ "workAppId": ghost, "userId": user }), 404),
        ("unknown user", json!({ "workAppId": plain, "userId": ghost }), 404),
        (
            "unknown level",
            json!({ "workAppId": app, "userId": user, "permissionLevelId": ghost }),
            404,
        ),
        (
            "level of another app",
            json!({ "workAppId": app, "userId": user, "permissionLevelId": second_levels[0] }),
            404,
        ),
        ("missing level", json!({ "workAppId": app, "userId": user }), 400),
        (
            "null level on app with levels",
            json!({ "workAppId": app, "userId": user, "permissionLevelId": null }),
            400,
        ),
        (
            "level on app without levels",
            json!({ "workAppId": plain, "userId": user, "permissionLevelId": levels[0] }),
            400,
        ),
        (
            "app of another org",
            json!({ "workAppId": foreign_app, "userId": user, "permissionLevelId": foreign_levels[0] }),
            404,
        ),
        ("user of another org", json!({ "workAppId": plain, "userId": foreign_user }), 404),
        (
            "level of another org",
            json!({ "workAppId": app, "userId": user, "permissionLevelId": foreign_levels[0] }),
            404,
        ),
        ("non-uuid app", json!({ "workAppId": "abc", "userId": user }), 400),
        ("non-uuid user", json!({ "workAppId": plain, "userId": 42 }), 400),
        ("missing workAppId", json!({ "userId": user }), 400),
        ("missing userId", json!({ "workAppId": plain }), 400),
        ("unknown field", json!({ "workAppId": plain, "userId": user, "role": "x" }), 400),
        (
            "past expiry",
            json!({ "workAppId": plain, "userId": user, "expiresAt": "2000-01-01T00:00:00Z" }),
            400,
        ),
    ];
    for (name, bad, code) in cases {
        // The bad entry comes last, after valid ones: nothing at all may be written.
        let batch = json!([good, { "workAppId": second, "userId": user, "permissionLevelId": second_levels[0] }, bad]);
        let (status, body) = srv.bulk_grant(&org, batch).await;
        assert_eq!(status.as_u16(), code, "{name}: {body}");
        assert_problem(status, &body, code, BULK);
        for a in [&plain, &second] {
            assert!(srv.accesses(&org, a).await.is_empty(), "{name}: a partial write leaked");
        }
        let kept = srv.accesses(&org, &app).await;
        assert_eq!(kept.len(), 1, "{name}");
        assert_eq!(kept[0]["permissionLevel"]["id"], levels[0].as_str(), "{name}");
    }

    // Batch shape errors.
    let (status, body) = srv.bulk_grant(&org, json!([])).await;
    assert_problem(status, &body, 400, BULK);
    let too_many: Vec<Value> = (0..10_001).map(|_| good.clone()).collect();
    let (status, body) = srv.bulk_grant(&org, Value::Array(too_many)).await;
    assert_problem(status, &body, 400, BULK);
    for payload in [json!({}), json!({ "data": null }), json!({ "data": {} }), json!([good])] {
        let (status, body) = send(srv.api(&org, Method::POST, BULK).json(&payload)).await;
        assert_problem(status, &body, 400, BULK);
    }
    // The other organization's data is untouched and invisible.
    assert!(srv.accesses(&other, &foreign_app).await.is_empty());
    let path = format!("/api/v1/WorkApps/{app}/Accesses");
    let (status, body) = send(srv.api(&other, Method::GET, &path)).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn a_full_10000_entry_batch_is_accepted_in_one_call() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (app, levels) = srv.create_app(&org, "Okta", &["User"]).await;
    // 10,000 entries over 100 users x 100 apps would need 100 apps; instead 10,000 duplicates of
    // 100 distinct (user, app) pairs checks both the limit and the collapsing.
    let mut users = Vec::new();
    for i in 0..100 {
        users.push(
            srv.create_user(&org, &format!("U{i}"), &format!("u{i}@acme.example"), "User").await,
        );
    }
    let entries: Vec<Value> = (0..10_000)
        .map(|i| json!({ "workAppId": app, "userId": users[i % 100], "permissionLevelId": levels[0] }))
        .collect();
    let (status, body) = srv.bulk_grant(&org, Value::Array(entries)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let accesses = srv.accesses(&org, &app).await;
    assert_eq!(accesses.len(), 100);
}

#[tokio::test]
async fn delete_access_and_cross_organization_isolation() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let evil = srv.new_org("Evil").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    srv.bulk_grant(&org, json!([{ "workAppId": app, "userId": user }])).await;

    let path = format!("/api/v1/WorkApps/{app}/Accesses/{user}");
    let (status, body) = send(srv.api(&evil, Method::DELETE, &path)).await;
    assert_problem(status, &body, 404, &path);
    for (method, sub) in [
        (Method::GET, ""),
        (Method::PATCH, ""),
        (Method::GET, "/Accesses"),
        (Method::GET, "/PermissionLevels"),
        (Method::POST, "/PermissionLevels"),
    ] {
        let p = format!("/api/v1/WorkApps/{app}{sub}");
        let (status, body) = send(srv.api(&evil, method, &p).json(&json!({ "name": "x" }))).await;
        assert_problem(status, &body, 404, &p);
    }
    let (_, list) = send(srv.api(&evil, Method::GET, "/api/v1/WorkApps")).await;
    assert_eq!(list["data"], json!([]));

    let (status, _) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(srv.accesses(&org, &app).await.is_empty());
    let (status, body) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn expired_accesses_vanish_from_reads_and_the_sweep_removes_them_with_an_audit_row() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    let soon = srv.timestamp_in(chrono::Duration::hours(1));
    let (status, body) = srv
        .bulk_grant(
            &org,
            json!([
                { "workAppId": app, "userId": user, "expiresAt": soon },
                { "workAppId": app, "userId": org.owner_id },
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let live = srv.accesses(&org, &app).await;
    assert_eq!(live.len(), 2);
    assert!(live.iter().any(|a| a["expiresAt"].is_string()));

    // A millisecond before the expiry the access is live and the sweep leaves it alone.
    srv.clock.advance(chrono::Duration::hours(1) - chrono::Duration::milliseconds(1));
    assert_eq!(srv.accesses(&org, &app).await.len(), 2);
    assert_eq!(srv.service.sweep_expired_accesses().await.unwrap(), 0);

    // At the expiry instant it is gone from reads, even though no sweep has removed it yet.
    srv.clock.advance(chrono::Duration::milliseconds(1));
    let live = srv.accesses(&org, &app).await;
    assert_eq!(live.len(), 1, "expired access is hidden before any sweep");
    let (_, got) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{app}"))).await;
    assert_eq!(got["data"]["numberOfAccounts"], 1);

    assert_eq!(srv.service.sweep_expired_accesses().await.unwrap(), 1);
    assert_eq!(srv.service.sweep_expired_accesses().await.unwrap(), 0);
    let rows = srv.db.strings("SELECT user_id FROM accesses").await.unwrap();
    assert_eq!(rows, vec![org.owner_id.clone()]);
    let audited = srv
        .db
        .strings("SELECT actor_type || ' ' || before_json FROM audit_events WHERE action = 'access.expired'")
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(audited[0].starts_with("system "));
    assert!(audited[0].contains(&user));
}
