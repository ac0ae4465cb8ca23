//! The `portcullis` binary: `init --json` contract, `init` beside a running server, graceful stop.
mod support;

use std::time::Duration;

use support::Portcullis;

#[test]
fn init_json_prints_exactly_the_five_contract_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("sqlite://{}/nested/folder/p.db", dir.path().display()));
    let out = db.init("Acme", "ada@acme.example", "Owner").json;
    let mut keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["apiKey", "apiSecret", "organizationId", "ownerToken", "ownerUserId"]);
    for key in keys {
        assert!(out[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    assert!(uuid::Uuid::parse_str(out["organizationId"].as_str().unwrap()).is_ok());
    assert!(dir.path().join("nested/folder/p.db").exists(), "folder and file created");

    // Bad input fails with a message and a non-zero exit, printing nothing on stdout.
    let bad = db
        .command(&["init", "--org-name", "X", "--owner-email", "nope", "--owner-name", "O"])
        .arg("--json")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("e-mail"));
}

#[tokio::test]
async fn init_works_while_a_server_runs_and_sigterm_stops_it_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let first = db.init("Acme", "ada@acme.example", "Owner");
    let mut server = db.serve(&[]);

    // A second organization created by another process while the server holds the database.
    let second = db.init("Beta", "bob@beta.example", "Owner");
    let client = reqwest::Client::new();
    for org in [&first, &second] {
        let response = org.sign(client.get(server.url("/api/v1/users"))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"][0]["id"], org.owner_id.as_str());
        let response = client
            .get(server.url("/organization/users"))
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    server.terminate();
    let status = server.wait();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let logs = server.logs();
    assert!(logs.contains("portcullis stopped"), "{logs}");
}

#[tokio::test]
async fn token_create_issues_a_working_expiring_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let org = db.init("Acme", "ada@acme.example", "Owner");
    let out = db
        .command(&[
            "token",
            "create",
            "--user-email",
            "ADA@acme.example",
            "--expires-in",
            "30d",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(token["userId"], org.owner_id.as_str());
    assert_eq!(token["organizationId"], org.id.as_str());
    let expires =
        chrono::DateTime::parse_from_rfc3339(token["expiresAt"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");

    let server = db.serve(&[]);
    let response = reqwest::Client::new()
        .get(server.url("/organization/users"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    drop(server);
    assert_eq!(response.status(), 200);

    // Unknown e-mail and bad lifetimes fail cleanly.
    for args in [
        vec!["token", "create", "--user-email", "nobody@acme.example"],
        vec!["token", "create", "--user-email", "ada@acme.example", "--expires-in", "5w"],
    ] {
        let out = db.command(&args).output().unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn credential_and_scim_token_create_print_working_secrets_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let org = db.init("Acme", "ada@acme.example", "Owner");
    let run = |args: &[&str]| {
        let out = db.command(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let rw = run(&["credential", "create", "--org-id", &org.id, "--name", "ci", "--json"]);
    assert_eq!(rw["accessLevel"], "ReadWrite");
    assert_eq!(rw["organizationId"], org.id.as_str());
    let ro = run(&["credential", "create", "--org-id", &org.id, "--read-only", "--json"]);
    assert_eq!(ro["accessLevel"], "ReadOnly");
    let scim = run(&["scim-token", "create", "--org-id", &org.id, "--name", "Okta", "--json"]);
    assert!(scim["token"].as_str().is_some_and(|t| t.starts_with("pcs_")), "{scim}");

    let server = db.serve(&[]);
    let client = reqwest::Client::new();
    let with = |c: &serde_json::Value, method: reqwest::Method, path: &str| {
        client
            .request(method, server.url(path))
            .header("X-API-KEY", c["apiKey"].as_str().unwrap())
            .header("X-API-SECRET", c["apiSecret"].as_str().unwrap())
    };
    let read = with(&ro, reqwest::Method::GET, "/api/v1/users").send().await.unwrap();
    assert_eq!(read.status(), 200);
    let body = serde_json::json!({ "name": "Eve", "email": "eve@acme.example" });
    let write = with(&ro, reqwest::Method::POST, "/api/v1/users").json(&body).send().await.unwrap();
    assert_eq!(write.status(), 403, "a read-only credential cannot write");
    let write = with(&rw, reqwest::Method::POST, "/api/v1/users").json(&body).send().await.unwrap();
    assert_eq!(write.status(), 201);
    let users = client
        .get(server.url("/scim/v2/Users?filter=userName%20eq%20%22eve%40acme.example%22"))
        .bearer_auth(scim["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let users: serde_json::Value = users.json().await.unwrap();
    assert_eq!(users["totalResults"], 1);
    drop(server);

    // An unknown organization fails cleanly, printing nothing on stdout.
    let unknown = uuid::Uuid::now_v7().to_string();
    for args in [
        vec!["credential", "create", "--org-id", unknown.as_str()],
        vec!["scim-token", "create", "--org-id", unknown.as_str()],
    ] {
        let out = db.command(&args).output().unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
    }
}

/// A local webhook receiver: records `(status, webhook-id)` of every request and answers with
/// `answer(n)` for the n-th one (counting from 0).
async fn receiver(
    answer: impl Fn(usize) -> u16 + Clone + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(u16, String)>>>) {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(u16, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (log, answer) = (log.clone(), answer.clone());
            async move {
                let mut log = log.lock().unwrap();
                let status = answer(log.len());
                let id = headers
                    .get("webhook-id")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                log.push((status, id));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hook, received)
}

/// Subscribes `hook` to `test` events and queues one; returns the subscription's deliveries path.
async fn queue_test_event(
    client: &reqwest::Client,
    base: &str,
    org: &support::Org,
    hook: &str,
) -> String {
    let sub: serde_json::Value = org
        .sign(client.post(format!("{base}/api/v1/Webhooks")))
        .json(&serde_json::json!({ "targetUrl": hook, "events": ["test"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sub = sub["data"]["id"].as_str().unwrap().to_string();
    let queued =
        org.sign(client.post(format!("{base}/api/v1/Webhooks/{sub}/Test"))).send().await.unwrap();
    assert_eq!(queued.status(), 202);
    format!("/api/v1/Webhooks/{sub}/Deliveries")
}

/// Polls the delivery list until `done` holds for the first delivery. The server's own worker
/// sends it, so this waits on another process's progress (bounded), not on a back-off.
async fn wait_for_delivery(
    client: &reqwest::Client,
    url: &str,
    org: &support::Org,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let d: serde_json::Value =
            org.sign(client.get(url)).send().await.unwrap().json().await.unwrap();
        if done(&d["data"][0]) {
            return d["data"][0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "{what} never happened: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The outbox survives a crash: a delivery whose first attempt failed is retried by the restarted
/// server (SIGKILL between the attempts), and delivered exactly once successfully.
#[tokio::test]
async fn webhook_retry_survives_a_kill_and_restart() {
    // The first attempt fails; later ones succeed.
    let (hook, received) = receiver(|n| if n == 0 { 500 } else { 200 }).await;
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/p.db", dir.path().display());
    let db = Portcullis::new(path.clone());
    let org = db.init("Acme", "ada@acme.example", "Owner");
    // A back-off far longer than the test: the first server can never retry on its own.
    let mut server = db.serve(&["--webhook-retry-schedule", "1h"]);
    let client = reqwest::Client::new();
    let deliveries = queue_test_event(&client, &server.base, &org, &hook).await;

    // Wait for the failed first attempt to be recorded, then kill the server hard.
    let d = wait_for_delivery(&client, &server.url(&deliveries), &org, "the first attempt", |d| {
        d["attempts"] == 1
    })
    .await;
    assert_eq!(d["status"], "Pending");
    let next: chrono::DateTime<chrono::Utc> = d["nextAttemptAt"].as_str().unwrap().parse().unwrap();
    let back_off = next - chrono::Utc::now();
    assert!(back_off > chrono::Duration::minutes(59), "the retry schedule applies: {d}");
    server.kill();
    assert_eq!(received.lock().unwrap().len(), 1);

    // The binary runs on the wall clock: rather than wait out the back-off, move the retry's due
    // time into the past, as if the server had stayed down for that hour.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
        let moved = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = '2000-01-01T00:00:00.000Z'
             WHERE next_attempt_at IS NOT NULL",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        assert_eq!(moved.rows_affected(), 1);
    }

    // A new process on the same database picks the retry up.
    let server = db.serve(&["--webhook-retry-schedule", "1h"]);
    let d = wait_for_delivery(&client, &server.url(&deliveries), &org, "the retry", |d| {
        d["status"] == "Delivered"
    })
    .await;
    drop(server);
    assert_eq!(d["attempts"], 2);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![500, 200]);
    assert_eq!(got[0].1, got[1].1, "the same event id both times");
}

/// SIGTERM while a webhook is being sent: the process waits for the delivery round to finish and
/// be recorded before it exits, instead of dropping the worker between sending and recording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_waits_for_the_delivery_round_in_progress() {
    use std::sync::{Arc, Mutex};
    // The receiver holds its answer until the test has sent SIGTERM.
    let (arrived_tx, arrived) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::watch::channel(false);
    let arrived_tx = Arc::new(Mutex::new(Some(arrived_tx)));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (arrived_tx, mut released) = (arrived_tx.clone(), released.clone());
            async move {
                if let Some(tx) = arrived_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                let _ = released.wait_for(|r| *r).await;
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let org = db.init("Acme", "ada@acme.example", "Owner");
    let mut server = db.serve(&[]);
    let client = reqwest::Client::new();
    let deliveries = queue_test_event(&client, &server.base, &org, &hook).await;

    tokio::time::timeout(Duration::from_secs(15), arrived)
        .await
        .expect("the worker never sent the delivery")
        .unwrap();
    server.terminate();
    // The receiver answers only once the HTTP server has drained and closed its listener: the
    // point where the process would exit if it did not wait for its background jobs.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while server.listening() {
        assert!(std::time::Instant::now() < deadline, "still listening:\n{}", server.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    release.send(true).unwrap();
    let status = tokio::task::block_in_place(|| server.wait());
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    // Read the outcome back through a server without a worker of its own.
    let server = db.serve(&["--no-webhook-worker"]);
    let d: serde_json::Value =
        org.sign(client.get(server.url(&deliveries))).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["data"][0]["status"], "Delivered", "{d}");
    assert_eq!(d["data"][0]["attempts"], 1, "{d}");
}

#[tokio::test]
async fn metrics_listen_serves_metrics_on_its_own_address_and_not_on_the_main_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let org = db.init("Acme", "ada@acme.example", "Owner");
    let metrics = format!("127.0.0.1:{}", support::free_port());
    let server = db.serve(&["--metrics-listen", &metrics]);
    let http = reqwest::Client::new();
    let users = org.sign(http.get(server.url("/api/v1/users"))).send().await.unwrap();
    assert_eq!(users.status(), 200);
    assert_eq!(http.get(server.url("/metrics")).send().await.unwrap().status(), 404);
    let doc: serde_json::Value =
        http.get(server.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"].get("/metrics").is_none(), "not documented where it is not served");

    let own = http.get(format!("http://{metrics}/metrics")).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/users",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "the main /metrics is a 404");
    // The metrics address serves nothing else.
    let other = http.get(format!("http://{metrics}/api/v1/users")).send().await.unwrap();
    assert_eq!(other.status(), 404);
}

/// The webhook flags of `serve`: by default targets on loopback are refused; the allow-list
/// (flags, or a comma-separated environment variable) and `--webhook-allow-private` open the
/// policy; `--max-webhooks-per-org` limits subscriptions; a bad network stops the server.
#[tokio::test]
async fn serve_flags_set_the_webhook_egress_policy_and_limit() {
    let (hook, received) = receiver(|_| 200).await;
    let dir = tempfile::tempdir().unwrap();
    let strict = Portcullis::new(format!("{}/p.db", dir.path().display()))
        .unset("PORTCULLIS_WEBHOOK_ALLOW_NETWORK");
    let org = strict.init("Acme", "ada@acme.example", "Owner");
    let client = reqwest::Client::new();
    let create = |base: String, url: String| {
        let request = org
            .sign(client.post(format!("{base}/api/v1/Webhooks")))
            .json(&serde_json::json!({ "targetUrl": url, "events": ["test"] }));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
        }
    };

    let server = strict.serve(&[]);
    let (status, body) = create(server.base.clone(), hook.clone()).await;
    assert_eq!(status, 400, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("blocked by egress policy: 127.0.0.1 is loopback"), "{detail}");
    drop(server);

    let args = ["--webhook-allow-network", "10.0.0.0/8", "--webhook-allow-network", "127.0.0.1"];
    let server = strict.serve(&[&args[..], &["--max-webhooks-per-org", "1"]].concat());
    let deliveries = queue_test_event(&client, &server.base, &org, &hook).await;
    let d = wait_for_delivery(&client, &server.url(&deliveries), &org, "delivery", |d| {
        d["status"] == "Delivered"
    })
    .await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(received.lock().unwrap().len(), 1);
    let (status, body) = create(server.base.clone(), "https://hooks.example.com/x".into()).await;
    assert_eq!(status, 409, "{body}");
    drop(server);

    let listed = strict.clone().env("PORTCULLIS_WEBHOOK_ALLOW_NETWORK", "10.0.0.0/8,127.0.0.0/8");
    let server = listed.serve(&[]);
    assert_eq!(create(server.base.clone(), hook.replace("/hook", "/two")).await.0, 201);
    let (status, _) = create(server.base.clone(), "http://[::1]:9/x".into()).await;
    assert_eq!(status, 400, "::1 is not in the list");
    drop(server);
    let server = strict.serve(&["--webhook-allow-private"]);
    assert_eq!(create(server.base.clone(), "http://[::1]:9/x".into()).await.0, 201);
    drop(server);

    let bad =
        strict.command(&["serve", "--webhook-allow-network", "10.0.0.0/33"]).output().unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("'10.0.0.0/33' is not a network like 10.0.0.0/8"), "{stderr}");
}
