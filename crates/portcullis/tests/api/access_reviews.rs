//! Access reviews: Cakewalk's `POST /api/v1/AccessReviews` and the extensions to follow a
//! campaign, decide its items, close or cancel it and export the evidence — with who may do what
//! (administrators run campaigns, reviewers decide only their items, nobody their own access),
//! what closing carries out (Automatic apps at once, Manual apps through action tasks), overdue
//! campaigns, tenant isolation, the audit log and webhook events.
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, Org, Receiver, TestServer};

const REVIEWS: &str = "/api/v1/AccessReviews";

fn review_path(id: &str) -> String {
    format!("{REVIEWS}/{id}")
}

/// An organization with people and apps, and shortcuts for the calls these tests make.
struct World {
    srv: TestServer,
    org: Org,
}

impl World {
    async fn start() -> Self {
        let srv = TestServer::start().await;
        let org = srv.new_org("Acme").await;
        Self { srv, org }
    }

    /// An active user with a bearer token.
    async fn person(&self, name: &str, role: &str) -> (String, String) {
        self.srv.user_with_token(&self.org, name, role).await
    }

    async fn set_manager(&self, user: &str, manager: &str) {
        let path = format!("/api/v1/users/{user}");
        let body = json!({ "managerId": manager });
        let (status, body) = send(self.srv.api(&self.org, Method::PATCH, &path).json(&body)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// An app with owners, a provisioning mode and levels; returns its id and the levels' ids.
    async fn app(
        &self,
        name: &str,
        owners: &[&str],
        mode: &str,
        levels: &[&str],
    ) -> (String, Vec<String>) {
        let body = json!({ "name": name, "ownerIds": owners, "provisioningMode": mode });
        self.srv.create_app_with(&self.org, body, levels).await
    }

    /// Grants accesses: `(app, user, level)`.
    async fn grant(&self, entries: &[(&str, &str, Option<&str>)]) {
        let entries: Vec<Value> = entries
            .iter()
            .map(|(app, user, level)| {
                json!({ "workAppId": app, "userId": user, "permissionLevelId": level })
            })
            .collect();
        let (status, body) = self.srv.bulk_grant(&self.org, json!(entries)).await;
        assert!(status.is_success(), "{body}");
    }

    /// The body of a campaign over `apps` by `creator`, due in a week.
    fn body(&self, name: &str, kind: &str, apps: &[&str], creator: &str) -> Value {
        json!({
            "name": name,
            "description": "Quarterly certification",
            "accessReviewType": kind,
            "dueDate": self.srv.timestamp_in(chrono::Duration::days(7)),
            "workAppIds": apps,
            "createdByUserId": creator,
        })
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.srv.api(&self.org, Method::POST, path).json(&body)).await
    }

    /// Starts a campaign with the API credential; returns its `data`.
    async fn start_review(&self, name: &str, kind: &str, apps: &[&str], creator: &str) -> Value {
        let (status, body) = self.post(REVIEWS, self.body(name, kind, apps, creator)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = send(self.srv.api(&self.org, Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["data"].clone()
    }

    /// Every item of a campaign (following pages), as the credential sees them.
    async fn items(&self, review: &str, query: &str) -> Vec<Value> {
        items_as(&self.srv, |m, p| self.srv.api(&self.org, m, p), review, query).await
    }

    /// The item of `user`'s access to `app`.
    async fn item(&self, review: &str, app: &str, user: &str) -> Value {
        self.items(review, &format!("workAppId={app}&userId={user}"))
            .await
            .pop()
            .unwrap_or_else(|| panic!("no item for app {app} and user {user}"))
    }

    /// Decides an item with the credential (for the organization, or for `user_id`).
    async fn decide(&self, review: &str, item: &Value, body: Value) -> (StatusCode, Value) {
        let path =
            format!("{}/Items/{}/Decision", review_path(review), item["id"].as_str().unwrap());
        self.post(&path, body).await
    }

    /// Decides an item with a bearer token.
    async fn decide_as(
        &self,
        token: &str,
        review: &str,
        item: &Value,
        body: Value,
    ) -> (StatusCode, Value) {
        let path =
            format!("{}/Items/{}/Decision", review_path(review), item["id"].as_str().unwrap());
        send(self.srv.bearer(token, Method::POST, &path).json(&body)).await
    }

    async fn close(&self, review: &str) -> (StatusCode, Value) {
        send(self.srv.api(&self.org, Method::POST, &format!("{}/Close", review_path(review)))).await
    }

    /// The live accesses of an app: `(user, level)`.
    async fn accesses(&self, app: &str) -> BTreeSet<(String, Option<String>)> {
        self.srv
            .accesses(&self.org, app)
            .await
            .iter()
            .map(|a| {
                (
                    a["user"]["id"].as_str().unwrap().to_string(),
                    a["permissionLevel"]["id"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    async fn audit(&self, action: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/AuditLog?action={action}")).await.as_array().unwrap().clone()
    }
}

/// Every item of a campaign as one caller sees them (following pages).
async fn items_as(
    srv: &TestServer,
    request: impl Fn(Method, &str) -> reqwest::RequestBuilder,
    review: &str,
    query: &str,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(format!("{}/Items?{query}", review_path(review)));
    while let Some(link) = next {
        let (status, body) = send(request(Method::GET, &link)).await;
        assert_eq!(status, StatusCode::OK, "{link}: {body}");
        out.extend(body["data"].as_array().expect("data").iter().cloned());
        next = body["links"]["next"].as_str().map(str::to_string);
    }
    let _ = srv;
    out
}

/// The ids of the reviewers of an item.
fn reviewers(item: &Value) -> BTreeSet<String> {
    item["reviewers"]
        .as_array()
        .expect("reviewers")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn post_access_reviews_takes_exactly_the_cakewalk_body_and_snapshots_the_live_accesses() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (carol, _) = w.person("Carol", "User").await;
    let (slack, levels) = w.app("Slack", &[&owner], "Manual", &["Reader", "Admin"]).await;
    let (github, _) = w.app("GitHub", &[], "Automatic", &[]).await;
    let (legacy, _) = w
        .srv
        .create_app_with(&w.org, json!({ "name": "Legacy", "statusName": "Unmanaged" }), &[])
        .await;
    w.grant(&[
        (&slack, &alice, Some(&levels[1])),
        (&slack, &bob, Some(&levels[0])),
        (&github, &alice, None),
        (&legacy, &bob, None),
    ])
    .await;

    // Cakewalk's body exactly: every Managed app when workAppIds is empty.
    let body = json!({
        "name": "Q1 2026",
        "description": null,
        "accessReviewType": "WorkAppOwner",
        "dueDate": w.srv.timestamp_in(chrono::Duration::days(14)),
        "workAppIds": [],
        "createdByUserId": owner,
    });
    let (status, created) = w.post(REVIEWS, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let review = &created["data"];
    let rid = id(review);
    assert_eq!(created["links"]["self"], review_path(&rid));
    assert_eq!(review["name"], "Q1 2026");
    assert_eq!(review["description"], Value::Null);
    assert_eq!(review["accessReviewType"], "WorkAppOwner");
    assert_eq!(review["dueDate"], body["dueDate"]);
    assert_eq!(review["workAppIds"], json!([]));
    assert_eq!(review["createdByUserId"], owner.as_str());
    assert_eq!(review["status"], "Open");
    assert_eq!(review["undecidedItems"], "Keep");
    assert_eq!(review["closeAtDueDate"], false);
    assert_eq!(review["remindersDue"], false);
    // Slack's two accesses and alice's GitHub access; Legacy is not Managed.
    assert_eq!(review["progress"]["items"], 3);
    assert_eq!(review["progress"]["undecided"], 3);
    assert_eq!(review["progress"]["decided"], 0);

    // Each item names the access (user, app, level, source, grant time) and its reviewer.
    let item = w.item(&rid, &slack, &alice).await;
    assert_eq!(item["accessReviewId"], rid.as_str());
    assert_eq!(item["user"]["id"], alice.as_str());
    assert_eq!(item["user"]["name"], "Alice");
    assert_eq!(item["workApp"], json!({ "id": slack, "name": "Slack" }));
    assert_eq!(item["permissionLevel"], json!({ "id": levels[1], "name": "Admin" }));
    assert_eq!(item["source"], "Direct");
    assert!(item["grantedAt"].is_string());
    assert_eq!(reviewers(&item), set(&[&owner]));
    assert_eq!(item["decision"], Value::Null);
    assert_eq!(item["outcome"], Value::Null);

    // A later grant is not added to the campaign.
    w.grant(&[(&github, &carol, None)]).await;
    assert_eq!(w.items(&rid, "").await.len(), 3);

    // Named apps (any status but Archived): only theirs.
    let named = w.start_review("Legacy only", "WorkAppOwner", &[&legacy], &owner).await;
    assert_eq!(named["progress"]["items"], 1);
    assert_eq!(named["workAppIds"], json!([legacy]));

    // The audit row keeps the credential and records the named creator.
    let rows = w.audit("access_review.created").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["actorType"], "credential");
    assert_eq!(rows[0]["targetId"], rid.as_str());
    assert_eq!(rows[0]["onBehalfOfUserId"], owner.as_str());
    assert_eq!(rows[0]["after"]["items"], 3);

    // Errors.
    let with = |key: &str, value: Value| {
        let mut b = w.body("Another", "Manager", &[], &owner);
        b[key] = value;
        b
    };
    let mut unknown = w.body("Another", "Manager", &[], &owner);
    unknown["undecidedItems"] = json!("Revoke");
    let mut missing = w.body("Another", "Manager", &[], &owner);
    missing.as_object_mut().unwrap().remove("workAppIds");
    let past = with("dueDate", json!(w.srv.timestamp_in(-chrono::Duration::hours(1))));
    let (_, invited) = send(w.srv.api(&w.org, Method::POST, "/api/v1/users").json(&json!({
        "name": "Ivy", "email": "ivy@acme.example", "statusName": "Invited"
    })))
    .await;
    let (archived_app, _) = w.srv.create_app_with(&w.org, json!({ "name": "Gone" }), &[]).await;
    let (status, body) = send(
        w.srv
            .api(&w.org, Method::PATCH, &format!("/api/v1/WorkApps/{archived_app}"))
            .json(&json!({ "statusName": "Archived" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cases: Vec<(Value, u16)> = vec![
        (unknown, 400),
        (missing, 400),
        (with("accessReviewType", json!("Owner")), 400),
        (with("name", json!("  ")), 400),
        (past, 400),
        (with("createdByUserId", json!(invited["data"]["id"])), 400),
        (with("createdByUserId", json!(uuid::Uuid::now_v7())), 404),
        (with("workAppIds", json!([uuid::Uuid::now_v7()])), 404),
        (with("workAppIds", json!([archived_app])), 409),
        (with("name", json!(" q1 2026 ")), 409),
    ];
    for (body, expected) in cases {
        let (status, problem) = w.post(REVIEWS, body.clone()).await;
        assert_problem(status, &problem, expected, REVIEWS);
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{body}");
    }
    // A read-only key, a person who is not an administrator, and an administrator naming
    // someone else as creator are refused.
    let read_only = w.srv.read_only(&w.org).await;
    let (_, user_token) = w.person("Uma", "User").await;
    let (ada, ada_token) = w.person("Ada", "Administrator").await;
    for request in [
        w.srv.api(&read_only, Method::POST, REVIEWS),
        w.srv.bearer(&user_token, Method::POST, REVIEWS),
        w.srv.bearer(&ada_token, Method::POST, REVIEWS),
    ] {
        let (status, problem) = send(request.json(&w.body("X", "Manager", &[], &owner))).await;
        assert_problem(status, &problem, 403, REVIEWS);
    }
    let by_ada = w.srv.bearer(&ada_token, Method::POST, REVIEWS);
    let (status, body) = send(by_ada.json(&w.body("X", "Manager", &[], &ada))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["createdByUserId"], ada.as_str());
}

#[tokio::test]
async fn reviewers_follow_the_campaign_type_and_nobody_reviews_their_own_access() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (ada, _) = w.person("Ada", "Administrator").await;
    let (mallory, _) = w.person("Mallory", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (olga, _) = w.person("Olga", "User").await;
    w.set_manager(&alice, &mallory).await;
    let (slack, _) = w.app("Slack", &[&alice, &olga], "Manual", &[]).await;
    let (figma, _) = w.app("Figma", &[&alice], "Automatic", &[]).await;
    w.grant(&[
        (&slack, &alice, None),
        (&slack, &bob, None),
        (&figma, &alice, None),
        (&figma, &bob, None),
        (&figma, &mallory, None),
        (&figma, &ada, None),
    ])
    .await;
    let admins = set(&[&owner, &ada]);

    // WorkAppOwner: the app's owners, but never the item's own user: the other owners take it,
    // and with none left the administrators.
    let r = id(&w.start_review("Owners", "WorkAppOwner", &[], &owner).await);
    assert_eq!(reviewers(&w.item(&r, &slack, &alice).await), set(&[&olga]));
    assert_eq!(reviewers(&w.item(&r, &slack, &bob).await), set(&[&alice, &olga]));
    assert_eq!(reviewers(&w.item(&r, &figma, &alice).await), admins);
    assert_eq!(reviewers(&w.item(&r, &figma, &bob).await), set(&[&alice]));

    // Manager: the user's manager; without one, the administrators (never the user).
    let r = id(&w.start_review("Managers", "Manager", &[&figma], &owner).await);
    assert_eq!(reviewers(&w.item(&r, &figma, &alice).await), set(&[&mallory]));
    assert_eq!(reviewers(&w.item(&r, &figma, &bob).await), admins);
    assert_eq!(reviewers(&w.item(&r, &figma, &ada).await), set(&[&owner]), "not ada herself");

    // CurrentUser: the person named as creator, except for their own access.
    let r = id(&w.start_review("Ada reviews", "CurrentUser", &[&figma], &ada).await);
    assert_eq!(reviewers(&w.item(&r, &figma, &bob).await), set(&[&ada]));
    assert_eq!(reviewers(&w.item(&r, &figma, &mallory).await), set(&[&ada]));
    assert_eq!(reviewers(&w.item(&r, &figma, &ada).await), set(&[&owner]));

    // An organization whose only administrator holds the access: nobody may review it. The item
    // says why, the progress counts it, and a credential decides it for the organization.
    let srv2 = &w.srv;
    let solo = srv2.new_org("Solo").await;
    let (app, _) = srv2.create_app_with(&solo, json!({ "name": "Vault" }), &[]).await;
    let (status, body) =
        srv2.bulk_grant(&solo, json!([{ "workAppId": app, "userId": solo.owner_id }])).await;
    assert!(status.is_success(), "{body}");
    let (status, body) = send(srv2.api(&solo, Method::POST, REVIEWS).json(&json!({
        "name": "Solo", "accessReviewType": "CurrentUser",
        "dueDate": srv2.timestamp_in(chrono::Duration::days(3)),
        "workAppIds": [], "createdByUserId": solo.owner_id,
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["progress"]["unassigned"], 1);
    let r = id(&body["data"]);
    let items = items_as(srv2, |m, p| srv2.api(&solo, m, p), &r, "").await;
    assert!(items[0]["reviewers"].as_array().unwrap().is_empty());
    assert!(items[0]["unassignedReason"].as_str().unwrap().starts_with("No eligible reviewer"));
    let path = format!("{}/Items/{}/Decision", review_path(&r), id(&items[0]));
    let (status, problem) =
        send(srv2.bearer(&solo.token, Method::POST, &path).json(&json!({ "decision": "Keep" })))
            .await;
    assert_problem(status, &problem, 403, &path);
    assert!(problem["detail"].as_str().unwrap().starts_with("Separation of duties"), "{problem}");
    let (status, body) =
        send(srv2.api(&solo, Method::POST, &path).json(&json!({ "decision": "Keep" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["decision"], "Keep");
    assert_eq!(body["data"]["decidedByUserId"], Value::Null);
}

#[tokio::test]
async fn reviewers_see_and_decide_only_their_items_and_never_their_own_access() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (pete, pete_token) = w.person("Pete", "User").await;
    let (_carol, carol_token) = w.person("Carol", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (slack, levels) = w.app("Slack", &[&olga], "Manual", &["Reader", "Admin"]).await;
    let (figma, figma_levels) = w.app("Figma", &[&pete], "Manual", &["Viewer"]).await;
    w.grant(&[
        (&slack, &alice, Some(&levels[1])),
        (&slack, &bob, Some(&levels[1])),
        (&slack, &owner, Some(&levels[0])),
        (&figma, &alice, Some(&figma_levels[0])),
    ])
    .await;
    let r = id(&w.start_review("Q2", "WorkAppOwner", &[], &owner).await);

    // Olga sees the campaign with her own progress, and only her items.
    let (status, list) = send(w.srv.bearer(&olga_token, Method::GET, REVIEWS)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed = list["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["progress"]["items"], 3, "her three Slack items, not Figma's");
    let mine = items_as(&w.srv, |m, p| w.srv.bearer(&olga_token, m, p), &r, "").await;
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|i| i["workApp"]["id"] == slack.as_str()));
    let others =
        items_as(&w.srv, |m, p| w.srv.bearer(&olga_token, m, p), &r, &format!("reviewerId={pete}"))
            .await;
    assert!(others.is_empty(), "asking for another reviewer's items finds none");
    // Carol reviews nothing: the campaign is not hers to see.
    let (status, problem) = send(w.srv.bearer(&carol_token, Method::GET, &review_path(&r))).await;
    assert_problem(status, &problem, 404, &review_path(&r));
    let items_path = format!("{}/Items", review_path(&r));
    let (status, problem) = send(w.srv.bearer(&carol_token, Method::GET, &items_path)).await;
    assert_problem(status, &problem, 404, &items_path);
    let (status, list) = send(w.srv.bearer(&carol_token, Method::GET, REVIEWS)).await;
    assert_eq!((status, list["data"].clone()), (StatusCode::OK, json!([])));

    // Olga decides her item; a decision can be changed while the campaign is open.
    let alice_slack = w.item(&r, &slack, &alice).await;
    let (status, body) = w
        .decide_as(
            &olga_token,
            &r,
            &alice_slack,
            json!({ "decision": "Keep", "comment": "  still on the team " }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decided = &body["data"];
    assert_eq!(decided["decision"], "Keep");
    assert_eq!(decided["comment"], "still on the team");
    assert_eq!(decided["decidedByUserId"], olga.as_str());
    assert!(decided["decidedAt"].is_string());
    assert_eq!(body["links"]["self"], format!("{}/Items/{}", review_path(&r), id(&alice_slack)));
    let (status, body) = w
        .decide_as(
            &olga_token,
            &r,
            &alice_slack,
            json!({ "decision": "changelevel", "permissionLevelId": levels[0] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["decision"], "ChangeLevel");
    assert_eq!(body["data"]["newPermissionLevel"], json!({ "id": levels[0], "name": "Reader" }));
    assert_eq!(body["data"]["comment"], Value::Null);

    // Someone else's item: not hers to see (404), whether she names it or Pete does hers.
    let alice_figma = w.item(&r, &figma, &alice).await;
    let decision_path = |item: &Value| format!("{}/Items/{}/Decision", review_path(&r), id(item));
    let (status, problem) =
        w.decide_as(&olga_token, &r, &alice_figma, json!({ "decision": "Revoke" })).await;
    assert_problem(status, &problem, 404, &decision_path(&alice_figma));
    let (status, problem) =
        w.decide_as(&pete_token, &r, &alice_slack, json!({ "decision": "Revoke" })).await;
    assert_problem(status, &problem, 404, &decision_path(&alice_slack));
    let unknown = json!({ "id": uuid::Uuid::now_v7() });
    let (status, problem) = w.decide(&r, &unknown, json!({ "decision": "Keep" })).await;
    assert_problem(status, &problem, 404, &decision_path(&unknown));

    // Bad decisions.
    let bob_slack = w.item(&r, &slack, &bob).await;
    for body in [
        json!({ "decision": "ChangeLevel" }),
        json!({ "decision": "ChangeLevel", "permissionLevelId": levels[1] }),
        json!({ "decision": "ChangeLevel", "permissionLevelId": figma_levels[0] }),
        json!({ "decision": "Keep", "permissionLevelId": levels[0] }),
        json!({ "decision": "Maybe" }),
        json!({ "decision": "Keep", "reason": "unknown property" }),
        json!({ "decision": "Keep", "comment": "x".repeat(2001) }),
    ] {
        let (status, problem) = w.decide_as(&olga_token, &r, &bob_slack, body.clone()).await;
        assert_problem(status, &problem, 400, &decision_path(&bob_slack));
    }

    // Nobody decides their own access, administrators included; an administrator may decide
    // anyone else's item.
    let owner_slack = w.item(&r, &slack, &owner).await;
    let (status, problem) =
        w.decide_as(&w.org.token, &r, &owner_slack, json!({ "decision": "Keep" })).await;
    assert_problem(status, &problem, 403, &decision_path(&owner_slack));
    assert!(problem["detail"].as_str().unwrap().contains("your own access"), "{problem}");
    let (status, body) =
        w.decide_as(&w.org.token, &r, &alice_figma, json!({ "decision": "Revoke" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["decidedByUserId"], owner.as_str());

    // A credential decides for the organization, or for a reviewer it names (an active
    // reviewer of the item); a bearer token names only its holder.
    let (status, problem) =
        w.decide(&r, &bob_slack, json!({ "decision": "Revoke", "userId": pete })).await;
    assert_problem(status, &problem, 403, &decision_path(&bob_slack));
    let (status, problem) = w
        .decide(&r, &bob_slack, json!({ "decision": "Revoke", "userId": uuid::Uuid::now_v7() }))
        .await;
    assert_problem(status, &problem, 404, &decision_path(&bob_slack));
    let (status, problem) = w
        .decide_as(&olga_token, &r, &bob_slack, json!({ "decision": "Revoke", "userId": pete }))
        .await;
    assert_problem(status, &problem, 403, &decision_path(&bob_slack));
    let (status, body) =
        w.decide(&r, &bob_slack, json!({ "decision": "Revoke", "userId": olga })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["decidedByUserId"], olga.as_str());
    let (status, body) = w.decide(&r, &owner_slack, json!({ "decision": "Keep" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["decidedByUserId"], Value::Null);
    let read_only = w.srv.read_only(&w.org).await;
    let (status, problem) = send(
        w.srv
            .api(&read_only, Method::POST, &decision_path(&bob_slack))
            .json(&json!({ "decision": "Keep" })),
    )
    .await;
    assert_problem(status, &problem, 403, &decision_path(&bob_slack));

    // Progress, and the audit trail of every decision with who it was for.
    let review = w.get(&review_path(&r)).await;
    assert_eq!(review["progress"]["decided"], 4);
    assert_eq!(review["progress"]["changeLevel"], 1);
    assert_eq!(review["progress"]["revoke"], 2);
    assert_eq!(review["progress"]["keep"], 1);
    let rows = w.audit("access_review.item_decided").await;
    assert_eq!(rows.len(), 5);
    let for_olga = rows
        .iter()
        .find(|r| r["actorType"] == "credential" && r["onBehalfOfUserId"] == olga.as_str());
    let for_olga = for_olga.expect("the credential's decision for olga");
    assert_eq!(for_olga["after"]["itemId"], id(&bob_slack).as_str());
    assert_eq!(for_olga["after"]["decision"], "Revoke");
    assert_eq!(rows[1]["before"]["decision"], "Keep", "the changed decision keeps the earlier one");
}

#[tokio::test]
async fn bulk_decisions_are_all_or_nothing() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (pete, _) = w.person("Pete", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (slack, _) = w.app("Slack", &[&olga], "Manual", &[]).await;
    let (figma, _) = w.app("Figma", &[&pete], "Manual", &[]).await;
    w.grant(&[(&slack, &alice, None), (&slack, &bob, None), (&figma, &alice, None)]).await;
    let r = id(&w.start_review("Bulk", "WorkAppOwner", &[], &owner).await);
    let path = format!("{}/Items/Decisions", review_path(&r));
    let (alice_slack, bob_slack, alice_figma) = (
        id(&w.item(&r, &slack, &alice).await),
        id(&w.item(&r, &slack, &bob).await),
        id(&w.item(&r, &figma, &alice).await),
    );
    let bulk = |entries: Value| {
        send(w.srv.bearer(&olga_token, Method::POST, &path).json(&json!({ "decisions": entries })))
    };

    // One entry she may not decide: nothing is recorded.
    let (status, problem) = bulk(json!([
        { "itemId": alice_slack, "decision": "Keep" },
        { "itemId": alice_figma, "decision": "Keep" },
    ]))
    .await;
    assert_problem(status, &problem, 404, &path);
    assert!(problem["detail"].as_str().unwrap().starts_with("decisions[1]:"), "{problem}");
    for (entries, _why) in [
        (json!([]), "empty"),
        (
            json!([{ "itemId": alice_slack, "decision": "Keep" }, { "itemId": alice_slack, "decision": "Revoke" }]),
            "twice",
        ),
        (
            json!([{ "itemId": alice_slack, "decision": "Keep" }, { "itemId": bob_slack, "decision": "Nope" }]),
            "bad decision",
        ),
    ] {
        let (status, problem) = bulk(entries).await;
        assert_problem(status, &problem, 400, &path);
    }
    assert_eq!(w.get(&review_path(&r)).await["progress"]["decided"], 0);

    // Keep everything in one call.
    let (status, body) = bulk(json!([
        { "itemId": alice_slack, "decision": "Keep" },
        { "itemId": bob_slack, "decision": "Keep", "comment": "fine" },
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["progress"]["items"], 2, "her own progress");
    assert_eq!(body["data"]["progress"]["keep"], 2);
    assert_eq!(w.get(&review_path(&r)).await["progress"]["decided"], 2);
    assert_eq!(w.audit("access_review.item_decided").await.len(), 2);
}

#[tokio::test]
async fn closing_carries_out_decisions_at_once_for_automatic_apps_and_through_action_tasks_for_manual_apps(
) {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (carol, _) = w.person("Carol", "User").await;
    let (dave, _) = w.person("Dave", "User").await;
    let (erin, _) = w.person("Erin", "User").await;
    let (zoom, zl) = w.app("Zoom", &[&olga], "Automatic", &["Basic", "Pro"]).await;
    let (jira, jl) = w.app("Jira", &[&olga], "Manual", &["Dev", "Admin"]).await;
    w.grant(&[
        (&zoom, &alice, Some(&zl[1])),
        (&zoom, &bob, Some(&zl[1])),
        (&zoom, &carol, Some(&zl[0])),
        (&zoom, &dave, Some(&zl[0])),
        (&zoom, &erin, Some(&zl[0])),
        (&jira, &alice, Some(&jl[1])),
        (&jira, &bob, Some(&jl[0])),
        (&jira, &carol, Some(&jl[0])),
    ])
    .await;
    let receiver = Receiver::start().await;
    w.srv
        .subscribe(
            &w.org,
            &receiver.url,
            &[
                "access_review.created",
                "access_review.item_decided",
                "access_review.closed",
                "access.removed",
                "access.changed",
            ],
        )
        .await;
    let r = id(&w.start_review("Q3", "WorkAppOwner", &[], &owner).await);
    let decide = |app: &str, user: &str, body: Value| {
        let (app, user, body) = (app.to_string(), user.to_string(), body);
        let w = &w;
        let r = r.clone();
        let token = olga_token.clone();
        async move {
            let item = w.item(&r, &app, &user).await;
            let (status, body) = w.decide_as(&token, &r, &item, body).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    decide(&zoom, &alice, json!({ "decision": "ChangeLevel", "permissionLevelId": zl[0] })).await;
    decide(&zoom, &bob, json!({ "decision": "Revoke", "comment": "left" })).await;
    decide(&zoom, &carol, json!({ "decision": "Keep" })).await;
    decide(&zoom, &erin, json!({ "decision": "Revoke" })).await;
    decide(&jira, &alice, json!({ "decision": "ChangeLevel", "permissionLevelId": jl[0] })).await;
    decide(&jira, &bob, json!({ "decision": "Revoke" })).await;
    decide(&jira, &carol, json!({ "decision": "Keep" })).await;
    // Dave's Zoom access stays undecided (kept by default); Erin's went before closing.
    let path = format!("/api/v1/WorkApps/{zoom}/Accesses/{erin}");
    let (status, _) = send(w.srv.api(&w.org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, body) = w.close(&r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed = &body["data"];
    assert_eq!(closed["status"], "Closed");
    assert!(closed["closedAt"].is_string());
    assert_eq!(closed["closedByUserId"], Value::Null, "a credential closed it");
    assert_eq!(
        closed["progress"]["outcomes"],
        json!({
            "Kept": 3, "Revoked": 1, "LevelChanged": 1, "RemovalRequested": 1,
            "LevelChangeRequested": 1, "AccessGone": 1,
        })
    );

    // Automatic: changed at once.
    assert_eq!(
        w.accesses(&zoom).await,
        [
            (alice.clone(), Some(zl[0].clone())),
            (carol.clone(), Some(zl[0].clone())),
            (dave.clone(), Some(zl[0].clone())),
        ]
        .into_iter()
        .collect()
    );
    let outcome = |item: &Value| item["outcome"].as_str().unwrap().to_string();
    assert_eq!(outcome(&w.item(&r, &zoom, &alice).await), "LevelChanged");
    assert_eq!(outcome(&w.item(&r, &zoom, &bob).await), "Revoked");
    assert_eq!(outcome(&w.item(&r, &zoom, &dave).await), "Kept");
    assert_eq!(outcome(&w.item(&r, &zoom, &erin).await), "AccessGone");
    // Manual: unchanged until the app owner carries out the action task.
    assert_eq!(
        w.accesses(&jira).await,
        [
            (alice.clone(), Some(jl[1].clone())),
            (bob.clone(), Some(jl[0].clone())),
            (carol.clone(), Some(jl[0].clone())),
        ]
        .into_iter()
        .collect()
    );
    let removal = w.item(&r, &jira, &bob).await;
    assert_eq!(outcome(&removal), "RemovalRequested");
    let request =
        w.get(&format!("/api/v1/Requests/{}", removal["requestId"].as_str().unwrap())).await;
    assert_eq!(request["requestType"], "RemoveAccessRequest");
    assert_eq!(request["requestStatus"], "Approved");
    assert_eq!(request["targetUserId"], bob.as_str());
    assert!(request["requestPurpose"].as_str().unwrap().contains(&r), "{request}");
    let tasks = request["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "no review steps: the review was the approval");
    assert_eq!(tasks[0]["type"], "Action");
    assert_eq!(tasks[0]["status"], "Open");
    let change = w.item(&r, &jira, &alice).await;
    assert_eq!(outcome(&change), "LevelChangeRequested");
    let change_request =
        w.get(&format!("/api/v1/Requests/{}", change["requestId"].as_str().unwrap())).await;
    assert_eq!(change_request["requestType"], "ChangePermissionLevelRequest");
    assert_eq!(change_request["permissionLevelId"], jl[0].as_str());
    // The owner carries the removal out.
    let task = tasks[0]["id"].as_str().unwrap();
    let (status, body) =
        send(w.srv.bearer(&olga_token, Method::POST, &format!("/api/v1/Tasks/{task}/Approve")))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!w.accesses(&jira).await.iter().any(|(u, _)| *u == bob));

    // Closed: no more decisions, no second close, no cancel, no change.
    let dave_zoom = w.item(&r, &zoom, &dave).await;
    let (status, problem) = w.decide(&r, &dave_zoom, json!({ "decision": "Revoke" })).await;
    let decision_path = format!("{}/Items/{}/Decision", review_path(&r), id(&dave_zoom));
    assert_problem(status, &problem, 409, &decision_path);
    let bulk_path = format!("{}/Items/Decisions", review_path(&r));
    let (status, problem) = w
        .post(
            &bulk_path,
            json!({ "decisions": [{ "itemId": id(&dave_zoom), "decision": "Revoke" }] }),
        )
        .await;
    assert_problem(status, &problem, 409, &bulk_path);
    let (status, problem) = w.close(&r).await;
    assert_problem(status, &problem, 409, &format!("{}/Close", review_path(&r)));
    let cancel = format!("{}/Cancel", review_path(&r));
    let (status, problem) = w.post(&cancel, json!({})).await;
    assert_problem(status, &problem, 409, &cancel);
    let (status, problem) = send(
        w.srv.api(&w.org, Method::PATCH, &review_path(&r)).json(&json!({ "closeAtDueDate": true })),
    )
    .await;
    assert_problem(status, &problem, 409, &review_path(&r));

    // Audit and webhook events.
    let rows = w.audit("access_review.closed").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["after"]["outcomes"]["Revoked"], 1);
    let removed = w.audit("access.removed").await;
    assert!(removed.iter().any(|row| row["before"]["userId"] == bob.as_str()
        && row["before"]["accessReviewId"] == r.as_str()));
    let worker = w.srv.worker(&[]);
    worker.run_until_idle().await.expect("deliveries");
    let events = receiver.events();
    let of = |t: &str| events.iter().filter(|e| e["eventType"] == t).cloned().collect::<Vec<_>>();
    assert_eq!(of("access_review.created").len(), 1);
    assert_eq!(of("access_review.item_decided").len(), 7);
    let closed_events = of("access_review.closed");
    assert_eq!(closed_events.len(), 1);
    assert_eq!(closed_events[0]["data"]["accessReviewId"], r.as_str());
    assert!(of("access.removed")
        .iter()
        .any(|e| e["data"]["userId"] == bob.as_str() && e["data"]["workAppId"] == zoom.as_str()));
    assert!(of("access.changed").iter().any(|e| e["data"]["userId"] == alice.as_str()
        && e["data"]["permissionLevelId"] == zl[0].as_str()
        && e["data"]["previousPermissionLevelId"] == zl[1].as_str()));
}

#[tokio::test]
async fn undecided_items_follow_the_campaign_setting_and_cancelling_carries_out_nothing() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (alice, alice_token) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (zoom, _) = w.app("Zoom", &[], "Automatic", &[]).await;
    let (jira, _) = w.app("Jira", &[], "Manual", &[]).await;
    w.grant(&[(&zoom, &alice, None), (&zoom, &bob, None), (&jira, &alice, None)]).await;

    let r = id(&w.start_review("Revoke the silent", "CurrentUser", &[], &owner).await);
    let path = review_path(&r);
    // Settings: only while open, only administrators, validated.
    for (body, expected) in [
        (json!({ "undecidedItems": "Maybe" }), 400),
        (json!({ "dueDate": w.srv.timestamp_in(-chrono::Duration::days(1)) }), 400),
        (json!({ "closeAtDueDate": true, "extra": 1 }), 400),
    ] {
        let (status, problem) = send(w.srv.api(&w.org, Method::PATCH, &path).json(&body)).await;
        assert_problem(status, &problem, expected, &path);
    }
    let (status, problem) = send(
        w.srv
            .bearer(&alice_token, Method::PATCH, &path)
            .json(&json!({ "undecidedItems": "Revoke" })),
    )
    .await;
    assert_problem(status, &problem, 403, &path);
    let (status, body) = send(w.srv.api(&w.org, Method::PATCH, &path).json(&json!({
        "undecidedItems": "revoke", "name": "Revoke the silent (Q3)", "description": null,
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["undecidedItems"], "Revoke");
    assert_eq!(body["data"]["name"], "Revoke the silent (Q3)");
    assert_eq!(body["data"]["description"], Value::Null);
    assert_eq!(w.audit("access_review.updated").await.len(), 1);

    // Bob's access is kept by decision; the undecided ones are revoked on close.
    let bob_zoom = w.item(&r, &zoom, &bob).await;
    let (status, body) = w.decide(&r, &bob_zoom, json!({ "decision": "Keep" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w.close(&r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["progress"]["outcomes"],
        json!({ "Kept": 1, "Revoked": 1, "RemovalRequested": 1 })
    );
    assert_eq!(w.accesses(&zoom).await, [(bob.clone(), None)].into_iter().collect());
    let jira_item = w.item(&r, &jira, &alice).await;
    assert_eq!(jira_item["decision"], Value::Null, "undecided stays undecided in the evidence");
    assert_eq!(jira_item["outcome"], "RemovalRequested");

    // Cancelling: nothing is carried out, the decisions stay as evidence.
    w.grant(&[(&zoom, &alice, None)]).await;
    let c = id(&w.start_review("Cancelled one", "CurrentUser", &[&zoom], &owner).await);
    let alice_zoom = w.item(&c, &zoom, &alice).await;
    let (status, body) = w.decide(&c, &alice_zoom, json!({ "decision": "Revoke" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cancel = format!("{}/Cancel", review_path(&c));
    let (status, problem) = send(w.srv.bearer(&alice_token, Method::POST, &cancel)).await;
    assert_problem(status, &problem, 403, &cancel);
    let (status, body) = send(w.srv.bearer(&w.org.token, Method::POST, &cancel)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Cancelled");
    assert_eq!(body["data"]["closedByUserId"], owner.as_str());
    assert!(w.accesses(&zoom).await.iter().any(|(u, _)| *u == alice), "nothing carried out");
    let item = w.item(&c, &zoom, &alice).await;
    assert_eq!((item["decision"].clone(), item["outcome"].clone()), (json!("Revoke"), Value::Null));
    let (status, problem) = w.close(&c).await;
    assert_problem(status, &problem, 409, &format!("{}/Close", review_path(&c)));
    assert_eq!(w.audit("access_review.cancelled").await.len(), 1);
    // Listing by status.
    let cancelled = w.get(&format!("{REVIEWS}?status=Cancelled")).await;
    assert_eq!(cancelled.as_array().unwrap().len(), 1);
    assert_eq!(cancelled[0]["id"], c.as_str());
    let closed = w.get(&format!("{REVIEWS}?status=closed")).await;
    assert_eq!(closed.as_array().unwrap().iter().map(id).collect::<Vec<_>>(), [r]);
}

#[tokio::test]
async fn another_organizations_campaign_is_not_found() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (alice, _) = w.person("Alice", "User").await;
    let (zoom, _) = w.app("Zoom", &[], "Automatic", &[]).await;
    w.grant(&[(&zoom, &alice, None)]).await;
    let r = id(&w.start_review("Ours", "CurrentUser", &[], &owner).await);
    let item = id(&w.item(&r, &zoom, &alice).await);
    let other = w.srv.new_org("Globex").await;
    // Their own campaign, to try our item id in it too.
    let (status, body) = send(w.srv.api(&other, Method::POST, REVIEWS).json(&json!({
        "name": "Theirs", "accessReviewType": "CurrentUser",
        "dueDate": w.srv.timestamp_in(chrono::Duration::days(3)),
        "workAppIds": [], "createdByUserId": other.owner_id,
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let theirs = id(&body["data"]);

    let base = review_path(&r);
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, base.clone(), None),
        (Method::PATCH, base.clone(), Some(json!({ "closeAtDueDate": true }))),
        (Method::GET, format!("{base}/Items"), None),
        (
            Method::POST,
            format!("{base}/Items/{item}/Decision"),
            Some(json!({ "decision": "Revoke" })),
        ),
        (
            Method::POST,
            format!("{base}/Items/Decisions"),
            Some(json!({ "decisions": [{ "itemId": item, "decision": "Revoke" }] })),
        ),
        (Method::POST, format!("{base}/Close"), None),
        (Method::POST, format!("{base}/Cancel"), None),
        (Method::GET, format!("{base}/Export"), None),
        (
            Method::POST,
            format!("{}/Items/{item}/Decision", review_path(&theirs)),
            Some(json!({ "decision": "Revoke" })),
        ),
    ];
    for (method, path, body) in cases {
        for request in [
            w.srv.api(&other, method.clone(), &path),
            w.srv.bearer(&other.token, method.clone(), &path),
        ] {
            let request = match &body {
                Some(b) => request.json(b),
                None => request,
            };
            let (status, problem) = send(request).await;
            assert_problem(status, &problem, 404, &path);
        }
    }
    let (_, list) = send(w.srv.api(&other, Method::GET, REVIEWS)).await;
    assert_eq!(list["data"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), [theirs]);
    // Nothing changed here.
    let review = w.get(&base).await;
    assert_eq!(
        (review["status"].clone(), review["progress"]["decided"].clone()),
        (json!("Open"), json!(0))
    );
    assert!(w.accesses(&zoom).await.iter().any(|(u, _)| *u == alice));
}

#[tokio::test]
async fn overdue_campaigns_show_it_remind_once_and_close_themselves_when_asked() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, _) = w.person("Olga", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (zoom, _) = w.app("Zoom", &[&olga], "Automatic", &[]).await;
    w.grant(&[(&zoom, &alice, None)]).await;
    let due_in = |days: i64| w.srv.timestamp_in(chrono::Duration::days(days));
    let mut body = w.body("Reminded", "WorkAppOwner", &[], &owner);
    body["dueDate"] = json!(due_in(1));
    let (_, a) = w.post(REVIEWS, body).await;
    let a = id(&a["data"]);
    let mut body = w.body("Self-closing", "WorkAppOwner", &[], &owner);
    body["dueDate"] = json!(due_in(1));
    let (_, b) = w.post(REVIEWS, body).await;
    let b = id(&b["data"]);
    let (status, body) = send(w.srv.api(&w.org, Method::PATCH, &review_path(&b)).json(&json!({
        "closeAtDueDate": true, "undecidedItems": "Revoke",
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = id(&w.start_review("Later", "WorkAppOwner", &[], &owner).await);
    let ids = |v: Value| v.as_array().unwrap().iter().map(id).collect::<Vec<_>>();
    assert_eq!(
        ids(w.get(&format!("{REVIEWS}?status=Open")).await),
        [a.clone(), b.clone(), c.clone()]
    );
    assert!(w.srv.service.sweep_access_reviews().await.unwrap() == 0, "nothing is due yet");

    w.srv.clock.advance(chrono::Duration::days(2));
    let shown = w.get(&review_path(&a)).await;
    assert_eq!(shown["status"], "Overdue");
    assert_eq!(shown["remindersDue"], true);
    assert_eq!(ids(w.get(&format!("{REVIEWS}?status=overdue")).await), [a.clone(), b.clone()]);
    assert_eq!(ids(w.get(&format!("{REVIEWS}?status=Open")).await), [c]);
    let (status, problem) =
        send(w.srv.api(&w.org, Method::GET, &format!("{REVIEWS}?status=Late"))).await;
    assert_problem(status, &problem, 400, REVIEWS);

    // The sweep closes the one that asked (undecided items revoked) and records that reminders
    // are due for the other, naming the reviewers with undecided items.
    assert_eq!(w.srv.service.sweep_access_reviews().await.unwrap(), 2);
    let closed = w.get(&review_path(&b)).await;
    assert_eq!(closed["status"], "Closed");
    assert_eq!(closed["closedByUserId"], Value::Null);
    assert_eq!(closed["progress"]["outcomes"], json!({ "Revoked": 1 }));
    assert!(w.accesses(&zoom).await.is_empty(), "alice's access was revoked at the due date");
    let rows = w.audit("access_review.closed").await;
    assert_eq!(rows[0]["actorType"], "system");
    let reminders = w.audit("access_review.overdue").await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0]["targetId"], a.as_str());
    assert_eq!(
        reminders[0]["after"]["reviewers"],
        json!([{ "userId": olga, "undecidedItems": 1 }])
    );
    // Once per due date.
    assert_eq!(w.srv.service.sweep_access_reviews().await.unwrap(), 0);
    let (status, body) = send(
        w.srv.api(&w.org, Method::PATCH, &review_path(&a)).json(&json!({ "dueDate": due_in(1) })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Open");
    w.srv.clock.advance(chrono::Duration::days(2));
    assert_eq!(w.srv.service.sweep_access_reviews().await.unwrap(), 1, "a again; c is not due");
    assert_eq!(w.audit("access_review.overdue").await.len(), 2);
    assert_eq!(w.get(&review_path(&a)).await["status"], "Overdue", "closing stays explicit");
}

#[tokio::test]
async fn the_export_is_the_evidence_as_csv_or_json() {
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (zoom, levels) = w.app("Zoom", &[&olga], "Automatic", &["Basic"]).await;
    w.grant(&[(&zoom, &alice, Some(&levels[0])), (&zoom, &bob, Some(&levels[0]))]).await;
    let r = id(&w.start_review("Evidence", "WorkAppOwner", &[], &owner).await);
    let alice_zoom = w.item(&r, &zoom, &alice).await;
    let comment = "=HYPERLINK(\"x\"), she \"left\"\nin May";
    let (status, body) = w
        .decide_as(
            &olga_token,
            &r,
            &alice_zoom,
            json!({ "decision": "Revoke", "comment": comment }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w.close(&r).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let export = format!("{}/Export", review_path(&r));
    let response = w.srv.api(&w.org, Method::GET, &export).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("access-review-{r}.csv")));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "itemId,userId,userName,userEmail,workAppId,workAppName,permissionLevelId,\
         permissionLevelName,source,grantedAt,reviewerIds,reviewerEmails,decision,\
         newPermissionLevelId,newPermissionLevelName,comment,decidedByUserId,decidedAt,outcome,\
         outcomeNote,requestId,carriedOutAt"
    );
    assert_eq!(lines.len(), 3, "a header and one row per item: {csv}");
    let alice_row = lines.iter().find(|l| l.starts_with(&id(&alice_zoom))).expect("alice's row");
    assert!(alice_row.contains(&format!("{alice},Alice,")), "{alice_row}");
    assert!(alice_row.contains(&format!(",Zoom,{},Basic,Direct,", levels[0])), "{alice_row}");
    assert!(alice_row.contains(&format!(",{olga},")), "the reviewer: {alice_row}");
    // The comment is quoted, its quotes doubled, and it cannot run as a formula.
    assert!(
        csv.contains(",Revoke,,,\"'=HYPERLINK(\"\"x\"\"), she \"\"left\"\"\nin May\","),
        "{csv}"
    );
    assert!(alice_row.contains(&format!(",{olga},")) && csv.contains(",Revoked,"), "{csv}");
    let bob_row = lines.iter().find(|l| l.contains(&format!(",{bob},"))).expect("bob's row");
    assert!(bob_row.contains(",Kept,"), "{bob_row}");

    let (status, json_export) =
        send(w.srv.api(&w.org, Method::GET, &format!("{export}?format=JSON"))).await;
    assert_eq!(status, StatusCode::OK, "{json_export}");
    assert_eq!(json_export["accessReview"]["id"], r.as_str());
    assert_eq!(json_export["accessReview"]["status"], "Closed");
    assert!(json_export["exportedAt"].is_string());
    let items = json_export["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let alice_item = items.iter().find(|i| i["user"]["id"] == alice.as_str()).unwrap();
    assert_eq!(alice_item["decision"], "Revoke");
    assert_eq!(alice_item["comment"], comment);
    assert_eq!(alice_item["decidedByUserId"], olga.as_str());
    assert_eq!(alice_item["outcome"], "Revoked");
    assert!(alice_item["carriedOutAt"].is_string());

    // Read-only keys may export; a reviewer who is not an administrator may not; a bad format
    // is refused.
    let read_only = w.srv.read_only(&w.org).await;
    let (status, _) =
        send(w.srv.api(&read_only, Method::GET, &format!("{export}?format=json"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = send(w.srv.bearer(&olga_token, Method::GET, &export)).await;
    assert_problem(status, &problem, 403, &export);
    let (status, problem) =
        send(w.srv.api(&w.org, Method::GET, &format!("{export}?format=xml"))).await;
    assert_problem(status, &problem, 400, &export);
    let (status, problem) =
        send(w.srv.api(&w.org, Method::GET, &format!("{export}?cursor=x"))).await;
    assert_problem(status, &problem, 400, &export);

    // Both formats are documented.
    let (_, doc) = send(w.srv.client.get(w.srv.url("/openapi.json"))).await;
    let ok =
        &doc["paths"]["/api/v1/AccessReviews/{accessReviewId}/Export"]["get"]["responses"]["200"];
    assert!(ok["content"]["text/csv"].is_object(), "{ok}");
    assert_eq!(
        ok["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AccessReviewExport",
        "{ok}"
    );
}

#[tokio::test]
async fn the_console_has_the_reviewers_queue_and_an_admin_page_per_campaign() {
    use crate::console::{location, Console};
    let w = World::start().await;
    let owner = w.org.owner_id.clone();
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (alice, _) = w.person("Alice", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let (zoom, zl) = w.app("Zoom", &[&olga], "Automatic", &["Basic", "Pro"]).await;
    let (jira, _) = w.app("Jira", &[&olga], "Manual", &[]).await;
    w.grant(&[
        (&zoom, &alice, Some(&zl[1])),
        (&zoom, &bob, Some(&zl[1])),
        (&zoom, &olga, Some(&zl[1])),
        (&jira, &alice, None),
    ])
    .await;
    let r = id(&w.start_review("Console review", "WorkAppOwner", &[], &owner).await);
    let (alice_zoom, bob_zoom, alice_jira, olga_zoom) = (
        id(&w.item(&r, &zoom, &alice).await),
        id(&w.item(&r, &zoom, &bob).await),
        id(&w.item(&r, &jira, &alice).await),
        id(&w.item(&r, &zoom, &olga).await),
    );
    let console = Console::new(&w.srv);

    // Olga's queue: her items with keep / revoke / the other levels, never her own access.
    let session = console.sign_in(&olga_token).await;
    let response = console.get(&session, "/reviews").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Console review"), "{page}");
    for item in [&alice_zoom, &bob_zoom, &alice_jira] {
        assert!(page.contains(&format!("/reviews/{r}/items/{item}")), "{item} in {page}");
    }
    assert!(!page.contains(&olga_zoom), "her own access is not hers to review");
    assert!(page.contains("Change level to Basic") && !page.contains("Change level to Pro"));
    let csrf = crate::console::hidden_field(&page, "csrf");

    // One decision with a comment, then keep the rest at once.
    let path = format!("/reviews/{r}/items/{alice_zoom}");
    let level = format!("level:{}", zl[0]);
    let response = console
        .post(
            &session,
            &path,
            &[("csrf", &csrf), ("decision", &level), ("comment", "least privilege")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/reviews#review-{r}"));
    let keep = format!("/reviews/{r}/keep");
    let response = console
        .post(&session, &keep, &[("csrf", &csrf), ("item", &bob_zoom), ("item", &alice_jira)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let decided = w.item(&r, &zoom, &alice).await;
    assert_eq!(decided["decision"], "ChangeLevel");
    assert_eq!(decided["newPermissionLevel"]["id"], zl[0].as_str());
    assert_eq!(decided["comment"], "least privilege");
    assert_eq!(decided["decidedByUserId"], olga.as_str());
    assert_eq!(w.item(&r, &zoom, &bob).await["decision"], "Keep");
    assert_eq!(w.item(&r, &jira, &alice).await["decision"], "Keep");
    let page = console.get(&session, "/reviews").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("You have decided every item."), "{page}");
    assert!(page.contains("least privilege"), "decided items stay changeable: {page}");
    // A forged form, and an item that is not hers, change nothing.
    let response = console
        .post(&session, &path, &[("csrf", "forged"), ("decision", "Revoke")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let own = format!("/reviews/{r}/items/{olga_zoom}");
    let response = console
        .post(&session, &own, &[("csrf", &csrf), ("decision", "Keep")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.item(&r, &zoom, &alice).await["decision"], "ChangeLevel");
    // The administrators' pages are not hers.
    let response = console.get(&session, &format!("/admin/reviews/{r}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The owner's pages: every campaign, one campaign with progress and the export, closing.
    let admin = console.sign_in(&w.org.token).await;
    let list = console.get(&admin, "/admin/reviews").send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/admin/reviews/{r}")), "{list}");
    let html = |path: String| {
        let request = console.get(&admin, &path);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let detail = html(format!("/admin/reviews/{r}")).await;
    // Items, decided, undecided, keep, revoke, change level, without a reviewer.
    let progress = "<td>4</td><td>3</td><td>1</td><td>2</td><td>0</td><td>1</td><td>0</td>";
    assert!(detail.contains(progress), "{detail}");
    assert!(detail.contains(&format!("/admin/reviews/{r}/export.csv")), "{detail}");
    let undecided = html(format!("/admin/reviews/{r}?decision=Undecided")).await;
    assert!(undecided.contains("Olga") && !undecided.contains("least privilege"), "{undecided}");
    let response =
        console.get(&admin, &format!("/admin/reviews/{r}/export.csv")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("itemId,userId,"), "{csv}");
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 5, "{csv}");
    let response =
        console.get(&admin, &format!("/admin/reviews/{r}/export.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["items"].as_array().unwrap().len(), 4);
    let admin_csrf = console.csrf(&admin).await;
    let response = console
        .post(&admin, &format!("/admin/reviews/{r}/close"), &[("csrf", &admin_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let closed = w.get(&review_path(&r)).await;
    assert_eq!(closed["status"], "Closed");
    assert_eq!(closed["closedByUserId"], owner.as_str());
    assert!(w.accesses(&zoom).await.contains(&(alice.clone(), Some(zl[0].clone()))));

    // Starting a campaign from the console: the administrator is its creator.
    let due = (w.srv.now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let response = console
        .post(
            &admin,
            "/admin/reviews",
            &[
                ("csrf", &admin_csrf),
                ("name", "From the console"),
                ("access_review_type", "Manager"),
                ("due_date", &due),
                ("work_app_id", &zoom),
            ],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
    let started = location(&response).trim_start_matches("/admin/reviews/").to_string();
    let review = w.get(&review_path(&started)).await;
    assert_eq!(review["name"], "From the console");
    assert_eq!(review["createdByUserId"], owner.as_str());
    assert_eq!(review["workAppIds"], json!([zoom]));
    assert_eq!(review["progress"]["items"], 3);
}
