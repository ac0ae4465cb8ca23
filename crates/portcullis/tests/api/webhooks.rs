//! Webhooks against a real local receiver: every event type, both signatures verified with
//! independent code, retries, validation, isolation; the audit log.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::{assert_problem, send, Org, Received, Receiver, TestServer};

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

const ALL: &[&str] = &[
    "test",
    "action_task.actionable",
    "request.created",
    "request.approved",
    "request.declined",
    "request.completed",
    "task.created",
    "access.granted",
    "access.changed",
    "access.removed",
    "group.member_added",
    "group.member_removed",
    "workspace.member_added",
    "workspace.member_role_changed",
    "workspace.member_removed",
];

async fn public_key(srv: &TestServer, org: &Org) -> RsaPublicKey {
    let response = srv.api(org, Method::GET, "/api/Keys").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let pem = response.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    RsaPublicKey::from_public_key_pem(&pem).expect("PEM public key")
}

/// Verifies both signatures the way a receiver would, with no code shared with the server;
/// `now` is the server's time, which the timestamp must be close to.
fn verify(r: &Received, key: &RsaPublicKey, secret: &str, now: chrono::DateTime<chrono::Utc>) {
    let header = |name: &str| {
        r.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let signature = STANDARD.decode(header("x-signature")).expect("base64 X-SIGNATURE");
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(&r.body, &Signature::try_from(signature.as_slice()).unwrap())
        .expect("X-SIGNATURE verifies with the public key from /api/Keys");

    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let key_bytes = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_bytes).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        header("webhook-signature").split(' ').any(|s| s == expected),
        "webhook-signature mismatch"
    );
    let age = now.timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..120).contains(&age), "timestamp is current");
    // webhook-id is the POST's own id (each event in the body keeps its own `id`).
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(body.as_array().unwrap().iter().all(|e| e["id"] != id.as_str()));
}

#[tokio::test]
async fn every_event_type_is_delivered_signed_twice() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    let (sub, secret) = srv.subscribe(&org, &receiver.url, ALL).await;
    let worker = srv.worker(&[seconds(5), seconds(5)]);

    // test
    let (status, _) =
        send(srv.api(&org, Method::POST, &format!("/api/v1/Webhooks/{sub}/Test"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    let test = receiver.events().into_iter().find(|e| e["eventType"] == "test").unwrap();
    assert_eq!(test["data"], json!({ "message": "Hello, World!" }));

    // A manual app: request → two reviews → actionable action → completed, access granted.
    // The owner is both Ann's manager and the app owner and takes both steps, which the
    // organization must allow (by default one person approves at most one step of a request).
    let (status, body) = send(
        srv.api(&org, Method::PATCH, "/api/v1/OrganizationSettings")
            .json(&json!({ "allowSameApproverForMultipleSteps": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{user}"))
            .json(&json!({ "managerId": org.owner_id })),
    )
    .await;
    let (app, levels) = srv
        .create_app_with(
            &org,
            json!({ "name": "ERP", "ownerIds": [org.owner_id] }),
            &["Clerk", "Lead"],
        )
        .await;
    let (_, r) = send(srv.api(&org, Method::POST, "/api/v1/Requests/GrantAccess").json(&json!({
        "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0], "justification": "month end"
    }))).await;
    let request_id = r["data"]["id"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let (_, current) =
            send(srv.api(&org, Method::GET, &format!("/api/v1/Requests/{request_id}"))).await;
        let open = current["data"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["status"] == "Open")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _) = send(
            srv.api(&org, Method::POST, &format!("/api/v1/Tasks/{open}/Approve"))
                .json(&json!({ "userId": org.owner_id })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // access.changed via a bulk re-grant; access.removed via DELETE.
    srv.bulk_grant(
        &org,
        json!([{ "workAppId": app, "userId": user, "permissionLevelId": levels[1] }]),
    )
    .await;
    send(srv.api(&org, Method::DELETE, &format!("/api/v1/WorkApps/{app}/Accesses/{user}"))).await;
    // request.declined
    let (_, r2) = send(srv.api(&org, Method::POST, "/api/v1/Requests/GrantAccess").json(&json!({
        "workAppId": app, "targetUserId": user, "permissionLevelId": levels[0]
    })))
    .await;
    let t = r2["data"]["tasks"][0]["id"].as_str().unwrap();
    send(srv.api(&org, Method::POST, &format!("/api/v1/Tasks/{t}/Decline"))).await;
    // groups
    let (_, g) = send(
        srv.api(&org, Method::POST, "/api/v1/UsersGroups").json(&json!({ "name": "Finance" })),
    )
    .await;
    let g = g["data"]["id"].as_str().unwrap().to_string();
    send(
        srv.api(&org, Method::POST, &format!("/api/v1/UsersGroups/{g}/Users"))
            .json(&json!({ "userIds": [user] })),
    )
    .await;
    send(srv.api(&org, Method::DELETE, &format!("/api/v1/UsersGroups/{g}/Users/{user}"))).await;
    // workspaces
    let (_, ws) =
        send(srv.bearer(&org.token, Method::POST, "/workspace").json(&json!({ "name": "Books" })))
            .await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_string();
    send(
        srv.bearer(&org.token, Method::POST, &format!("/workspace/{ws}/users"))
            .json(&json!({ "userId": user, "role": "READ" })),
    )
    .await;
    send(
        srv.bearer(&org.token, Method::PUT, &format!("/workspace/{ws}/users/{user}"))
            .json(&json!({ "role": "WRITE" })),
    )
    .await;
    send(srv.bearer(&org.token, Method::DELETE, &format!("/workspace/{ws}/users/{user}"))).await;

    worker.run_until_idle().await.unwrap();
    let events = receiver.events();
    for t in ALL {
        assert!(
            events.iter().any(|e| e["eventType"] == *t),
            "{t} not delivered; got {:?}",
            events.iter().map(|e| e["eventType"].clone()).collect::<Vec<_>>()
        );
    }
    assert!(receiver.received().iter().all(|r| r.status == 200), "every POST succeeded at once");

    let key = public_key(&srv, &org).await;
    for r in receiver.received() {
        verify(&r, &key, &secret, srv.now());
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        for event in body.as_array().unwrap() {
            for field in ["id", "eventType", "occurredAt", "data"] {
                assert!(event.get(field).is_some(), "{field} missing: {body}");
            }
        }
    }
    let actionable = events.iter().find(|e| e["eventType"] == "action_task.actionable").unwrap();
    let meta = &actionable["data"]["requestMetadata"];
    assert_eq!(meta["requestType"], "GrantAccessRequest");
    assert_eq!(meta["targetWorkApp"]["name"], "ERP");
    assert_eq!(meta["permissionLevel"]["name"], "Clerk");
    assert_eq!(meta["targetUser"]["fullName"], "Ann");
    assert_eq!(meta["reviewedBy"].as_array().unwrap().len(), 2);
    assert_eq!(actionable["data"]["assignedTo"][0]["id"], org.owner_id.as_str());
    let granted = events.iter().find(|e| e["eventType"] == "access.granted").unwrap();
    assert_eq!(granted["data"]["userId"], user.as_str());
    assert_eq!(granted["data"]["workAppId"], app.as_str());
    let changed = events.iter().find(|e| e["eventType"] == "access.changed").unwrap();
    assert_eq!(changed["data"]["previousPermissionLevelId"], levels[0].as_str());
    // Every event arrives once.
    let mut ids: Vec<String> =
        events.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "an event was delivered twice");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_their_history() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500, 503]);
    let (sub, _) = srv.subscribe(&org, &receiver.url, &["test"]).await;
    let worker = srv.worker(&[seconds(5), seconds(300), seconds(1800)]);
    let path = format!("/api/v1/Webhooks/{sub}/Deliveries");
    let statuses = || receiver.received().iter().map(|r| r.status).collect::<Vec<_>>();
    send(srv.api(&org, Method::POST, &format!("/api/v1/Webhooks/{sub}/Test"))).await;

    // The first attempt fails at once; the retry is due after the first back-off, not before.
    let first_at = srv.now();
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(statuses(), vec![500]);
    let (_, deliveries) = send(srv.api(&org, Method::GET, &path)).await;
    let d = &deliveries["data"][0];
    assert_eq!((&d["status"], &d["attempts"]), (&json!("Pending"), &json!(1)), "{d}");
    let next: chrono::DateTime<chrono::Utc> =
        d["nextAttemptAt"].as_str().unwrap().parse().expect("nextAttemptAt");
    assert_eq!(next, first_at + seconds(5));
    srv.clock.advance(seconds(5) - chrono::Duration::milliseconds(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "not due before the back-off");
    srv.clock.advance(chrono::Duration::milliseconds(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(statuses(), vec![500, 503]);
    // The second back-off is the schedule's second delay.
    srv.clock.advance(seconds(299));
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "not due before the back-off");
    srv.clock.advance(seconds(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert_eq!(statuses(), vec![500, 503, 200]);

    let (_, deliveries) = send(srv.api(&org, Method::GET, &path)).await;
    let d = &deliveries["data"][0];
    assert_eq!(d["status"], "Delivered");
    assert_eq!(d["attempts"], 3);
    let codes: Vec<i64> = d["attemptHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 503, 200]);

    // Manual retry of a delivered one sends it again.
    let retry = format!("{path}/{}/Retry", d["id"].as_str().unwrap());
    assert_eq!(send(srv.api(&org, Method::POST, &retry)).await.0, StatusCode::ACCEPTED);
    assert_eq!(worker.run_until_idle().await.unwrap(), 1, "due at once, no back-off");
    assert_eq!(receiver.events().len(), 2);
}

/// A burst of events goes out in few POSTs of up to 100 events, each event once and in order,
/// each POST signed as a whole. A failing POST is sent again whole (same body, same
/// `webhook-id`) and holds the later one back; the log shows one row per POST, with its events
/// and one attempt per send.
#[tokio::test]
async fn a_burst_arrives_in_batches_in_order_and_a_failed_batch_is_retried_whole() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[503]);
    let (sub, secret) = srv.subscribe(&org, &receiver.url, &["access.granted"]).await;
    let worker = srv.worker(&[seconds(5)]);
    let mut apps = Vec::new();
    for i in 0..3 {
        apps.push(srv.create_app(&org, &format!("App {i}"), &[]).await.0);
    }
    let mut users = Vec::new();
    for i in 0..50 {
        users.push(
            srv.create_user(&org, &format!("U{i}"), &format!("u{i}@acme.example"), "User").await,
        );
    }
    let entries: Vec<Value> = apps
        .iter()
        .flat_map(|a| users.iter().map(move |u| json!({ "workAppId": a, "userId": u })))
        .collect();
    let (status, body) = srv.bulk_grant(&org, json!(entries)).await;
    assert!(status.is_success(), "{body}");

    // 150 events: a POST of 100, which fails, and one of 50 waiting behind it.
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    srv.clock.advance(seconds(5));
    assert_eq!(worker.run_until_idle().await.unwrap(), 2, "the retry, then the next POST");
    let received = receiver.received();
    assert_eq!(received.iter().map(|r| r.status).collect::<Vec<_>>(), vec![503, 200, 200]);
    let webhook_id = |r: &Received| r.headers["webhook-id"].to_str().unwrap().to_string();
    assert_eq!(received[0].body, received[1].body, "the retry sends the same body");
    assert_eq!(webhook_id(&received[0]), webhook_id(&received[1]));
    assert_ne!(webhook_id(&received[1]), webhook_id(&received[2]));
    let bodies: Vec<Vec<Value>> = received
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap().as_array().unwrap().clone())
        .collect();
    assert_eq!(bodies.iter().map(Vec::len).collect::<Vec<_>>(), vec![100, 100, 50]);
    let key = public_key(&srv, &org).await;
    for r in &received {
        verify(r, &key, &secret, srv.now());
    }
    // Each event once, in the outbox's order (time, then id).
    let events = receiver.events();
    assert_eq!(events.len(), 150);
    let order = |e: &Value| (e["occurredAt"].as_str().unwrap().to_string(), e["id"].to_string());
    let mut sorted = events.clone();
    sorted.sort_by_key(order);
    sorted.dedup_by_key(|e| e["id"].clone());
    assert_eq!(events, sorted, "in order, none twice");

    // The log: one row per POST with its events, one attempt per send.
    let (status, log) =
        send(srv.api(&org, Method::GET, &format!("/api/v1/Webhooks/{sub}/Deliveries"))).await;
    assert_eq!(status, StatusCode::OK);
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    let ids_of = |events: &[Value]| events.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    let first = rows.iter().find(|d| d["id"] == webhook_id(&received[0]).as_str()).unwrap();
    assert_eq!(first["eventCount"], 100);
    assert_eq!(first["eventIds"].as_array().unwrap(), &ids_of(&bodies[0]));
    assert_eq!(first["eventId"], bodies[0][0]["id"]);
    assert_eq!(first["eventType"], "access.granted");
    assert_eq!((&first["status"], &first["attempts"]), (&json!("Delivered"), &json!(2)));
    let codes: Vec<&Value> =
        first["attemptHistory"].as_array().unwrap().iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, vec![&json!(503), &json!(200)]);
    let second = rows.iter().find(|d| d["id"] == webhook_id(&received[2]).as_str()).unwrap();
    assert_eq!(second["eventCount"], 50);
    assert_eq!(second["eventIds"].as_array().unwrap(), &ids_of(&bodies[2]));
    assert_eq!(second["attemptHistory"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_is_given_up_and_a_long_failing_one_disabled() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500; 10]);
    let (sub, _) = srv.subscribe(&org, &receiver.url, &["test"]).await;
    let worker = srv.worker(&[seconds(60)]);
    let test = || send(srv.api(&org, Method::POST, &format!("/api/v1/Webhooks/{sub}/Test")));
    let deliveries = format!("/api/v1/Webhooks/{sub}/Deliveries");
    let enabled = || async {
        let (_, list) = send(srv.api(&org, Method::GET, "/api/v1/Webhooks")).await;
        list["data"][0]["enabled"].as_bool().expect("enabled")
    };
    let failing_since = srv.now();
    test().await;
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    srv.clock.advance(seconds(60));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    let (_, d) = send(srv.api(&org, Method::GET, &deliveries)).await;
    assert_eq!(d["data"][0]["status"], "Failed", "{d}");
    assert_eq!(d["data"][0]["attempts"], 2, "first attempt + one retry, then given up");
    assert_eq!(d["data"][0]["nextAttemptAt"], Value::Null);
    srv.clock.advance(chrono::Duration::days(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "a failed delivery is not retried");

    // The subscription has been failing since its first attempt: a failure just short of five
    // days later leaves it enabled, the first one after five days (that POST's retry: a later
    // one would wait behind it) disables it.
    srv.clock.set(failing_since + chrono::Duration::days(5) - chrono::Duration::milliseconds(1));
    test().await;
    assert_eq!(worker.run_until_idle().await.unwrap(), 1);
    assert!(enabled().await);
    test().await;
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "behind the one waiting to retry");
    srv.clock.advance(seconds(60));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1, "the retry");
    assert!(!enabled().await);
    let (_, audit) =
        send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=webhook.disabled")).await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn subscriptions_are_validated_secret_shown_once_and_isolated() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let path = "/api/v1/Webhooks";
    for (body, code) in [
        (json!({ "targetUrl": "ftp://example.com", "events": ["test"] }), 400),
        (json!({ "targetUrl": "file:///etc/passwd", "events": ["test"] }), 400),
        (json!({ "targetUrl": "https://example.com/h", "events": [] }), 400),
        (json!({ "targetUrl": "https://example.com/h", "events": ["user.exploded"] }), 400),
        (json!({ "targetUrl": "https://example.com/h" }), 400),
    ] {
        let (status, resp) = send(srv.api(&org, Method::POST, path).json(&body)).await;
        assert_problem(status, &resp, code, path);
    }
    let (sub, secret) = srv
        .subscribe(&org, "https://example.com/hook", &["access.granted", "access.granted"])
        .await;
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
    let (_, list) = send(srv.api(&org, Method::GET, path)).await;
    assert_eq!(list["data"][0]["events"], json!(["access.granted"]));
    assert!(list["data"][0].get("secret").is_none());
    assert!(!list.to_string().contains(&secret));

    for (method, p) in [
        (Method::DELETE, format!("{path}/{sub}")),
        (Method::POST, format!("{path}/{sub}/Test")),
        (Method::GET, format!("{path}/{sub}/Deliveries")),
        (Method::POST, format!("{path}/{sub}/Deliveries/{}/Retry", uuid::Uuid::now_v7())),
    ] {
        let (status, body) = send(srv.api(&other, method, &p)).await;
        assert_problem(status, &body, 404, &p);
    }
    let (_, list) = send(srv.api(&other, Method::GET, path)).await;
    assert_eq!(list["data"], json!([]));
    assert_eq!(
        send(srv.api(&org, Method::DELETE, &format!("{path}/{sub}"))).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = send(srv.api(&org, Method::DELETE, &format!("{path}/{sub}"))).await;
    assert_problem(status, &body, 404, &format!("{path}/{sub}"));
    // Each organization signs with its own key.
    let a = srv.api(&org, Method::GET, "/api/Keys").send().await.unwrap().text().await.unwrap();
    let b = srv.api(&other, Method::GET, "/api/Keys").send().await.unwrap().text().await.unwrap();
    assert_ne!(a, b);
    let (status, body) = send(srv.client.get(srv.url("/api/Keys"))).await;
    assert_problem(status, &body, 401, "/api/Keys");
}

#[tokio::test]
async fn audit_log_holds_one_row_per_change_and_filters() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let started = srv.now();
    let a = srv.create_user(&org, "Ann", "ann@acme.example", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{a}"))
            .json(&json!({ "name": "Ann B" })),
    )
    .await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{a}"))
            .json(&json!({ "email": "bad" })),
    )
    .await;
    let (app, _) = srv.create_app(&org, "Notion", &[]).await;
    srv.bulk_grant(&org, json!([{ "workAppId": app, "userId": a }])).await;

    let (status, log) = send(srv.api(&org, Method::GET, "/api/v1/AuditLog")).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> =
        log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "organization.created",
            "user.created",
            "user.updated",
            "work_app.created",
            "access.bulk_granted"
        ]
    );
    let updated = &log["data"][2];
    assert_eq!(updated["before"]["firstName"], "Ann");
    assert_eq!(
        (updated["after"]["firstName"].as_str(), updated["after"]["lastName"].as_str()),
        (Some("Ann"), Some("B"))
    );
    assert_eq!(updated["actorType"], "credential");
    assert!(updated["requestId"].is_string());

    let (_, by_target) =
        send(srv.api(&org, Method::GET, &format!("/api/v1/AuditLog?target={a}"))).await;
    assert_eq!(by_target["data"].as_array().unwrap().len(), 2);
    let (_, by_prefix) = send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=user")).await;
    assert_eq!(by_prefix["data"].as_array().unwrap().len(), 2);
    let since = (started - chrono::Duration::seconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (_, recent) = send(srv.api(
        &org,
        Method::GET,
        &format!("/api/v1/AuditLog?since={since}&action=work_app.created"),
    ))
    .await;
    assert_eq!(recent["data"].as_array().unwrap().len(), 1);
    let actor = updated["actorId"].as_str().unwrap();
    let (_, by_actor) =
        send(srv.api(&org, Method::GET, &format!("/api/v1/AuditLog?actor={actor}"))).await;
    assert_eq!(by_actor["data"].as_array().unwrap().len(), 4);
    let (status, body) = send(srv.api(&org, Method::GET, "/api/v1/AuditLog?since=yesterday")).await;
    assert_problem(status, &body, 400, "/api/v1/AuditLog");

    // Another organization sees only its own history.
    let (_, theirs) = send(srv.api(&other, Method::GET, "/api/v1/AuditLog")).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    // No route updates or deletes audit rows.
    for method in [Method::DELETE, Method::PUT, Method::PATCH] {
        let (status, _) = send(srv.api(&org, method, "/api/v1/AuditLog")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
