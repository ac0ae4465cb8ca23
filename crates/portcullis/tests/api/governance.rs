//! Policies, requests and tasks: every policy level, request type, transition and error code.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, Org, TestServer};

async fn post(srv: &TestServer, org: &Org, path: &str, body: Value) -> (StatusCode, Value) {
    send(srv.api(org, Method::POST, path).json(&body)).await
}

async fn get(srv: &TestServer, org: &Org, path: &str) -> (StatusCode, Value) {
    send(srv.api(org, Method::GET, path)).await
}

/// Creates a policy and returns its id.
async fn policy(srv: &TestServer, org: &Org, request_type: &str, steps: Value) -> String {
    let (status, body) = post(
        srv,
        org,
        "/api/v1/Policies",
        json!({ "name": format!("P {}", uuid::Uuid::now_v7()), "requestType": request_type, "steps": steps }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().to_string()
}

/// The auto-approve system policy of a request type.
async fn auto_approve(srv: &TestServer, org: &Org, request_type: &str) -> String {
    let (_, body) =
        get(srv, org, &format!("/api/v1/Policies/CompatiblePolicies/{request_type}")).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["steps"].as_array().unwrap().is_empty() && p["isSystem"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn set_app_policy(
    srv: &TestServer,
    org: &Org,
    app: &str,
    request_type: &str,
    policy_id: &str,
) {
    let path = format!("/api/v1/WorkApps/{app}/Policies/{request_type}");
    let (status, body) =
        send(srv.api(org, Method::PUT, &path).json(&json!({ "policyId": policy_id }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn request(srv: &TestServer, org: &Org, kind: &str, body: Value) -> Value {
    let (status, created) = post(srv, org, &format!("/api/v1/Requests/{kind}"), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"].clone()
}

async fn reload(srv: &TestServer, org: &Org, request_id: &str) -> Value {
    let (status, body) = get(srv, org, &format!("/api/v1/Requests/{request_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

fn open_task(request: &Value) -> String {
    request["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "Open")
        .unwrap_or_else(|| panic!("no open task: {request}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn decide_with(srv: &TestServer, token: &str, task: &str, verb: &str) -> (StatusCode, Value) {
    send(srv.bearer(token, Method::POST, &format!("/api/v1/Tasks/{task}/{verb}"))).await
}

#[tokio::test]
async fn system_policies_are_seeded_and_custom_policies_validated() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, body) = get(&srv, &org, "/api/v1/Policies").await;
    assert_eq!(status, StatusCode::OK);
    let all = body["data"].as_array().unwrap();
    assert_eq!(all.len(), 10, "a default and an auto-approve policy per request type");
    let default = |t: &str| {
        all.iter().find(|p| p["requestType"] == t && p["isDefault"] == true).unwrap().clone()
    };
    assert_eq!(
        default("GrantAccessRequest")["steps"],
        json!([{ "approver": "Manager" }, { "approver": "AppOwner" }])
    );
    assert_eq!(
        default("ChangePermissionLevelRequest")["steps"],
        json!([{ "approver": "Manager" }, { "approver": "AppOwner" }])
    );
    assert_eq!(default("RemoveAccessRequest")["steps"], json!([{ "approver": "AppOwner" }]));
    assert_eq!(
        default("AddNewManagedWorkAppRequest")["steps"],
        json!([{ "approver": "Administrators" }])
    );
    assert_eq!(default("ArchiveWorkAppRequest")["steps"], json!([{ "approver": "AppOwner" }]));

    let (_, compatible) =
        get(&srv, &org, "/api/v1/Policies/CompatiblePolicies/RemoveAccessRequest").await;
    assert_eq!(compatible["data"].as_array().unwrap().len(), 2);
    assert!(compatible["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["requestType"] == "RemoveAccessRequest"));
    let path = "/api/v1/Policies/CompatiblePolicies/MakeCoffeeRequest";
    let (status, body) = get(&srv, &org, path).await;
    assert_problem(status, &body, 400, path);

    let user = srv.create_user(&org, "Uma", "uma@acme.example", "User").await;
    let id = policy(
        &srv,
        &org,
        "GrantAccessRequest",
        json!([{ "approver": "User", "userId": user }, { "approver": "Administrators" }]),
    )
    .await;
    let (status, body) = get(&srv, &org, &format!("/api/v1/Policies/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["version"], 1);
    assert_eq!(body["data"]["steps"][0]["userId"], user.as_str());
    let (_, filtered) = get(&srv, &org, "/api/v1/Policies?requestType=GrantAccessRequest").await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), 3);
    assert_eq!(filtered["links"]["self"], "/api/v1/Policies?requestType=GrantAccessRequest");

    let cases = [
        (json!({ "name": "x", "requestType": "Nope", "steps": [] }), 400),
        (
            json!({ "name": "x", "requestType": "GrantAccessRequest", "steps": [{ "approver": "Boss" }] }),
            400,
        ),
        (
            json!({ "name": "x", "requestType": "GrantAccessRequest", "steps": [{ "approver": "User" }] }),
            400,
        ),
        (
            json!({ "name": "x", "requestType": "GrantAccessRequest", "steps": [{ "approver": "Manager", "userId": user }] }),
            400,
        ),
        (
            json!({ "name": "x", "requestType": "GrantAccessRequest", "steps": [{ "approver": "User", "userId": uuid::Uuid::now_v7() }] }),
            404,
        ),
        (
            json!({ "name": "x", "requestType": "GrantAccessRequest", "steps": [{ "approver": "GroupMembers", "groupId": uuid::Uuid::now_v7() }] }),
            404,
        ),
        (json!({ "name": "", "requestType": "GrantAccessRequest" }), 400),
    ];
    for (payload, code) in cases {
        let (status, body) = post(&srv, &org, "/api/v1/Policies", payload).await;
        assert_problem(status, &body, code, "/api/v1/Policies");
    }
    let other = srv.new_org("Other").await;
    let path = format!("/api/v1/Policies/{id}");
    let (status, body) = get(&srv, &other, &path).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn policy_assignment_errors() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let (app, levels) = srv.create_app(&org, "Jira", &["Viewer"]).await;
    let (_, other_levels) = srv.create_app(&org, "Figma", &["Editor"]).await;
    let grant = auto_approve(&srv, &org, "GrantAccessRequest").await;
    let remove = auto_approve(&srv, &org, "RemoveAccessRequest").await;
    let foreign = auto_approve(&srv, &other, "GrantAccessRequest").await;
    let ghost = uuid::Uuid::now_v7().to_string();

    let app_path = |a: &str, t: &str| format!("/api/v1/WorkApps/{a}/Policies/{t}");
    let level_path = |a: &str, l: &str, t: &str| {
        format!("/api/v1/WorkApps/{a}/PermissionLevels/{l}/Policies/{t}")
    };
    let cases: Vec<(String, Value, u16)> = vec![
        (app_path(&app, "GrantAccessRequest"), json!({ "policyId": grant }), 204),
        (app_path(&ghost, "GrantAccessRequest"), json!({ "policyId": grant }), 404),
        (app_path(&app, "GrantAccessRequest"), json!({ "policyId": ghost }), 404),
        (app_path(&app, "GrantAccessRequest"), json!({ "policyId": foreign }), 404),
        (app_path(&app, "GrantAccessRequest"), json!({ "policyId": remove }), 409),
        (app_path(&app, "Whatever"), json!({ "policyId": grant }), 400),
        (app_path(&app, "GrantAccessRequest"), json!({ "policy": grant }), 400),
        (level_path(&app, &levels[0], "GrantAccessRequest"), json!({ "policyId": grant }), 204),
        (
            level_path(&app, &other_levels[0], "GrantAccessRequest"),
            json!({ "policyId": grant }),
            404,
        ),
        (level_path(&app, &ghost, "GrantAccessRequest"), json!({ "policyId": grant }), 404),
        (level_path(&app, &levels[0], "GrantAccessRequest"), json!({ "policyId": remove }), 409),
        (level_path(&app, &levels[0], "Bad"), json!({ "policyId": grant }), 400),
    ];
    for (path, payload, code) in cases {
        let (status, body) = send(srv.api(&org, Method::PUT, &path).json(&payload)).await;
        if code == 204 {
            assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {body}");
        } else {
            assert_problem(status, &body, code, &path);
        }
    }
    // The other organization cannot assign policies to this app.
    let path = app_path(&app, "GrantAccessRequest");
    let (status, body) =
        send(srv.api(&other, Method::PUT, &path).json(&json!({ "policyId": foreign }))).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn default_two_step_policy_walks_manager_then_owner_then_manual_action() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (manager, manager_token) = srv.user_with_token(&org, "Mona", "User").await;
    let (owner, owner_token) = srv.user_with_token(&org, "Otto", "User").await;
    let (_, bystander_token) = srv.user_with_token(&org, "Bea", "User").await;
    let (user, user_token) = srv.user_with_token(&org, "Ursula", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{user}"))
            .json(&json!({ "managerId": manager })),
    )
    .await;
    let (app, levels) = srv
        .create_app_with(
            &org,
            json!({ "name": "Salesforce", "ownerIds": [owner] }),
            &["Standard", "Admin"],
        )
        .await;

    // The employee asks for themselves with their own token.
    let (status, created) = send(srv.bearer(&user_token, Method::POST, "/api/v1/Requests/GrantAccess").json(&json!({
        "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0], "justification": "quarterly forecast"
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let r = &created["data"];
    assert_eq!(r["status"], "Pending");
    assert_eq!(r["createdByUserId"], user.as_str());
    assert_eq!(r["policyVersion"], 1);
    assert_eq!(r["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(r["tasks"][0]["assigneeIds"], json!([manager]));
    let request_id = r["id"].as_str().unwrap().to_string();
    let step1 = open_task(r);

    // A bystander may not decide; the requester neither.
    for token in [&bystander_token, &user_token] {
        let (status, body) = decide_with(&srv, token, &step1, "Approve").await;
        assert_problem(status, &body, 403, &format!("/api/v1/Tasks/{step1}/Approve"));
    }
    let (status, body) = decide_with(&srv, &manager_token, &step1, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Approved");
    assert_eq!(body["data"]["executedByUser"]["id"], manager.as_str());
    assert_eq!(body["data"]["request"]["requestStatus"], "Pending");
    assert_eq!(body["data"]["request"]["requestPurpose"], "quarterly forecast");
    // Deciding it again is a conflict.
    let (status, body) = decide_with(&srv, &manager_token, &step1, "Decline").await;
    assert_problem(status, &body, 409, &format!("/api/v1/Tasks/{step1}/Decline"));

    let r = reload(&srv, &org, &request_id).await;
    let step2 = open_task(&r);
    assert_eq!(r["tasks"][1]["assigneeIds"], json!([owner]));
    let (status, _) = decide_with(&srv, &owner_token, &step2, "Approve").await;
    assert_eq!(status, StatusCode::OK);

    // Manual provisioning: the request is Approved and its action task is open for the owner.
    let r = reload(&srv, &org, &request_id).await;
    assert_eq!(r["status"], "Approved");
    let action = open_task(&r);
    let (_, task) = get(&srv, &org, &format!("/api/v1/Tasks/{action}")).await;
    assert_eq!(task["data"]["type"], "Action");
    assert_eq!(task["data"]["isActionStep"], true);
    assert_eq!(task["data"]["isAutoprovisioning"], false);
    assert_eq!(task["data"]["assignedUser"]["id"], owner.as_str());
    assert!(srv.accesses(&org, &app).await.is_empty(), "nothing granted before the action");

    let (status, body) = decide_with(&srv, &owner_token, &action, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Completed");
    let r = reload(&srv, &org, &request_id).await;
    assert_eq!(r["status"], "Completed");
    let accesses = srv.accesses(&org, &app).await;
    assert_eq!(accesses.len(), 1);
    assert_eq!(accesses[0]["user"]["id"], user.as_str());
    assert_eq!(accesses[0]["permissionLevel"]["id"], levels[0].as_str());
    assert_eq!(accesses[0]["source"], "Request");

    // Now that the user holds the app, another grant is a conflict.
    let (status, body) = post(
        &srv,
        &org,
        "/api/v1/Requests/GrantAccess",
        json!({
            "workAppId": app, "targetUserId": user, "permissionLevelId": levels[1]
        }),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/GrantAccess");
}

#[tokio::test]
async fn unresolvable_approvers_fall_back_to_administrators_and_automatic_apps_complete() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let admin = srv.create_user(&org, "Adam", "adam@acme.example", "Administrator").await;
    let user = srv.create_user(&org, "Nomanager", "nm@acme.example", "User").await;
    let (app, _) = srv
        .create_app_with(&org, json!({ "name": "Zoom", "provisioningMode": "Automatic" }), &[])
        .await;
    let r =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    let mut expected = vec![org.owner_id.clone(), admin.clone()];
    expected.sort();
    let mut got: Vec<String> = r["tasks"][0]["assigneeIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, expected, "no manager: the administrators and owners review");

    // An API credential decides on behalf of the org (optionally naming the user).
    let t1 = open_task(&r);
    let (status, body) = post(
        &srv,
        &org,
        &format!("/api/v1/Tasks/{t1}/Approve"),
        json!({ "userId": admin, "comment": "fine" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["comment"], "fine");
    let r = reload(&srv, &org, r["id"].as_str().unwrap()).await;
    let t2 = open_task(&r);
    let (status, _) = post(&srv, &org, &format!("/api/v1/Tasks/{t2}/Approve"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let r = reload(&srv, &org, r["id"].as_str().unwrap()).await;
    assert_eq!(r["status"], "Completed", "automatic provisioning completes at once");
    let action =
        r["tasks"].as_array().unwrap().iter().find(|t| t["type"] == "Action").unwrap().clone();
    assert_eq!(action["status"], "Completed");
    let (_, task) =
        get(&srv, &org, &format!("/api/v1/Tasks/{}", action["id"].as_str().unwrap())).await;
    assert_eq!(task["data"]["isAutoprovisioning"], true);
    assert_eq!(srv.accesses(&org, &app).await.len(), 1);
}

#[tokio::test]
async fn declines_cancel_the_rest_and_manual_action_decline_fails_the_request() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv
        .create_app_with(&org, json!({ "name": "Figma", "ownerIds": [org.owner_id] }), &[])
        .await;

    let r =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    let t = open_task(&r);
    let (status, body) =
        post(&srv, &org, &format!("/api/v1/Tasks/{t}/Decline"), json!({ "comment": "no budget" }))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Declined");
    let r = reload(&srv, &org, r["id"].as_str().unwrap()).await;
    assert_eq!(r["status"], "Declined");
    assert!(r["tasks"].as_array().unwrap().iter().all(|t| t["status"] != "Open"));
    assert!(srv.accesses(&org, &app).await.is_empty());
    for verb in ["Approve", "Decline"] {
        let path = format!("/api/v1/Tasks/{t}/{verb}");
        let (status, body) = post(&srv, &org, &path, json!({})).await;
        assert_problem(status, &body, 409, &path);
    }

    // Auto-approve policy on a Manual app: straight to the action; declining it fails the request.
    set_app_policy(
        &srv,
        &org,
        &app,
        "GrantAccessRequest",
        &auto_approve(&srv, &org, "GrantAccessRequest").await,
    )
    .await;
    let r =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    assert_eq!(r["status"], "Approved");
    assert_eq!(r["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(r["tasks"][0]["type"], "Action");
    let t = open_task(&r);
    let (status, _) = post(&srv, &org, &format!("/api/v1/Tasks/{t}/Decline"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let r = reload(&srv, &org, r["id"].as_str().unwrap()).await;
    assert_eq!(r["status"], "Failed");
    assert!(srv.accesses(&org, &app).await.is_empty());
}

#[tokio::test]
async fn resolution_order_is_level_then_app_then_default() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let reviewer = srv.create_user(&org, "Rita", "rita@acme.example", "User").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, levels) = srv
        .create_app_with(
            &org,
            json!({ "name": "AWS", "provisioningMode": "Automatic" }),
            &["ReadOnly", "Admin"],
        )
        .await;
    let (_, policies) =
        get(&srv, &org, "/api/v1/Policies/CompatiblePolicies/GrantAccessRequest").await;
    let default_id =
        policies["data"].as_array().unwrap().iter().find(|p| p["isDefault"] == true).unwrap()["id"]
            .clone();

    // Org default.
    let r = request(
        &srv,
        &org,
        "GrantAccess",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0] }),
    )
    .await;
    assert_eq!(r["policyId"], default_id);
    send(srv.api(
        &org,
        Method::POST,
        &format!("/api/v1/Requests/{}/Cancel", r["id"].as_str().unwrap()),
    ))
    .await;

    // App policy: auto-approve for every level...
    let auto = auto_approve(&srv, &org, "GrantAccessRequest").await;
    set_app_policy(&srv, &org, &app, "GrantAccessRequest", &auto).await;
    // ...except Admin, which needs Rita.
    let rita = policy(
        &srv,
        &org,
        "GrantAccessRequest",
        json!([{ "approver": "User", "userId": reviewer }]),
    )
    .await;
    let path = format!(
        "/api/v1/WorkApps/{app}/PermissionLevels/{}/Policies/GrantAccessRequest",
        levels[1]
    );
    assert_eq!(
        send(srv.api(&org, Method::PUT, &path).json(&json!({ "policyId": rita }))).await.0,
        StatusCode::NO_CONTENT
    );

    let r = request(
        &srv,
        &org,
        "GrantAccess",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[1] }),
    )
    .await;
    assert_eq!(r["policyId"], rita.as_str());
    assert_eq!(r["status"], "Pending");
    assert_eq!(r["tasks"][0]["assigneeIds"], json!([reviewer]));
    send(srv.api(
        &org,
        Method::POST,
        &format!("/api/v1/Requests/{}/Cancel", r["id"].as_str().unwrap()),
    ))
    .await;

    let r = request(
        &srv,
        &org,
        "GrantAccess",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0] }),
    )
    .await;
    assert_eq!(r["policyId"], auto.as_str());
    assert_eq!(r["status"], "Completed", "zero steps on an Automatic app: done at once");
    assert_eq!(srv.accesses(&org, &app).await.len(), 1);
}

#[tokio::test]
async fn remove_change_and_app_level_request_types() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, levels) = srv
        .create_app_with(
            &org,
            json!({ "name": "Jira", "provisioningMode": "Automatic", "ownerIds": [org.owner_id] }),
            &["Viewer", "Editor"],
        )
        .await;
    for t in ["RemoveAccessRequest", "ChangePermissionLevelRequest"] {
        set_app_policy(&srv, &org, &app, t, &auto_approve(&srv, &org, t).await).await;
    }
    // Remove / change without an access: conflicts.
    let (status, body) = post(
        &srv,
        &org,
        "/api/v1/Requests/RemoveAccess",
        json!({ "workAppId": app, "targetUserId": user }),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/RemoveAccess");
    let (status, body) = post(
        &srv,
        &org,
        "/api/v1/Requests/ChangePermission",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[1] }),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/ChangePermission");

    srv.bulk_grant(
        &org,
        json!([{ "workAppId": app, "userId": user, "permissionLevelId": levels[0] }]),
    )
    .await;
    let (status, body) = post(
        &srv,
        &org,
        "/api/v1/Requests/ChangePermission",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0] }),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/ChangePermission");
    let r = request(
        &srv,
        &org,
        "ChangePermission",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[1] }),
    )
    .await;
    assert_eq!(r["status"], "Completed");
    assert_eq!(srv.accesses(&org, &app).await[0]["permissionLevel"]["id"], levels[1].as_str());

    let r = request(&srv, &org, "RemoveAccess", json!({ "workAppId": app, "targetUserId": user }))
        .await;
    assert_eq!(r["status"], "Completed");
    assert!(srv.accesses(&org, &app).await.is_empty());

    // Add an Unmanaged app as Managed: the Administrators review it.
    let (shadow, _) = srv
        .create_app_with(&org, json!({ "name": "Shadow IT", "statusName": "Unmanaged" }), &[])
        .await;
    let r = request(
        &srv,
        &org,
        "AddNewManagedWorkApp",
        json!({ "workAppId": shadow, "justification": "in use" }),
    )
    .await;
    assert_eq!(r["tasks"][0]["assigneeIds"], json!([org.owner_id]));
    let (status, _) =
        post(&srv, &org, &format!("/api/v1/Tasks/{}/Approve", open_task(&r)), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = get(&srv, &org, &format!("/api/v1/WorkApps/{shadow}")).await;
    assert_eq!(got["data"]["statusName"], "Managed");
    let (status, body) =
        post(&srv, &org, "/api/v1/Requests/AddNewManagedWorkApp", json!({ "workAppId": shadow }))
            .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/AddNewManagedWorkApp");

    // Archive: the app owner reviews it.
    let r = request(&srv, &org, "ArchiveWorkApp", json!({ "workAppId": app })).await;
    assert_eq!(r["tasks"][0]["assigneeIds"], json!([org.owner_id]));
    post(&srv, &org, &format!("/api/v1/Tasks/{}/Approve", open_task(&r)), json!({})).await;
    let (_, got) = get(&srv, &org, &format!("/api/v1/WorkApps/{app}")).await;
    assert_eq!(got["data"]["statusName"], "Archived");
    let (status, body) = post(
        &srv,
        &org,
        "/api/v1/Requests/GrantAccess",
        json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0] }),
    )
    .await;
    assert_problem(status, &body, 409, "/api/v1/Requests/GrantAccess");
}

#[tokio::test]
async fn request_validation_open_request_conflicts_and_cancellation() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let foreign_user = srv.create_user(&other, "Fred", "fred@other.example", "User").await;
    let (app, levels) = srv.create_app(&org, "Jira", &["Viewer"]).await;
    let (plain, _) = srv.create_app(&org, "Notion", &[]).await;
    let (_, other_levels) = srv.create_app(&org, "Figma", &["Editor"]).await;
    let (foreign_app, _) = srv.create_app(&other, "Notion", &[]).await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let path = "/api/v1/Requests/GrantAccess";
    let cases = [
        (json!({ "workAppId": app, "targetUserId": user }), 400),
        (json!({ "workAppId": plain, "targetUserId": user, "permissionLevelId": levels[0] }), 400),
        (
            json!({ "workAppId": app, "targetUserId": user, "permissionLevelId": other_levels[0] }),
            404,
        ),
        (json!({ "workAppId": ghost, "targetUserId": user }), 404),
        (json!({ "workAppId": plain, "targetUserId": ghost }), 404),
        (json!({ "workAppId": foreign_app, "targetUserId": user }), 404),
        (json!({ "workAppId": plain, "targetUserId": foreign_user }), 404),
        (json!({ "workAppId": plain, "targetUserId": user, "createdByUserId": foreign_user }), 404),
        (json!({ "workAppId": plain }), 400),
        (json!({ "workAppId": "nope", "targetUserId": user }), 400),
        (
            json!({ "workAppId": plain, "targetUserId": user, "expiresAt": "2001-01-01T00:00:00Z" }),
            400,
        ),
        (json!({ "workAppId": plain, "targetUserId": user, "colour": "red" }), 400),
    ];
    for (payload, code) in cases {
        let (status, body) = post(&srv, &org, path, payload.clone()).await;
        assert_problem(status, &body, code, path);
    }

    let r = request(&srv, &org, "GrantAccess", json!({ "workAppId": plain, "targetUserId": user }))
        .await;
    let (status, body) =
        post(&srv, &org, path, json!({ "workAppId": plain, "targetUserId": user })).await;
    assert_problem(status, &body, 409, path);

    let cancel = format!("/api/v1/Requests/{}/Cancel", r["id"].as_str().unwrap());
    let (status, body) = send(srv.api(&org, Method::POST, &cancel)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Cancelled");
    assert!(body["data"]["tasks"].as_array().unwrap().iter().all(|t| t["status"] == "Cancelled"));
    let (status, body) = send(srv.api(&org, Method::POST, &cancel)).await;
    assert_problem(status, &body, 409, &cancel);
    // Once cancelled, a new request may be opened.
    request(&srv, &org, "GrantAccess", json!({ "workAppId": plain, "targetUserId": user })).await;

    // Another organization sees none of it.
    for p in [
        format!("/api/v1/Requests/{}", r["id"].as_str().unwrap()),
        format!("/api/v1/Tasks/{}", r["tasks"][0]["id"].as_str().unwrap()),
    ] {
        let (status, body) = get(&srv, &other, &p).await;
        assert_problem(status, &body, 404, &p);
    }
    let (_, list) = get(&srv, &other, "/api/v1/Requests").await;
    assert_eq!(list["data"], json!([]));
    let p = format!("/api/v1/Tasks/{}/Approve", r["tasks"][0]["id"].as_str().unwrap());
    let (status, body) = post(&srv, &other, &p, json!({})).await;
    assert_problem(status, &body, 404, &p);
}

#[tokio::test]
async fn listings_filter_and_users_only_see_their_own() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (ann, ann_token) = srv.user_with_token(&org, "Ann", "User").await;
    let bob = srv.create_user(&org, "Bob", "bob@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    let (app2, _) = srv.create_app(&org, "Miro", &[]).await;
    let r1 =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": ann })).await;
    request(&srv, &org, "GrantAccess", json!({ "workAppId": app2, "targetUserId": bob })).await;

    let (_, all) = get(&srv, &org, "/api/v1/Requests").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let (_, by_user) = get(&srv, &org, &format!("/api/v1/Requests?targetUserId={bob}")).await;
    assert_eq!(by_user["data"].as_array().unwrap().len(), 1);
    let (_, by_app) =
        get(&srv, &org, &format!("/api/v1/Requests?workAppId={app}&status=Pending")).await;
    assert_eq!(by_app["data"][0]["id"], r1["id"]);
    let (_, none) = get(&srv, &org, "/api/v1/Requests?status=Completed").await;
    assert_eq!(none["data"], json!([]));
    let (status, body) = get(&srv, &org, "/api/v1/Requests?status=Nope").await;
    assert_problem(status, &body, 400, "/api/v1/Requests");

    let (_, mine) = send(srv.bearer(&ann_token, Method::GET, "/api/v1/Requests")).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1, "a user sees only requests about them");
    let (_, tasks) = get(
        &srv,
        &org,
        &format!("/api/v1/Tasks?requestId={}&status=Open", r1["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(tasks["data"].as_array().unwrap().len(), 1);
    let (_, owner_tasks) =
        get(&srv, &org, &format!("/api/v1/Tasks?assigneeUserId={}", org.owner_id)).await;
    assert_eq!(owner_tasks["data"].as_array().unwrap().len(), 2);
    let (_, ann_tasks) = send(srv.bearer(&ann_token, Method::GET, "/api/v1/Tasks")).await;
    assert_eq!(ann_tasks["data"], json!([]), "Ann is assigned nothing");
}

#[tokio::test]
async fn editing_a_used_policy_makes_a_new_version_and_running_requests_keep_theirs() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let first = srv.create_user(&org, "First", "first@acme.example", "User").await;
    let second = srv.create_user(&org, "Second", "second@acme.example", "User").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let user2 = srv.create_user(&org, "Ben", "ben@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    let p = policy(
        &srv,
        &org,
        "GrantAccessRequest",
        json!([{ "approver": "User", "userId": first }, { "approver": "User", "userId": first }]),
    )
    .await;
    // Unused: edits rewrite version 1.
    let path = format!("/api/v1/Policies/{p}");
    let (_, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "name": "Two reviews by First" })))
            .await;
    assert_eq!(body["data"]["version"], 1);
    set_app_policy(&srv, &org, &app, "GrantAccessRequest", &p).await;
    let running =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    assert_eq!(running["policyVersion"], 1);

    let (status, body) = send(srv.api(&org, Method::PATCH, &path).json(&json!({
        "steps": [{ "approver": "User", "userId": second }, { "approver": "User", "userId": second }]
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["version"], 2);

    // The running request's second step still follows version 1 (First), new ones version 2.
    post(&srv, &org, &format!("/api/v1/Tasks/{}/Approve", open_task(&running)), json!({})).await;
    let running = reload(&srv, &org, running["id"].as_str().unwrap()).await;
    assert_eq!(running["tasks"][1]["assigneeIds"], json!([first]));
    let fresh =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user2 }))
            .await;
    assert_eq!(fresh["policyVersion"], 2);
    assert_eq!(fresh["tasks"][0]["assigneeIds"], json!([second]));
}

#[tokio::test]
async fn concurrent_decisions_on_one_task_have_exactly_one_winner() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv
        .create_app_with(&org, json!({ "name": "Notion", "provisioningMode": "Automatic" }), &[])
        .await;
    let p =
        policy(&srv, &org, "GrantAccessRequest", json!([{ "approver": "Administrators" }])).await;
    set_app_policy(&srv, &org, &app, "GrantAccessRequest", &p).await;
    let r =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    let task = open_task(&r);
    let mut handles = Vec::new();
    for i in 0..16 {
        let client = srv.client.clone();
        let url = srv.url(&format!(
            "/api/v1/Tasks/{task}/{}",
            if i % 2 == 0 { "Approve" } else { "Decline" }
        ));
        let (key, secret) = (org.key.clone(), org.secret.clone());
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .header("X-API-KEY", key)
                .header("X-API-SECRET", secret)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 15, "{statuses:?}");
    let r = reload(&srv, &org, r["id"].as_str().unwrap()).await;
    let granted = srv.accesses(&org, &app).await.len();
    match r["status"].as_str().unwrap() {
        "Completed" => assert_eq!(granted, 1),
        "Declined" => assert_eq!(granted, 0),
        other => panic!("unexpected final status {other}"),
    }
}

#[tokio::test]
async fn read_only_credentials_cannot_request_or_decide() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, body) = post(
        &srv,
        &org,
        "/api/v1/ApiCredentials",
        json!({ "name": "ro", "accessLevel": "ReadOnly" }),
    )
    .await;
    let mut ro = org.clone();
    ro.key = body["data"]["apiKey"].as_str().unwrap().to_string();
    ro.secret = body["data"]["apiSecret"].as_str().unwrap().to_string();
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    let r =
        request(&srv, &org, "GrantAccess", json!({ "workAppId": app, "targetUserId": user })).await;
    let task = open_task(&r);
    for (path, payload) in [
        (
            "/api/v1/Requests/GrantAccess".to_string(),
            json!({ "workAppId": app, "targetUserId": org.owner_id }),
        ),
        (format!("/api/v1/Tasks/{task}/Approve"), json!({})),
        (format!("/api/v1/Requests/{}/Cancel", r["id"].as_str().unwrap()), json!({})),
        (
            "/api/v1/Policies".to_string(),
            json!({ "name": "x", "requestType": "GrantAccessRequest" }),
        ),
        (
            format!("/api/v1/WorkApps/{app}/Policies/GrantAccessRequest"),
            json!({ "policyId": task }),
        ),
    ] {
        let method = if path.contains("/Policies/Grant") { Method::PUT } else { Method::POST };
        let (status, body) = send(srv.api(&ro, method, &path).json(&payload)).await;
        assert_problem(status, &body, 403, &path);
    }
    let (status, _) = get(&srv, &ro, &format!("/api/v1/Tasks/{task}")).await;
    assert_eq!(status, StatusCode::OK);
}
