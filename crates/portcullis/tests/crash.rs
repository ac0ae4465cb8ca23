//! Crash safety: SIGKILL the server in the middle of 10,000-entry bulk grants and 1,000-user group
//! joins, restart it, and prove every call was all-or-nothing and the outbox lost nothing; and
//! SIGKILL it under 32 concurrent writers, whose writes share commits, and prove that every write
//! it acknowledged survived, whole.
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Connection;
use support::{Portcullis, Server};

const USERS: usize = 1000;

fn serve(db: &Portcullis) -> Server {
    db.serve(&["--rate-limit-per-minute", "0", "--no-webhook-worker"])
}

async fn count(conn: &mut sqlx::SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_bulk_grants_and_group_joins_leaves_every_call_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/p.db", dir.path().display());
    let portcullis = Portcullis::new(db.clone());
    let org = portcullis.init("Crash", "c@crash.example", "C");
    let (key, secret) = (org.key.clone(), org.secret.clone());
    let client = reqwest::Client::new();
    let mut server = serve(&portcullis);
    let post = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("X-API-KEY", &key)
            .header("X-API-SECRET", &secret)
            .json(&body)
            .send()
    };

    let mut users = Vec::new();
    for i in 0..USERS {
        let u: Value = post(
            &server.base,
            "/api/v1/users",
            json!({ "name": format!("U{i}"), "email": format!("u{i}@crash.example") }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        users.push(u["data"]["id"].as_str().unwrap().to_string());
    }
    let mut webhook_sub = post(&server.base, "/api/v1/Webhooks", json!({ "targetUrl": "http://127.0.0.1:9/x", "events": ["access.granted", "group.member_added"] }))
        .await
        .unwrap();
    assert_eq!(webhook_sub.status(), 201);
    webhook_sub = post(
        &server.base,
        "/api/v1/Webhooks",
        json!({ "targetUrl": "http://127.0.0.1:9/y", "events": ["test"] }),
    )
    .await
    .unwrap();
    assert_eq!(webhook_sub.status(), 201);

    let mut killed_mid_call = 0;
    let mut batches: Vec<(&str, Vec<String>)> = Vec::new();
    for iteration in 0..4 {
        // Prepare: 100 apps (bulk grant) or a group with 5 default apps (group join).
        let kind = if iteration % 2 == 0 { "bulk" } else { "join" };
        let app_count = if kind == "bulk" { 100 } else { 5 };
        let mut apps = Vec::new();
        for a in 0..app_count {
            let app: Value = post(&server.base, "/api/v1/WorkApps", json!({ "name": format!("{kind}{iteration}-{a}"), "provisioningMode": "Automatic" }))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            apps.push(app["data"]["id"].as_str().unwrap().to_string());
        }
        let (path, body) = if kind == "bulk" {
            let entries: Vec<Value> = apps
                .iter()
                .flat_map(|a| {
                    users.iter().take(100).map(move |u| json!({ "workAppId": a, "userId": u }))
                })
                .collect();
            ("/api/v1/WorkApps/Accesses".to_string(), json!({ "data": entries }))
        } else {
            let g: Value = post(
                &server.base,
                "/api/v1/UsersGroups",
                json!({ "name": format!("Group {iteration}") }),
            )
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            let g = g["data"]["id"].as_str().unwrap().to_string();
            let defaults: Vec<Value> = apps.iter().map(|a| json!({ "workAppId": a })).collect();
            let put = client
                .put(format!("{}/api/v1/UsersGroups/{g}/DefaultWorkApps", server.base))
                .header("X-API-KEY", &key)
                .header("X-API-SECRET", &secret)
                .json(&json!({ "data": defaults }))
                .send()
                .await
                .unwrap();
            assert_eq!(put.status(), 204);
            (
                format!("/api/v1/UsersGroups/{g}/Users"),
                json!({ "userIds": users, "implicitlyApproveRequests": true }),
            )
        };
        batches.push((kind, apps));
        // Fire the call, and kill the server while it is (most likely) running.
        let call = post(&server.base, &path, body);
        let handle = tokio::spawn(call);
        tokio::time::sleep(Duration::from_millis(150 + 100 * iteration as u64)).await;
        server.kill();
        if handle.await.unwrap().is_err() {
            killed_mid_call += 1;
        }
        server = serve(&portcullis);
    }
    server.kill();

    // Every call either happened entirely, with its outbox events, or not at all.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{db}")).await.unwrap();
    for (kind, apps) in &batches {
        let list = apps.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(",");
        let accesses = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM accesses WHERE work_app_id IN ({list})"),
        )
        .await;
        let events = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM webhook_events WHERE event_type = 'access.granted' AND json_extract(data_json, '$.workAppId') IN ({list})"),
        )
        .await;
        let expected = if *kind == "bulk" { 100 * 100 } else { 5 * USERS as i64 };
        assert!(
            accesses == 0 || accesses == expected,
            "{kind}: {accesses} of {expected} accesses — a partial write"
        );
        assert_eq!(
            events, accesses,
            "{kind}: every access has its event, and no event lacks its access"
        );
        if *kind == "join" {
            let requests = count(
                &mut conn,
                &format!("SELECT COUNT(*) FROM requests WHERE work_app_id IN ({list})"),
            )
            .await;
            assert_eq!(requests, accesses, "join: one completed request per access");
        }
    }
    let members = count(&mut conn, "SELECT COUNT(*) FROM users_group_members").await;
    let member_events = count(
        &mut conn,
        "SELECT COUNT(*) FROM webhook_events WHERE event_type = 'group.member_added'",
    )
    .await;
    assert_eq!(members % USERS as i64, 0, "group joins are whole");
    assert_eq!(member_events, members, "every membership has its event");
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    assert_eq!(integrity, "ok");
    eprintln!("crash test: {} iterations, {killed_mid_call} killed mid-call", batches.len());
}

/// Reads one counter from `/metrics`.
async fn metric(client: &reqwest::Client, base: &str, name: &str) -> u64 {
    let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}_total ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_concurrent_writers_keeps_every_acknowledged_write() {
    const WRITERS: usize = 32;
    const ACKNOWLEDGED_BEFORE_KILL: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/p.db", dir.path().display());
    let portcullis = Portcullis::new(db.clone());
    let org = portcullis.init("Burst", "b@burst.example", "B");
    let client = reqwest::Client::new();
    let mut server = serve(&portcullis);

    // Every writer creates users until its calls fail; a user is acknowledged when its 201 came.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let (enough_tx, mut enough) = tokio::sync::watch::channel(0usize);
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, base, key, secret) =
            (client.clone(), server.base.clone(), org.key.clone(), org.secret.clone());
        let (acknowledged, enough_tx) = (acknowledged.clone(), enough_tx.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let answer = client
                    .post(format!("{base}/api/v1/users"))
                    .header("X-API-KEY", &key)
                    .header("X-API-SECRET", &secret)
                    .json(&json!({ "name": format!("W{w}-{i}"), "email": format!("w{w}-{i}@burst.example") }))
                    .send()
                    .await;
                let Ok(answer) = answer else { return };
                assert_eq!(answer.status(), 201, "before the kill every write succeeds");
                let Ok(body) = answer.json::<Value>().await else { return };
                let id = body["data"]["id"].as_str().unwrap().to_string();
                let mut ids = acknowledged.lock().unwrap();
                ids.push(id);
                enough_tx.send_replace(ids.len());
            }
        }));
    }
    enough.wait_for(|n| *n >= ACKNOWLEDGED_BEFORE_KILL).await.unwrap();
    let writes = metric(&client, &server.base, "db_group_commit_writes").await;
    let commits = metric(&client, &server.base, "db_group_commit_commits").await;
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        commits < writes,
        "the concurrent writes shared commits: {writes} writes in {commits} commits"
    );

    // Every acknowledged user is there after the crash, and every user there is whole: the
    // row and its audit entry were written together.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{db}")).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE email LIKE 'w%@burst.example'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged writes lost, e.g. {:?}", lost.len(), lost.first());
    let audited = count(
        &mut conn,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'user.created' AND target_id IN \
         (SELECT id FROM users WHERE email LIKE 'w%@burst.example')",
    )
    .await;
    assert_eq!(audited, stored.len() as i64, "every stored user has its audit entry");
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
    assert_eq!(integrity, "ok");
    drop(conn);

    // The server starts again on the same file and writes.
    server = serve(&portcullis);
    let answer = client
        .post(format!("{}/api/v1/users", server.base))
        .header("X-API-KEY", &org.key)
        .header("X-API-SECRET", &org.secret)
        .json(&json!({ "name": "After", "email": "after@burst.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    server.kill();
    eprintln!(
        "crash test: {} acknowledged, {} stored, {writes} writes in {commits} commits before the kill",
        acknowledged.len(),
        stored.len()
    );
}
