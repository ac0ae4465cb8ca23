//! Secrets never reach logs, error bodies or the audit log; the binary logs at debug level.
mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::Portcullis;

#[tokio::test]
async fn secrets_and_tokens_never_appear_in_logs_errors_or_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let portcullis =
        Portcullis::new(format!("{}/p.db", dir.path().display())).env("RUST_LOG", "debug");
    let org = portcullis.init("Acme", "a@acme.example", "A");
    let init_logs = org.stderr.clone();
    let mut server = portcullis.serve(&[]);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let (key, secret, token) = (org.key.clone(), org.secret.clone(), org.token.clone());
    let api = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}{path}"))
            .header("X-API-KEY", &key)
            .header("X-API-SECRET", &secret)
    };
    let mut secrets = vec![secret.clone(), token.clone()];
    let cred: Value = api(reqwest::Method::POST, "/api/v1/ApiCredentials")
        .json(&json!({ "name": "ci" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.push(cred["data"]["apiSecret"].as_str().unwrap().to_string());
    let owner = &org.owner_id;
    let tok: Value = api(reqwest::Method::POST, &format!("/api/v1/users/{owner}/Tokens"))
        .json(&json!({ "name": "laptop" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.push(tok["data"]["token"].as_str().unwrap().to_string());
    let hook: Value = api(reqwest::Method::POST, "/api/v1/Webhooks")
        .json(&json!({ "targetUrl": "http://127.0.0.1:9/none", "events": ["test"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.push(hook["data"]["secret"].as_str().unwrap().to_string());
    // Use them, correctly and wrongly, so every path that could log them runs.
    for s in &secrets {
        let _ =
            client.get(format!("{base}/organization/users")).bearer_auth(s).send().await.unwrap();
        let bad = client
            .get(format!("{base}/api/v1/users"))
            .header("X-API-KEY", &key)
            .header("X-API-SECRET", format!("{s}x"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 401);
        let body = bad.text().await.unwrap();
        assert!(!body.contains(s.as_str()), "an error body echoes a secret");
    }
    let hook_id = hook["data"]["id"].as_str().unwrap();
    let _ = api(reqwest::Method::POST, &format!("/api/v1/Webhooks/{hook_id}/Test")).send().await;
    // Wait until the server's worker has attempted the (failing) delivery, so that the delivery
    // path has logged whatever it logs. This waits on the other process, bounded.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let d: Value = api(reqwest::Method::GET, &format!("/api/v1/Webhooks/{hook_id}/Deliveries"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if d["data"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the delivery was never attempted: {d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let audit =
        api(reqwest::Method::GET, "/api/v1/AuditLog").send().await.unwrap().text().await.unwrap();
    let listings = [
        api(reqwest::Method::GET, "/api/v1/ApiCredentials")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        api(reqwest::Method::GET, "/api/v1/Webhooks").send().await.unwrap().text().await.unwrap(),
    ];

    server.kill();
    let logs = server.logs();
    assert!(logs.contains("request"), "debug logs were captured");
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "a secret appears in the server log");
        assert!(!init_logs.contains(s.as_str()), "a secret appears in the init log");
        assert!(!audit.contains(s.as_str()), "a secret appears in the audit log");
        for listing in &listings {
            assert!(!listing.contains(s.as_str()), "a listing shows a secret again");
        }
        // Secrets carry at least 128 bits: 32 random bytes in base64 (43+ characters) after a prefix.
        let random = s
            .strip_prefix("sk_")
            .or_else(|| s.strip_prefix("whsec_"))
            .or_else(|| s.strip_prefix("pct_").map(|t| &t[33..]))
            .unwrap();
        assert!(random.len() >= 43, "{random}");
    }
    // Stored hashed or encrypted: the raw database file contains none of them.
    let raw = std::fs::read(format!("{}/p.db", dir.path().display())).unwrap();
    let wal = std::fs::read(format!("{}/p.db-wal", dir.path().display())).unwrap_or_default();
    for s in &secrets {
        for bytes in [&raw, &wal] {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret is stored in clear"
            );
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_folder_and_files_are_private_and_loose_ones_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();

    // A new data folder: 0700, and the database with its WAL files 0600, like master.key.
    let data = dir.path().join("data");
    let portcullis = Portcullis::new(format!("sqlite://{}/p.db", data.display()));
    let org = portcullis.init("Acme", "a@acme.example", "A");
    let server = portcullis.serve(&[]);
    let created = org
        .sign(reqwest::Client::new().post(server.url("/api/v1/users")))
        .json(&json!({ "name": "Bo", "email": "bo@acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(mode(&data), 0o700);
    for file in ["p.db", "p.db-wal", "p.db-shm", "master.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    drop(server);

    // A folder and files other users can read are tightened at start.
    let loose = dir.path().join("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::write(loose.join("p.db"), b"").unwrap();
    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    std::fs::write(loose.join("master.key"), key).unwrap();
    for (path, m) in
        [(loose.clone(), 0o755), (loose.join("p.db"), 0o644), (loose.join("master.key"), 0o644)]
    {
        set(&path, m);
    }
    let org = Portcullis::new(format!("{}/p.db", loose.display())).init("B", "b@b.example", "B");
    assert!(org.stderr.contains("tightened permissions"), "{}", org.stderr);
    assert_eq!(mode(&loose), 0o700);
    assert_eq!(mode(&loose.join("p.db")), 0o600);
    assert_eq!(mode(&loose.join("master.key")), 0o600);

    // A shared folder (other files in it) is not ours to change: a warning, the files still 0600.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("notes.txt"), b"mine").unwrap();
    set(&shared, 0o755);
    let org = Portcullis::new(format!("{}/p.db", shared.display())).init("C", "c@c.example", "C");
    assert!(org.stderr.contains("give the database a folder of its own"), "{}", org.stderr);
    assert_eq!(mode(&shared), 0o755);
    assert_eq!(mode(&shared.join("p.db")), 0o600);
    assert_eq!(mode(&shared.join("master.key")), 0o600);
}
