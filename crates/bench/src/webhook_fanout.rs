//! webhook-fanout: 10,000 `access.granted` events (one bulk grant of 100 apps × 100 users) to a
//! local receiver; events/s and the p99 lag from the event's time to its arrival. Each event must
//! arrive exactly once.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use portcullis_service::{Actor, ActorKind, Ctx, NewUser, NewWorkApp};
use portcullis_webhooks::{Worker, WorkerConfig};
use serde_json::{json, Value};

use crate::harness::{report, webhook_receiver, Server};

type Arrivals = Arc<Mutex<Vec<(String, DateTime<Utc>, DateTime<Utc>)>>>;

/// Records each event's id, its time and when it arrived.
async fn receiver(arrivals: Arrivals) -> String {
    webhook_receiver(move |e| {
        let now = Utc::now();
        let at = e["occurredAt"].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        if let (Some(id), Some(at)) = (e["id"].as_str(), at) {
            arrivals.lock().expect("lock").push((id.to_string(), at.with_timezone(&Utc), now));
        }
    })
    .await
}

pub async fn run(side: usize) {
    let total = side * side;
    let server = Server::start().await;
    let ctx = Ctx::new(Actor { org_id: server.org.organization_id, kind: ActorKind::System }, None);
    let arrivals: Arrivals = Arc::new(Mutex::new(Vec::new()));
    let url = receiver(arrivals.clone()).await;
    server
        .service
        .create_subscription(&ctx, &url, &["access.granted".to_string()], None)
        .await
        .expect("subscription");
    // Generate the signing key before timing.
    server.service.signing_key(server.org.organization_id).await.expect("key");
    let mut apps = Vec::new();
    let mut users = Vec::new();
    for i in 0..side {
        apps.push(
            server
                .service
                .create_work_app(
                    &ctx,
                    NewWorkApp { name: format!("Fanout {i}"), ..NewWorkApp::default() },
                )
                .await
                .expect("app")
                .app
                .id,
        );
        users.push(
            server
                .service
                .create_user(
                    &ctx,
                    NewUser {
                        first_name: format!("F {i}"),
                        last_name: String::new(),
                        email: format!("f{i}@fanout.example"),
                        manager_id: None,
                        role: None,
                        status: portcullis_domain::UserStatus::Active,
                    },
                )
                .await
                .expect("user")
                .id,
        );
    }
    let config =
        WorkerConfig { poll_interval: Duration::from_millis(20), ..WorkerConfig::default() };
    let worker = Worker::new(server.service.clone(), config).expect("worker");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));

    let entries: Vec<Value> = apps
        .iter()
        .flat_map(|a| users.iter().map(move |u| json!({ "workAppId": a, "userId": u })))
        .collect();
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/WorkApps/Accesses", server.base))
        .header("X-API-KEY", &server.org.api_key)
        .header("X-API-SECRET", &server.org.api_secret)
        .json(&json!({ "data": entries }))
        .send()
        .await
        .expect("grant");
    assert_eq!(response.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if arrivals.lock().expect("lock").len() >= total {
            break;
        }
        assert!(Instant::now() < deadline, "not all events arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let log = arrivals.lock().expect("lock").clone();
    let unique: HashSet<&String> = log.iter().map(|(id, _, _)| id).collect();
    assert_eq!(unique.len(), total, "every event exactly once");
    assert_eq!(log.len(), total, "no event twice");
    let mut lags: Vec<i64> =
        log.iter().map(|(_, at, got)| (*got - *at).num_milliseconds()).collect();
    lags.sort_unstable();
    let p50 = lags[lags.len() / 2];
    let p99 = lags[(lags.len() * 99) / 100];
    report(
        &format!("webhook-fanout-{total}"),
        total as f64 / elapsed.as_secs_f64(),
        "events/s",
        None,
    );
    report("webhook-fanout-lag-p50", p50 as f64, "ms", None);
    report("webhook-fanout-lag-p99", p99 as f64, "ms", None);
}
