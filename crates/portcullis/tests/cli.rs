//! The `portcullis` binary: `init --json` contract, `init` beside a running server, graceful stop.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn init(db: &str, org: &str, email: &str) -> serde_json::Value {
    let out = Command::new(BIN)
        .args([
            "init",
            "--org-name",
            org,
            "--owner-email",
            email,
            "--owner-name",
            "Owner",
            "--json",
        ])
        .args(["--database-url", db])
        .output()
        .expect("run init");
    assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.trim().lines().count(), 1, "exactly one line on stdout: {stdout}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[test]
fn init_json_prints_exactly_the_five_contract_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/nested/folder/p.db", dir.path().display());
    let out = init(&db, "Acme", "ada@acme.example");
    let mut keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["apiKey", "apiSecret", "organizationId", "ownerToken", "ownerUserId"]);
    for key in keys {
        assert!(out[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    assert!(uuid::Uuid::parse_str(out["organizationId"].as_str().unwrap()).is_ok());
    assert!(dir.path().join("nested/folder/p.db").exists(), "folder and file created");

    // Bad input fails with a message and a non-zero exit, printing nothing on stdout.
    let bad = Command::new(BIN)
        .args(["init", "--org-name", "X", "--owner-email", "nope", "--owner-name", "O", "--json"])
        .args(["--database-url", &db])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("e-mail"));
}

/// Starts `portcullis serve` on a free port and returns the child and its base URL.
fn serve(db: &str) -> (std::process::Child, String) {
    serve_with(db, &[])
}

fn serve_with(db: &str, extra: &[&str]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", db])
        .args(extra)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("server exited early").unwrap();
        if line.contains("portcullis listening") {
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn init_works_while_a_server_runs_and_sigterm_stops_it_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/p.db", dir.path().display());
    let first = init(&db, "Acme", "ada@acme.example");
    let (mut child, base) = serve(&db);

    // A second organization created by another process while the server holds the database.
    let second = init(&db, "Beta", "bob@beta.example");
    let client = reqwest::Client::new();
    for org in [&first, &second] {
        let response = client
            .get(format!("{base}/api/v1/users"))
            .header("X-API-KEY", org["apiKey"].as_str().unwrap())
            .header("X-API-SECRET", org["apiSecret"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"][0]["id"], org["ownerUserId"]);
        let response = client
            .get(format!("{base}/organization/users"))
            .bearer_auth(org["ownerToken"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(waited < Duration::from_secs(10), "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[tokio::test]
async fn token_create_issues_a_working_expiring_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/p.db", dir.path().display());
    let org = init(&db, "Acme", "ada@acme.example");
    let out = Command::new(BIN)
        .args([
            "token",
            "create",
            "--user-email",
            "ADA@acme.example",
            "--expires-in",
            "30d",
            "--json",
        ])
        .args(["--database-url", &db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(token["userId"], org["ownerUserId"]);
    assert_eq!(token["organizationId"], org["organizationId"]);
    let expires =
        chrono::DateTime::parse_from_rfc3339(token["expiresAt"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");

    let (mut child, base) = serve(&db);
    let response = reqwest::Client::new()
        .get(format!("{base}/organization/users"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(response.status(), 200);

    // Unknown e-mail and bad lifetimes fail cleanly.
    for args in [
        vec!["token", "create", "--user-email", "nobody@acme.example"],
        vec!["token", "create", "--user-email", "ada@acme.example", "--expires-in", "5w"],
    ] {
        let out = Command::new(BIN).args(&args).args(["--database-url", &db]).output().unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
    }
}

/// The outbox survives a crash: a delivery whose first attempt failed is retried by the restarted
/// server (SIGKILL between the attempts), and delivered exactly once successfully.
#[tokio::test]
async fn webhook_retry_survives_a_kill_and_restart() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(u16, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let log = log.clone();
            async move {
                let mut log = log.lock().unwrap();
                // The first attempt fails; later ones succeed.
                let status = if log.is_empty() { 500 } else { 200 };
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

    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/p.db", dir.path().display());
    let org = init(&db, "Acme", "ada@acme.example");
    let schedule = ["--webhook-retry-schedule", "3s"];
    let (mut child, base) = serve_with(&db, &schedule);
    let client = reqwest::Client::new();
    let api = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}{path}"))
            .header("X-API-KEY", org["apiKey"].as_str().unwrap())
            .header("X-API-SECRET", org["apiSecret"].as_str().unwrap())
    };
    let sub: serde_json::Value = api(reqwest::Method::POST, "/api/v1/Webhooks")
        .json(&serde_json::json!({ "targetUrl": hook, "events": ["test"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sub = sub["data"]["id"].as_str().unwrap().to_string();
    let queued =
        api(reqwest::Method::POST, &format!("/api/v1/Webhooks/{sub}/Test")).send().await.unwrap();
    assert_eq!(queued.status(), 202);

    // Wait for the failed first attempt to be recorded, then kill the server hard.
    let deliveries = format!("/api/v1/Webhooks/{sub}/Deliveries");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d: serde_json::Value =
            api(reqwest::Method::GET, &deliveries).send().await.unwrap().json().await.unwrap();
        if d["data"][0]["attempts"] == 1 {
            assert_eq!(d["data"][0]["status"], "Pending");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "first attempt never recorded: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(received.lock().unwrap().len(), 1);

    // A new process on the same database picks the retry up.
    let (mut child, base) = serve_with(&db, &schedule);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let d = loop {
        let d: serde_json::Value = client
            .get(format!("{base}{deliveries}"))
            .header("X-API-KEY", org["apiKey"].as_str().unwrap())
            .header("X-API-SECRET", org["apiSecret"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if d["data"][0]["status"] == "Delivered" {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "never delivered after restart: {d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(d["data"][0]["attempts"], 2);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![500, 200]);
    assert_eq!(got[0].1, got[1].1, "the same event id both times");
}
