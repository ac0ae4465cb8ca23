//! Webhooks under hostile or broken receivers: one organization's dead receivers do not delay
//! another's deliveries, a failing subscription backs off on its own, an organization's
//! subscriptions are limited, deliveries only go where the egress policy allows (checked after
//! resolution, without connecting anywhere else), and credentials in target URLs are stored
//! sealed and shown masked.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use portcullis_domain::egress::{parse_network, EgressPolicy};
use portcullis_service::WebhookSettings;
use portcullis_webhooks::{Worker, WorkerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, loopback_receivers, send, Org, Receiver, TestServer};

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not after 30 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A receiver that accepts every connection and never answers: each attempt to it runs into the
/// worker's timeout. Returns its URL and the count of connections it accepted.
async fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// `POST …/Webhooks/{sub}/Test`: one delivery of the `test` event to this subscription.
async fn queue_test(srv: &TestServer, org: &Org, sub: &str) {
    let path = format!("/api/v1/Webhooks/{sub}/Test");
    let (status, body) = send(srv.api(org, Method::POST, &path)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn deliveries(srv: &TestServer, org: &Org, sub: &str) -> Vec<Value> {
    let (status, body) =
        send(srv.api(org, Method::GET, &format!("/api/v1/Webhooks/{sub}/Deliveries"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data").clone()
}

async fn subscription(srv: &TestServer, org: &Org, sub: &str) -> Value {
    let (_, list) = send(srv.api(org, Method::GET, "/api/v1/Webhooks")).await;
    list["data"].as_array().expect("data").iter().find(|s| s["id"] == sub).expect("listed").clone()
}

fn timestamp(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str().map(|s| s.parse().expect("RFC 3339"))
}

/// The starvation scenario: an organization floods 50 subscriptions whose receivers accept the
/// connection and never answer. Another organization's event is delivered while every one of
/// those sends is still hanging: no send waits for another, and the flooding organization holds
/// no more than its share of the worker's slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_receivers_of_one_organization_do_not_delay_another() {
    let srv = TestServer::start_with_webhooks(WebhookSettings {
        max_per_org: 50,
        ..loopback_receivers()
    })
    .await;
    let flood = srv.new_org("Flood").await;
    let calm = srv.new_org("Calm").await;
    let (dead, accepted) = black_hole().await;
    let mut dead_subs = Vec::new();
    for _ in 0..50 {
        dead_subs.push(srv.subscribe(&flood, &dead, &["test"]).await.0);
    }
    for sub in &dead_subs {
        for _ in 0..3 {
            queue_test(&srv, &flood, sub).await;
        }
    }
    let receiver = Receiver::start().await;
    let (calm_sub, _) = srv.subscribe(&calm, &receiver.url, &["test"]).await;

    // A timeout far longer than the test: no hanging send finishes while it runs.
    let config = WorkerConfig {
        timeout: Duration::from_secs(120),
        lease: seconds(300),
        poll_interval: Duration::from_millis(20),
        ..WorkerConfig::default()
    };
    let per_organization = config.per_organization as usize;
    assert!(per_organization < 150, "the flood wants more than its share");
    let worker = Worker::new(srv.service.clone(), config).expect("worker");
    let running = tokio::spawn(worker.run(std::future::pending()));

    // The flood takes its share of slots, all of them hanging.
    eventually("the flood's sends in flight", || {
        accepted.load(Ordering::SeqCst) >= per_organization
    })
    .await;
    queue_test(&srv, &calm, &calm_sub).await;
    eventually("the calm organization's delivery", || receiver.received().len() == 1).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let calm_delivery = loop {
        let d = deliveries(&srv, &calm, &calm_sub).await.remove(0);
        if d["status"] == "Delivered" {
            break d;
        }
        assert!(Instant::now() < deadline, "the delivery was never recorded: {d}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // Delivered and recorded while every one of the flood's sends is still in flight: not one
    // of its attempts has finished, and it never held more than its share.
    let attempted =
        srv.db.strings("SELECT delivery_id FROM webhook_attempts").await.expect("attempts");
    assert_eq!(attempted, vec![calm_delivery["id"].as_str().expect("id").to_string()]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), per_organization, "the flood's cap");
    running.abort();
}

/// A subscription whose receiver keeps failing pauses after five failures in a row: its due
/// deliveries wait without being leased, then a single probe goes; a success resumes it. Its
/// POSTs go one at a time, in order: the failing one holds the later ones back.
#[tokio::test]
async fn a_failing_subscription_pauses_then_probes_then_resumes() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    receiver.answer_next(&[500; 6]);
    let (sub, _) = srv.subscribe(&org, &receiver.url, &["test"]).await;
    let worker = Worker::new(
        srv.service.clone(),
        WorkerConfig { retry_schedule: vec![seconds(5); 10], ..WorkerConfig::default() },
    )
    .expect("worker");
    queue_test(&srv, &org, &sub).await;
    queue_test(&srv, &org, &sub).await;
    let t0 = srv.now();
    // The first POST fails every 5 s; the second waits behind it.
    for i in 0..5 {
        assert_eq!(worker.run_until_idle().await.unwrap(), 1, "attempt {i}");
        srv.clock.advance(seconds(5));
    }
    assert_eq!(receiver.received().iter().filter(|r| r.status == 500).count(), 5);
    // Five in a row (the last at t0 + 20 s): paused for 30 s.
    assert_eq!(
        timestamp(&subscription(&srv, &org, &sub).await["pausedUntil"]),
        Some(t0 + seconds(50))
    );
    // Its retry is due, but nothing is leased while the pause lasts.
    srv.clock.set(t0 + seconds(49));
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "paused");
    // Then one probe; it fails: paused again, for longer.
    srv.clock.advance(seconds(1));
    assert_eq!(worker.run_until_idle().await.unwrap(), 1, "a single probe");
    assert_eq!(receiver.received().len(), 6);
    assert_eq!(
        timestamp(&subscription(&srv, &org, &sub).await["pausedUntil"]),
        Some(t0 + seconds(50) + seconds(60))
    );

    // An administrator's test ends the pause at once; it goes after the POSTs before it, which
    // are sent as soon as the first one's retry is due, in order.
    queue_test(&srv, &org, &sub).await;
    assert_eq!(subscription(&srv, &org, &sub).await["pausedUntil"], Value::Null);
    assert_eq!(worker.run_until_idle().await.unwrap(), 0, "the first one's retry is not due");
    srv.clock.advance(seconds(5));
    assert_eq!(worker.run_until_idle().await.unwrap(), 3, "the retry, then the two after it");
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_string())
        .collect();
    let mut all = deliveries(&srv, &org, &sub).await;
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|d| d["status"] == "Delivered"), "{all:?}");
    all.sort_by_key(|d| d["createdAt"].as_str().map(str::to_string));
    let order: Vec<&str> = all.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids[6..], order, "the POSTs in the order they were queued");
    assert!(ids[..6].iter().all(|id| id == order[0]), "every retry is the same POST");
    assert_eq!(subscription(&srv, &org, &sub).await["pausedUntil"], Value::Null);
}

#[tokio::test]
async fn an_organization_has_at_most_25_webhooks_by_default() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Other").await;
    let mut subs = Vec::new();
    for i in 0..25 {
        subs.push(
            srv.subscribe(&org, &format!("https://hooks.example.com/{i}"), &["test"]).await.0,
        );
    }
    let path = "/api/v1/Webhooks";
    let body = json!({ "targetUrl": "https://hooks.example.com/26", "events": ["test"] });
    let (status, problem) = send(srv.api(&org, Method::POST, path).json(&body)).await;
    assert_problem(status, &problem, 409, path);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("already has 25 webhook subscriptions"), "{detail}");
    assert!(detail.contains("delete one"), "{detail}");
    // Per organization; a deleted one frees its place.
    srv.subscribe(&other, "https://hooks.example.com/other", &["test"]).await;
    let (status, _) = send(srv.api(&org, Method::DELETE, &format!("{path}/{}", subs[0]))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    srv.subscribe(&org, "https://hooks.example.com/26", &["test"]).await;

    // The limit is a setting.
    let small =
        TestServer::start_with_webhooks(WebhookSettings { max_per_org: 1, ..loopback_receivers() })
            .await;
    let org = small.new_org("Small").await;
    small.subscribe(&org, "https://hooks.example.com/1", &["test"]).await;
    let (status, problem) = send(small.api(&org, Method::POST, path).json(&body)).await;
    assert_problem(status, &problem, 409, path);
}

/// The default policy, at creation: every spelling of an internal address is refused with 400.
#[tokio::test]
async fn internal_targets_are_refused_at_creation_by_default() {
    let srv = TestServer::start_with_webhooks(WebhookSettings::default()).await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/Webhooks";
    for (url, refused) in [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is loopback"),
        ("http://127.1/hook", "127.0.0.1 is loopback"),
        ("http://0x7f000001/hook", "127.0.0.1 is loopback"),
        ("http://2130706433/hook", "127.0.0.1 is loopback"),
        ("http://[::1]/hook", "::1 is loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "127.0.0.1 is loopback"),
        ("http://0.0.0.0/hook", "0.0.0.0 is unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://10.1.2.3/hook", "10.1.2.3 is private"),
        ("http://192.168.0.10/hook", "192.168.0.10 is private"),
        ("http://[fd00::1]/hook", "fd00::1 is private (unique local, fc00::/7)"),
        ("http://100.64.0.1/hook", "100.64.0.1 is shared address space"),
        ("http://localhost:9000/hook", "localhost is loopback"),
        ("http://example.com@127.0.0.1/hook", "127.0.0.1 is loopback"),
        ("http://127.0.0.1#@example.com/", "127.0.0.1 is loopback"),
        ("http://metadata.google.internal/", "metadata.google.internal is an internal name"),
    ] {
        let body = json!({ "targetUrl": url, "events": ["test"] });
        let (status, problem) = send(srv.api(&org, Method::POST, path).json(&body)).await;
        assert_problem(status, &problem, 400, path);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("blocked by egress policy: {refused}")),
            "{url}: {detail}"
        );
    }
    let (_, list) = send(srv.api(&org, Method::GET, path)).await;
    assert_eq!(list["data"], json!([]), "nothing was created");
    for url in
        ["https://hooks.example.com/in", "http://8.8.8.8/hook", "http://example.com#@127.0.0.1/"]
    {
        srv.subscribe(&org, url, &["test"]).await;
    }
}

/// A worker under the default policy on the given server's data (whose own policy let the
/// subscriptions be created), with `hook.test` resolving to 127.0.0.1.
fn worker_with(srv: &TestServer, egress: EgressPolicy) -> Worker {
    let service = srv
        .service
        .clone()
        .with_webhook_settings(WebhookSettings { egress, ..WebhookSettings::default() });
    let config = WorkerConfig {
        retry_schedule: vec![seconds(60)],
        hosts: vec![("hook.test".into(), "127.0.0.1".parse().unwrap())],
        ..WorkerConfig::default()
    };
    Worker::new(service, config).expect("worker")
}

/// At delivery the policy is applied after resolution: a name that resolves to loopback (through
/// the system resolver or a fixed entry) and literal loopback spellings fail with the policy's
/// error, and no connection reaches the listening receiver.
#[tokio::test]
async fn deliveries_to_loopback_fail_with_the_policy_error_without_connecting() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    let port = receiver.authority().rsplit(':').next().unwrap().to_string();
    let mut subs = Vec::new();
    for (host, error) in [
        ("hook.test", "blocked by egress policy: 127.0.0.1 (from hook.test) is loopback"),
        ("localhost", " (from localhost) is loopback"),
        ("127.0.0.1", "blocked by egress policy: 127.0.0.1 is loopback"),
        ("[::ffff:127.0.0.1]", "blocked by egress policy: 127.0.0.1 is loopback"),
        ("127.1", "blocked by egress policy: 127.0.0.1 is loopback"),
    ] {
        let (sub, _) = srv.subscribe(&org, &format!("http://{host}:{port}/hook"), &["test"]).await;
        queue_test(&srv, &org, &sub).await;
        subs.push((sub, error));
    }
    let strict = worker_with(&srv, EgressPolicy::public_only());
    assert_eq!(strict.run_until_idle().await.unwrap(), subs.len());
    for (sub, error) in &subs {
        let d = &deliveries(&srv, &org, sub).await[0];
        assert_eq!((&d["status"], &d["attempts"]), (&json!("Pending"), &json!(1)), "{d}");
        let recorded = d["lastError"].as_str().unwrap();
        assert!(recorded.starts_with("blocked by egress policy: "), "{recorded}");
        assert!(recorded.contains(error), "{recorded} ≠ {error}");
        assert_eq!(d["attemptHistory"][0]["error"], d["lastError"]);
        assert_eq!(d["attemptHistory"][0]["statusCode"], Value::Null);
    }
    assert_eq!(receiver.connections(), 0, "no connection was made");
    assert!(receiver.received().is_empty());

    // The same deliveries with 127.0.0.0/8 allowed: the receiver was there all along.
    srv.clock.advance(seconds(60));
    let listed = worker_with(&srv, EgressPolicy::allowing(["127.0.0.0/8".parse().unwrap()]));
    listed.run_until_idle().await.unwrap();
    for (sub, _) in &subs {
        let d = &deliveries(&srv, &org, sub).await[0];
        assert_eq!(d["status"], "Delivered", "{d}");
    }
    assert_eq!(receiver.received().len(), subs.len());
}

/// The allow-list opens exactly its networks; `allow_private` opens everything.
#[tokio::test]
async fn the_allow_list_and_allow_private_open_the_policy_for_deliveries() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    let (sub, _) = srv.subscribe(&org, &receiver.url, &["test"]).await;
    let d = || async { deliveries(&srv, &org, &sub).await[0].clone() };

    queue_test(&srv, &org, &sub).await;
    let other_net = worker_with(&srv, EgressPolicy::allowing(["10.0.0.0/8".parse().unwrap()]));
    assert_eq!(other_net.run_until_idle().await.unwrap(), 1);
    assert_eq!(d().await["lastError"], "blocked by egress policy: 127.0.0.1 is loopback");
    let one_address =
        worker_with(&srv, EgressPolicy::allowing([parse_network("127.0.0.2").unwrap()]));
    srv.clock.advance(seconds(60));
    assert_eq!(one_address.run_until_idle().await.unwrap(), 1);
    assert_eq!(receiver.connections(), 0);

    let open = EgressPolicy { allow_private: true, allowed_networks: vec![] };
    srv.clock.advance(seconds(60));
    let retry =
        format!("/api/v1/Webhooks/{sub}/Deliveries/{}/Retry", d().await["id"].as_str().unwrap());
    assert_eq!(send(srv.api(&org, Method::POST, &retry)).await.0, StatusCode::ACCEPTED);
    assert_eq!(worker_with(&srv, open).run_until_idle().await.unwrap(), 1);
    assert_eq!(d().await["status"], "Delivered");
    assert_eq!(receiver.received().len(), 1);

    // Through a name too, with the network of its address allowed.
    let (named, _) =
        srv.subscribe(&org, &receiver.url.replace("127.0.0.1", "hook.test"), &["test"]).await;
    queue_test(&srv, &org, &named).await;
    let listed = worker_with(&srv, EgressPolicy::allowing(["127.0.0.1/32".parse().unwrap()]));
    assert_eq!(listed.run_until_idle().await.unwrap(), 1);
    assert_eq!(deliveries(&srv, &org, &named).await[0]["status"], "Delivered");
}

const PASSWORD: &str = "s3cr3t-pw";
const TOKEN: &str = "t0k3n-value";

/// A URL with credentials: sealed at rest, masked in every answer, the audit log and the
/// console; the delivery uses the real one; a failed attempt's error does not reveal it.
#[tokio::test]
async fn credentials_in_target_urls_are_sealed_masked_and_used_for_delivery() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    let authority = receiver.authority().trim_start_matches("http://");
    let url = format!("http://hook-user:{PASSWORD}@{authority}/hook?token={TOKEN}&x=1");
    let masked = format!("http://hook-user:***@{authority}/hook?token=***&x=1");
    let (status, created) =
        send(srv.api(&org, Method::POST, "/api/v1/Webhooks").json(
            &json!({ "targetUrl": url, "events": ["test"], "description": "with credentials" }),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["targetUrl"], masked);
    let sub = created["data"]["id"].as_str().unwrap().to_string();
    // A second one whose receiver is not there: its error must not show the URL either.
    let closed = format!("http://u:{PASSWORD}@127.0.0.1:1/hook?api_key={TOKEN}");
    let (closed_sub, _) = srv.subscribe(&org, &closed, &["test"]).await;

    let (_, list) = send(srv.api(&org, Method::GET, "/api/v1/Webhooks")).await;
    assert_eq!(subscription(&srv, &org, &sub).await["targetUrl"], masked);
    let (_, audit) =
        send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=webhook.created")).await;
    let snapshots: Vec<&Value> =
        audit["data"].as_array().unwrap().iter().map(|e| &e["after"]["targetUrl"]).collect();
    assert_eq!(snapshots.len(), 2);
    assert!(snapshots.contains(&&json!(masked)), "{audit}");
    // Stored: the masked form in the clear, the real one only sealed.
    let stored = srv.db.strings("SELECT target_url FROM webhook_subscriptions").await.unwrap();
    let sealed = srv
        .db
        .strings("SELECT id FROM webhook_subscriptions WHERE target_url_ciphertext IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(sealed.len(), 2);

    queue_test(&srv, &org, &sub).await;
    queue_test(&srv, &org, &closed_sub).await;
    assert_eq!(srv.worker(&[seconds(60)]).run_until_idle().await.unwrap(), 2);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].uri, format!("/hook?token={TOKEN}&x=1"));
    let basic = format!("Basic {}", STANDARD.encode(format!("hook-user:{PASSWORD}")));
    assert_eq!(got[0].headers["authorization"], basic.as_str());
    let failed = &deliveries(&srv, &org, &closed_sub).await[0];
    assert!(failed["lastError"].as_str().is_some_and(|e| !e.is_empty()), "{failed}");
    let history = json!([deliveries(&srv, &org, &sub).await, failed]).to_string();

    // The console's webhook pages.
    let console = srv.base.clone();
    let (session_id, _) = srv.service.open_console_session(&org.token).await.unwrap();
    let cookie = format!("{}={session_id}", portcullis_web::SESSION_COOKIE);
    let mut pages = String::new();
    for path in [
        "/admin/webhooks".to_string(),
        format!("/admin/webhooks/{closed_sub}"),
        "/admin/audit".into(),
    ] {
        let page = srv
            .client
            .get(format!("{console}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        pages.push_str(&page.text().await.unwrap());
    }
    assert!(pages.contains(&masked.replace('&', "&amp;")), "the console shows the masked URL");

    for (place, text) in [
        ("created", created.to_string()),
        ("list", list.to_string()),
        ("audit", audit.to_string()),
        ("stored", stored.join(" ")),
        ("deliveries", history),
        ("console", pages),
    ] {
        for secret in [PASSWORD, TOKEN] {
            assert!(!text.contains(secret), "{place} shows {secret}: {text}");
        }
    }
}

/// A URL with credentials stored in plain text by an earlier version is sealed at start.
#[tokio::test]
async fn plain_credentials_of_earlier_versions_are_sealed_at_start() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let receiver = Receiver::start().await;
    let (sub, _) = srv.subscribe(&org, &receiver.url, &["test"]).await;
    let plain = receiver.url.replace("http://", &format!("http://old:{PASSWORD}@"));
    srv.db
        .execute(&format!("UPDATE webhook_subscriptions SET target_url = '{plain}?token={TOKEN}'"))
        .await
        .unwrap();
    assert_eq!(srv.service.seal_plain_target_urls().await.unwrap(), 1);
    assert_eq!(srv.service.seal_plain_target_urls().await.unwrap(), 0, "once");
    let shown = subscription(&srv, &org, &sub).await["targetUrl"].as_str().unwrap().to_string();
    assert_eq!(shown, receiver.url.replace("http://", "http://old:***@") + "?token=***");
    let stored = srv.db.strings("SELECT target_url FROM webhook_subscriptions").await.unwrap();
    assert_eq!(stored, vec![shown]);
    queue_test(&srv, &org, &sub).await;
    srv.worker(&[seconds(60)]).run_until_idle().await.unwrap();
    let got = receiver.received();
    assert_eq!(got[0].uri, format!("/hook?token={TOKEN}"));
    let basic = format!("Basic {}", STANDARD.encode(format!("old:{PASSWORD}")));
    assert_eq!(got[0].headers["authorization"], basic.as_str());
}

/// A success recorded after a failure makes the subscription healthy again (and a failure is
/// counted once). One POST per subscription is in flight at a time, so the two POSTs go one
/// after the other: the second only once the first is given up.
#[tokio::test]
async fn a_success_recorded_after_a_failure_makes_the_subscription_healthy() {
    use portcullis_domain::webhook::{CircuitBreaker, LeaseLimits};
    use portcullis_service::{AttemptOutcome, WorkerStep};
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (sub, _) = srv.subscribe(&org, "https://hooks.example.com/in", &["test"]).await;
    queue_test(&srv, &org, &sub).await;
    queue_test(&srv, &org, &sub).await;
    let limits = LeaseLimits {
        total: 10,
        per_subscription: 10,
        per_organization: 10,
        probe_after_failures: 5,
    };
    let step = |finished| WorkerStep {
        finished,
        schedule: &[],
        circuit: CircuitBreaker::default(),
        dispatch: 10,
        lease: Some((limits, seconds(60))),
    };
    let (_, jobs) = srv.service.worker_step(step(&[])).await.unwrap();
    assert_eq!(jobs.len(), 1, "one POST of the subscription at a time");
    let outcome =
        |status: u16| AttemptOutcome { status_code: Some(status), error: None, duration_ms: 1 };
    let failed = [(jobs[0].job.clone(), outcome(500), srv.now())];
    let (_, next) = srv.service.worker_step(step(&failed)).await.unwrap();
    let listed = subscription(&srv, &org, &sub).await;
    assert_eq!(timestamp(&listed["failingSince"]), Some(srv.now()), "{listed}");
    assert_eq!(next.len(), 1, "the first given up (no retries), the second goes");
    assert_ne!(next[0].job.delivery.id, jobs[0].job.delivery.id);
    let succeeded = [(next[0].job.clone(), outcome(204), srv.now())];
    srv.service.worker_step(step(&succeeded)).await.unwrap();
    let listed = subscription(&srv, &org, &sub).await;
    assert_eq!(listed["failingSince"], Value::Null, "{listed}");
    assert_eq!(listed["enabled"], true);
}
