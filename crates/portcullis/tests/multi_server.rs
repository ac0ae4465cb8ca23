//! Two `portcullis serve` processes on one PostgreSQL database: 1,000 approvals split (and raced)
//! across them; every access granted exactly once, every webhook event delivered once.
//! Runs when `PORTCULLIS_TEST_DATABASE_URL` names a PostgreSQL database (CI always sets it).
mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::Portcullis;

const N: usize = 1000;

/// A fresh database next to the test database.
async fn fresh_database(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let name = format!("multi_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_one_postgres_database() {
    let Some(test_url) =
        std::env::var("PORTCULLIS_TEST_DATABASE_URL").ok().filter(|url| !url.is_empty())
    else {
        eprintln!("skipped: PORTCULLIS_TEST_DATABASE_URL is not set (CI sets it to a PostgreSQL database)");
        return;
    };
    let url = fresh_database(&test_url).await;
    let key = "b3Ahx1OqSxzAt3KB6VY0x+0bF3WJvSEQ0wCKjmGA6rI=";

    // A webhook receiver counting deliveries per event id.
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let events: Value = serde_json::from_slice(&body).unwrap();
                for e in events.as_array().unwrap() {
                    log.lock().unwrap().push(e["id"].as_str().unwrap().to_string());
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let portcullis = Portcullis::new(url.clone()).env("PORTCULLIS_MASTER_KEY", key);
    let org = portcullis.init("Multi", "o@multi.example", "O");
    // One heavy caller: the per-credential rate limit is not under test here.
    let serve = || portcullis.serve(&["--rate-limit-per-minute", "0"]);
    let (mut a, mut b) = (serve(), serve());
    let bases = [a.base.clone(), b.base.clone()];
    let client = reqwest::Client::new();
    let call = |i: usize, method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{}{path}", bases[i % 2]))
            .header("X-API-KEY", &org.key)
            .header("X-API-SECRET", &org.secret)
            .json(&body)
            .send()
    };

    let sub = call(
        0,
        reqwest::Method::POST,
        "/api/v1/Webhooks",
        json!({ "targetUrl": hook, "events": ["access.granted"] }),
    )
    .await
    .unwrap();
    assert_eq!(sub.status(), 201);
    let app: Value = call(
        1,
        reqwest::Method::POST,
        "/api/v1/WorkApps",
        json!({ "name": "Shared", "provisioningMode": "Automatic" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let app_id = app["data"]["id"].as_str().unwrap().to_string();
    let policy: Value = call(0, reqwest::Method::POST, "/api/v1/Policies", json!({
        "name": "One admin review", "requestType": "GrantAccessRequest", "steps": [{ "approver": "Administrators" }]
    }))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let set = call(
        1,
        reqwest::Method::PUT,
        &format!("/api/v1/WorkApps/{app_id}/Policies/GrantAccessRequest"),
        json!({ "policyId": policy["data"]["id"] }),
    )
    .await
    .unwrap();
    assert_eq!(set.status(), 204);

    // 1,000 users and requests, created alternately on both servers, 16 at a time.
    let tasks: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    for chunk in (0..N).collect::<Vec<_>>().chunks(16) {
        let mut handles = Vec::new();
        for &i in chunk {
            let call_user = call(
                i,
                reqwest::Method::POST,
                "/api/v1/users",
                json!({ "name": format!("U{i}"), "email": format!("u{i}@multi.example") }),
            );
            let client = client.clone();
            let bases = bases.clone();
            let org = org.clone();
            let app_id = app_id.clone();
            let tasks = tasks.clone();
            handles.push(tokio::spawn(async move {
                let user: Value = call_user.await.unwrap().json().await.unwrap();
                let request: Value = client
                    .post(format!("{}/api/v1/Requests/GrantAccess", bases[(i + 1) % 2]))
                    .header("X-API-KEY", &org.key)
                    .header("X-API-SECRET", &org.secret)
                    .json(&json!({ "workAppId": app_id, "targetUserId": user["data"]["id"] }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tasks
                    .lock()
                    .unwrap()
                    .push(request["data"]["tasks"][0]["id"].as_str().unwrap().to_string());
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    }
    let tasks = tasks.lock().unwrap().clone();
    assert_eq!(tasks.len(), N);

    // Each approval is sent to both servers at once: exactly one wins, the other gets 409.
    for chunk in tasks.chunks(16) {
        let mut handles = Vec::new();
        for task in chunk {
            for base in &bases {
                let request = client
                    .post(format!("{base}/api/v1/Tasks/{task}/Approve"))
                    .header("X-API-KEY", &org.key)
                    .header("X-API-SECRET", &org.secret)
                    .send();
                handles.push((task.clone(), tokio::spawn(request)));
            }
        }
        let mut outcomes: std::collections::HashMap<String, Vec<u16>> =
            std::collections::HashMap::new();
        for (task, h) in handles {
            outcomes.entry(task).or_default().push(h.await.unwrap().unwrap().status().as_u16());
        }
        for (task, mut codes) in outcomes {
            codes.sort_unstable();
            assert_eq!(codes, vec![200, 409], "task {task}: exactly one winner");
        }
    }

    // Every access granted exactly once.
    let mut users = HashSet::new();
    let mut next = Some(format!("/api/v1/WorkApps/{app_id}/Accesses"));
    while let Some(link) = next {
        let page: Value =
            call(0, reqwest::Method::GET, &link, json!(null)).await.unwrap().json().await.unwrap();
        for access in page["data"].as_array().unwrap() {
            assert!(users.insert(access["user"]["id"].as_str().unwrap().to_string()));
        }
        next = page["links"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(users.len(), N);
    let mut granted = 0;
    let mut next = Some("/api/v1/AuditLog?action=access.granted".to_string());
    while let Some(link) = next {
        let page: Value =
            call(1, reqwest::Method::GET, &link, json!(null)).await.unwrap().json().await.unwrap();
        granted += page["data"].as_array().unwrap().len();
        next = page["links"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(granted, N, "one access.granted audit row per access");

    // Every event delivered, none twice (both servers run a worker on the same outbox).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = seen.lock().unwrap().clone();
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "an event was delivered twice");
        if unique.len() == N {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {N} events delivered",
            unique.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stop both servers gracefully: each finishes and records the delivery round it is in
    // before exiting, so once both are gone no further delivery can arrive.
    a.terminate();
    b.terminate();
    for server in [&mut a, &mut b] {
        let status = tokio::task::block_in_place(|| server.wait());
        assert!(status.success(), "graceful stop exits 0, got {status}");
    }
    assert_eq!(seen.lock().unwrap().len(), N, "no late duplicates");
}
