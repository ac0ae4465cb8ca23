//! `/api/v1/UsersGroups`: groups, seed-001 membership with default apps, hidden apps, isolation.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, Org, TestServer};

const GROUPS: &str = "/api/v1/UsersGroups";

async fn group(srv: &TestServer, org: &Org, name: &str) -> String {
    let (status, body) = send(
        srv.api(org, Method::POST, GROUPS).json(&json!({ "name": name, "description": "team" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().unwrap().to_string()
}

async fn put_defaults(
    srv: &TestServer,
    org: &Org,
    group: &str,
    data: Value,
) -> (StatusCode, Value) {
    send(
        srv.api(org, Method::PUT, &format!("{GROUPS}/{group}/DefaultWorkApps"))
            .json(&json!({ "data": data })),
    )
    .await
}

async fn add(srv: &TestServer, org: &Org, group: &str, body: Value) -> (StatusCode, Value) {
    send(srv.api(org, Method::POST, &format!("{GROUPS}/{group}/Users")).json(&body)).await
}

async fn requests_for(srv: &TestServer, org: &Org, user: &str) -> Vec<Value> {
    let (_, body) =
        send(srv.api(org, Method::GET, &format!("/api/v1/Requests?targetUserId={user}"))).await;
    body["data"].as_array().unwrap().clone()
}

async fn members(srv: &TestServer, org: &Org, group: &str) -> Vec<String> {
    let (status, body) = send(srv.api(org, Method::GET, &format!("{GROUPS}/{group}/Users"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn groups_are_created_read_renamed_and_deleted() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let id = group(&srv, &org, "Engineering").await;
    let (status, body) = send(srv.api(&org, Method::GET, &format!("{GROUPS}/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Engineering");
    assert_eq!(body["data"]["numberOfUsers"], 0);
    let (status, body) =
        send(srv.api(&org, Method::POST, GROUPS).json(&json!({ "name": "engineering" }))).await;
    assert_problem(status, &body, 409, GROUPS);
    let (status, body) =
        send(srv.api(&org, Method::POST, GROUPS).json(&json!({ "name": "" }))).await;
    assert_problem(status, &body, 400, GROUPS);
    let path = format!("{GROUPS}/{id}");
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "name": "Eng" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Eng");
    let (_, list) = send(srv.api(&org, Method::GET, GROUPS)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // Case-insensitive paths reach the right route even where segment names repeat
    // (`/users` at the top, `/Users` under a group).
    let (status, body) =
        send(srv.api(&org, Method::GET, &format!("/API/v1/usersgroups/{id}/USERS"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["links"]["self"], format!("{GROUPS}/{id}/Users"));

    let other = srv.new_org("Other").await;
    for (method, sub) in [
        (Method::GET, ""),
        (Method::PATCH, ""),
        (Method::DELETE, ""),
        (Method::GET, "/Users"),
        (Method::GET, "/DefaultWorkApps"),
        (Method::GET, "/HiddenWorkApps"),
    ] {
        let p = format!("{path}{sub}");
        let (status, body) = send(srv.api(&other, method, &p).json(&json!({ "name": "x" }))).await;
        assert_problem(status, &body, 404, &p);
    }
    let (status, _) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn default_and_hidden_apps_are_validated_and_shown_on_apps() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let g = group(&srv, &org, "Sales").await;
    let (crm, levels) = srv.create_app(&org, "CRM", &["Rep", "Manager"]).await;
    let (chat, _) = srv.create_app(&org, "Chat", &[]).await;
    let (_, other_levels) = srv.create_app(&org, "Wiki", &["Reader"]).await;
    let (old, _) = srv.create_app(&org, "Old", &[]).await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/WorkApps/{old}"))
            .json(&json!({ "statusName": "Archived" })),
    )
    .await;
    let (foreign, _) = srv.create_app(&other, "Foreign", &[]).await;
    let path = format!("{GROUPS}/{g}/DefaultWorkApps");
    let cases = [
        (json!([{ "workAppId": crm }]), 400),
        (json!([{ "workAppId": chat, "permissionLevelId": levels[0] }]), 400),
        (json!([{ "workAppId": crm, "permissionLevelId": other_levels[0] }]), 404),
        (json!([{ "workAppId": uuid::Uuid::now_v7() }]), 404),
        (json!([{ "workAppId": foreign }]), 404),
        (json!([{ "workAppId": old }]), 409),
        (json!([{ "workAppId": "nope" }]), 400),
    ];
    for (data, code) in cases {
        let (status, body) = put_defaults(&srv, &org, &g, data).await;
        assert_problem(status, &body, code, &path);
    }
    let (status, body) = put_defaults(
        &srv,
        &org,
        &g,
        json!([{ "workAppId": crm, "permissionLevelId": levels[0] }, { "workAppId": chat }]),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, defaults) = send(srv.api(&org, Method::GET, &path)).await;
    let defaults = defaults["data"].as_array().unwrap();
    assert_eq!(defaults.len(), 2);
    let crm_default = defaults.iter().find(|d| d["id"] == crm.as_str()).unwrap();
    assert_eq!(crm_default["defaultPermissionLevelId"], levels[0].as_str());
    assert_eq!(crm_default["name"], "CRM");

    let hidden = format!("{GROUPS}/{g}/HiddenWorkApps");
    let (status, body) = send(
        srv.api(&org, Method::PUT, &hidden).json(&json!({ "data": [{ "workAppId": foreign }] })),
    )
    .await;
    assert_problem(status, &body, 404, &hidden);
    let (status, _) =
        send(srv.api(&org, Method::PUT, &hidden).json(&json!({ "data": [{ "workAppId": old }] })))
            .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, hidden_list) = send(srv.api(&org, Method::GET, &hidden)).await;
    assert_eq!(hidden_list["data"][0]["id"], old.as_str());

    let (_, app) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{crm}"))).await;
    assert_eq!(app["data"]["defaultUsersGroups"], json!([g]));
    let (_, app) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{old}"))).await;
    assert_eq!(app["data"]["hiddenUsersGroups"], json!([g]));
}

/// A group "New hires" whose default apps are Slack (Automatic, level Member) and Legacy ERP
/// (Manual), with an administrator Adam and two users Ann and Ben to add.
struct NewHires {
    admin: String,
    a: String,
    b: String,
    auto_app: String,
    levels: Vec<String>,
    manual_app: String,
    g: String,
}

/// Who owns Legacy ERP (and so carries out its actions).
enum ManualOwner {
    Admin,
    Ann,
}

async fn new_hires(srv: &TestServer, org: &Org, owner: ManualOwner) -> NewHires {
    let admin = srv.create_user(org, "Adam", "adam@acme.example", "Administrator").await;
    let a = srv.create_user(org, "Ann", "ann@acme.example", "User").await;
    let b = srv.create_user(org, "Ben", "ben@acme.example", "User").await;
    let (auto_app, levels) = srv
        .create_app_with(
            org,
            json!({ "name": "Slack", "provisioningMode": "Automatic" }),
            &["Member"],
        )
        .await;
    let owner = match owner {
        ManualOwner::Admin => &admin,
        ManualOwner::Ann => &a,
    };
    let (manual_app, _) =
        srv.create_app_with(org, json!({ "name": "Legacy ERP", "ownerIds": [owner] }), &[]).await;
    let g = group(srv, org, "New hires").await;
    put_defaults(srv, org, &g, json!([{ "workAppId": auto_app, "permissionLevelId": levels[0] }, { "workAppId": manual_app }])).await;
    NewHires { admin, a, b, auto_app, levels, manual_app, g }
}

#[tokio::test]
async fn seed_request_with_implicit_approval_grants_at_once() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let NewHires { admin, a, b, auto_app, levels, manual_app, g } =
        new_hires(&srv, &org, ManualOwner::Admin).await;

    // The seed's request, verbatim in shape: 201, no content.
    let response = srv
        .api(&org, Method::POST, &format!("{GROUPS}/{g}/Users"))
        .header("Accept", "*/*")
        .json(&json!({ "userIds": [a, b], "triggeredByUserId": admin, "implicitlyApproveRequests": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.bytes().await.unwrap().is_empty());

    let mut got = members(&srv, &org, &g).await;
    got.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(got, want);
    let accesses = srv.accesses(&org, &auto_app).await;
    assert_eq!(accesses.len(), 2, "Automatic app: granted at once");
    assert!(accesses
        .iter()
        .all(|x| x["source"] == "Group" && x["permissionLevel"]["id"] == levels[0].as_str()));
    for user in [&a, &b] {
        let reqs = requests_for(&srv, &org, user).await;
        assert_eq!(reqs.len(), 2);
        for r in &reqs {
            assert_eq!(r["createdByUserId"], admin.as_str());
            assert_eq!(r["sourceGroupId"], g.as_str());
            assert!(
                r["tasks"].as_array().unwrap().iter().all(|t| t["type"] == "Action"),
                "no review tasks: {r}"
            );
        }
        let manual = reqs.iter().find(|r| r["workAppId"] == manual_app.as_str()).unwrap();
        assert_eq!(manual["status"], "Approved", "Manual app: awaiting its action");
        assert_eq!(manual["tasks"][0]["status"], "Open");
        let auto = reqs.iter().find(|r| r["workAppId"] == auto_app.as_str()).unwrap();
        assert_eq!(auto["status"], "Completed");
    }
    let (_, g_view) = send(srv.api(&org, Method::GET, &format!("{GROUPS}/{g}"))).await;
    assert_eq!(g_view["data"]["numberOfUsers"], 2);

    // Re-adding is a no-op: no second membership, no second request.
    let (status, body) =
        add(&srv, &org, &g, json!({ "userIds": [a], "implicitlyApproveRequests": true })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(requests_for(&srv, &org, &a).await.len(), 2);
    assert_eq!(members(&srv, &org, &g).await.len(), 2);
}

#[tokio::test]
async fn without_implicit_approval_requests_follow_the_policy() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let manager = srv.create_user(&org, "Mona", "mona@acme.example", "User").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{user}"))
            .json(&json!({ "managerId": manager })),
    )
    .await;
    let holder = srv.create_user(&org, "Hal", "hal@acme.example", "User").await;
    let (app, _) = srv
        .create_app_with(&org, json!({ "name": "Figma", "provisioningMode": "Automatic" }), &[])
        .await;
    srv.bulk_grant(&org, json!([{ "workAppId": app, "userId": holder }])).await;
    let g = group(&srv, &org, "Design").await;
    put_defaults(&srv, &org, &g, json!([{ "workAppId": app }])).await;

    let (status, body) = add(&srv, &org, &g, json!({ "userIds": [user, holder] })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reqs = requests_for(&srv, &org, &user).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["status"], "Pending");
    assert_eq!(reqs[0]["tasks"][0]["type"], "Review");
    assert_eq!(reqs[0]["tasks"][0]["assigneeIds"], json!([manager]));
    assert!(srv.accesses(&org, &app).await.iter().all(|a| a["user"]["id"] != user.as_str()));
    assert!(
        requests_for(&srv, &org, &holder).await.is_empty(),
        "a member who holds the app gets no request"
    );
}

#[tokio::test]
async fn add_members_is_all_or_nothing_and_validates_its_body() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let foreign = srv.create_user(&other, "Fred", "fred@other.example", "User").await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    let g = group(&srv, &org, "Ops").await;
    put_defaults(&srv, &org, &g, json!([{ "workAppId": app }])).await;
    let path = format!("{GROUPS}/{g}/Users");
    let ghost = uuid::Uuid::now_v7().to_string();
    let too_many: Vec<String> = (0..1001).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases = [
        (json!({ "userIds": [user, ghost] }), 404),
        (json!({ "userIds": [user, foreign] }), 404),
        (json!({ "userIds": [user], "triggeredByUserId": ghost }), 404),
        (json!({ "userIds": [] }), 400),
        (json!({ "userIds": too_many }), 400),
        (json!({ "userIds": ["not-a-uuid"] }), 400),
        (json!({ "userIds": [user], "extra": true }), 400),
        (json!({}), 400),
    ];
    for (payload, code) in cases {
        let (status, body) = add(&srv, &org, &g, payload).await;
        assert_problem(status, &body, code, &path);
        assert!(members(&srv, &org, &g).await.is_empty(), "nothing may change");
        assert!(requests_for(&srv, &org, &user).await.is_empty(), "no request may be created");
    }
    let ghost_path = format!("{GROUPS}/{ghost}/Users");
    let (status, body) =
        send(srv.api(&org, Method::POST, &ghost_path).json(&json!({ "userIds": [user] }))).await;
    assert_problem(status, &body, 404, &ghost_path);
    // Another organization cannot add to this group.
    let (status, body) =
        send(srv.api(&other, Method::POST, &path).json(&json!({ "userIds": [foreign] }))).await;
    assert_problem(status, &body, 404, &path);
}

#[tokio::test]
async fn removing_a_member_requests_removal_of_its_defaults_and_answers_404_for_non_members() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv
        .create_app_with(&org, json!({ "name": "Zoom", "provisioningMode": "Automatic" }), &[])
        .await;
    let g = group(&srv, &org, "All").await;
    put_defaults(&srv, &org, &g, json!([{ "workAppId": app }])).await;
    add(&srv, &org, &g, json!({ "userIds": [user], "implicitlyApproveRequests": true })).await;
    let path = format!("{GROUPS}/{g}/Users/{user}");
    let (status, _) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(members(&srv, &org, &g).await.is_empty());
    // The access stays until the removal request the leave opened is approved (by policy).
    assert_eq!(srv.accesses(&org, &app).await.len(), 1);
    let removals: Vec<Value> = requests_for(&srv, &org, &user)
        .await
        .into_iter()
        .filter(|r| r["requestType"] == "RemoveAccessRequest")
        .collect();
    assert_eq!(removals.len(), 1);
    assert_eq!(
        (&removals[0]["status"], &removals[0]["workAppId"]),
        (&json!("Pending"), &json!(app))
    );
    let (status, body) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_problem(status, &body, 404, &path);
    let ghost = format!("{GROUPS}/{}/Users/{user}", uuid::Uuid::now_v7());
    let (status, body) = send(srv.api(&org, Method::DELETE, &ghost)).await;
    assert_problem(status, &body, 404, &ghost);
}

#[tokio::test]
async fn group_members_policy_step_assigns_the_members() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let reviewer = srv.create_user(&org, "Rex", "rex@acme.example", "User").await;
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    let (app, _) = srv.create_app(&org, "Vault", &[]).await;
    let security = group(&srv, &org, "Security").await;
    add(&srv, &org, &security, json!({ "userIds": [reviewer] })).await;
    let (status, p) = send(srv.api(&org, Method::POST, "/api/v1/Policies").json(&json!({
        "name": "Security review", "requestType": "GrantAccessRequest",
        "steps": [{ "approver": "GroupMembers", "groupId": security }]
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let path = format!("/api/v1/WorkApps/{app}/Policies/GrantAccessRequest");
    send(srv.api(&org, Method::PUT, &path).json(&json!({ "policyId": p["data"]["id"] }))).await;
    let (status, r) = send(
        srv.api(&org, Method::POST, "/api/v1/Requests/GrantAccess")
            .json(&json!({ "workAppId": app, "targetUserId": user })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["data"]["tasks"][0]["assigneeIds"], json!([reviewer]));
}

/// `text` with every UUID replaced: a known one by its name, any other by `#n` in order of first
/// appearance, so that two runs compare equal.
fn named_ids(text: &str, known: &[(&str, &str)], seen: &mut Vec<String>) -> String {
    let is_id = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    };
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.get(..36).filter(|s| is_id(s)) {
            Some(id) => {
                match known.iter().find(|(k, _)| *k == id) {
                    Some((_, name)) => out.push_str(name),
                    None => {
                        let n = match seen.iter().position(|s| s == id) {
                            Some(n) => n,
                            None => {
                                seen.push(id.to_string());
                                seen.len() - 1
                            }
                        };
                        out.push_str(&format!("#{n}"));
                    }
                }
                rest = &rest[36..];
            }
            None => {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Written as a set, a group join records exactly what opening its requests one at a time
/// recorded: the same audit rows in the same order, webhook events, action tasks (separation of
/// duties applied per member: the requester never acts, the target falls back to the
/// administrators) and notifications.
#[tokio::test]
async fn a_group_join_records_what_one_request_at_a_time_recorded() {
    let srv = TestServer::start_with_mail().await;
    let org = srv.new_org("Acme").await;
    // Ann owns the Manual app: her own action falls back to the administrators.
    let NewHires { admin, a, b, auto_app, levels, manual_app, g } =
        new_hires(&srv, &org, ManualOwner::Ann).await;
    let rows = |table: &str, columns: &str| {
        format!(
            "SELECT id || ' ' || {columns} FROM {table} WHERE org_id = '{}' ORDER BY id",
            org.id
        )
    };
    let audit = rows(
        "audit_events",
        "action || ' ' || target_type || ' ' || COALESCE(target_id, '-') || ' ' || \
         COALESCE(before_json, '-') || ' ' || COALESCE(after_json, '-')",
    );
    let events = rows("webhook_events", "event_type || ' ' || data_json");
    let notices = rows(
        "notifications",
        "user_id || ' ' || category || ' ' || channel || ' ' || subject || ' ' || body_text",
    );
    let mut before = Vec::new();
    for sql in [&audit, &events, &notices] {
        before.extend(srv.db.strings(sql).await.expect("rows"));
    }
    let (status, body) = add(
        &srv,
        &org,
        &g,
        json!({ "userIds": [a, b], "triggeredByUserId": admin, "implicitlyApproveRequests": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let known = [
        (org.owner_id.as_str(), "owner"),
        (admin.as_str(), "admin"),
        (a.as_str(), "ann"),
        (b.as_str(), "ben"),
        (auto_app.as_str(), "slack"),
        (levels[0].as_str(), "member-level"),
        (manual_app.as_str(), "erp"),
        (g.as_str(), "group"),
    ];
    let mut seen = Vec::new();
    let mut dump = Vec::new();
    for sql in [&audit, &events, &notices] {
        for row in srv.db.strings(sql).await.expect("rows") {
            if !before.contains(&row) {
                let (_, rest) = row.split_once(' ').unwrap_or_default();
                let rest = rest.replace(srv.url("").trim_end_matches('/'), "SERVER");
                dump.push(named_ids(&rest, &known, &mut seen));
            }
        }
        dump.push("--".into());
    }
    // The record of the same join made by the request-at-a-time code this replaced.
    let want = include_str!("records/group_join.txt");
    assert_eq!(dump.join("\n"), want.trim_end_matches('\n'));
}
