//! webhook-isolation: the delivery latency of a healthy organization's webhooks while another
//! organization floods 50 dead subscriptions (receivers that accept the connection and never
//! answer, so each attempt runs into the 15 s timeout), against the same latency with no flood
//! (the in-run baseline). The worker runs with its production settings.
//!
//! The healthy organization queues one `test` event every 50 ms to a local receiver; the latency
//! is from queueing to arrival. With the flood on, every dead subscription starts with 5
//! deliveries queued and gets another every second while the measurement runs.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_service::{Actor, ActorKind, Ctx};
use portcullis_webhooks::{Worker, WorkerConfig};
use uuid::Uuid;

use crate::harness::{report, webhook_receiver, Server};

const DEAD_SUBSCRIPTIONS: usize = 50;
const EVERY: Duration = Duration::from_millis(50);

type Arrivals = Arc<Mutex<HashMap<Uuid, Instant>>>;

/// A receiver that records when each event arrived.
async fn receiver(arrivals: Arrivals) -> String {
    webhook_receiver(move |e| {
        let now = Instant::now();
        if let Some(id) = e["id"].as_str().and_then(|id| id.parse().ok()) {
            arrivals.lock().expect("lock").entry(id).or_insert(now);
        }
    })
    .await
}

/// Accepts connections and never answers; counts them.
async fn black_hole(accepted: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    url
}

fn system(org_id: Uuid) -> Ctx {
    Ctx::new(Actor { org_id, kind: ActorKind::System }, None)
}

/// What one scenario measured: the healthy organization's latencies (ms, sorted), and how many
/// connections the dead receivers accepted.
struct Measured {
    latencies: Vec<f64>,
    hanging: usize,
}

async fn scenario(events: usize, flood: bool) -> Measured {
    let server = Server::start().await;
    let service = server.service.clone();
    let healthy = system(server.org.organization_id);
    let arrivals: Arrivals = Arc::new(Mutex::new(HashMap::new()));
    let url = receiver(arrivals.clone()).await;
    let sub = service
        .create_subscription(&healthy, &url, &["test".to_string()], None)
        .await
        .expect("subscription")
        .subscription
        .id;
    service.signing_key(server.org.organization_id).await.expect("key");

    let accepted = Arc::new(AtomicUsize::new(0));
    let mut dead = Vec::new();
    let flooding = if flood {
        let org = service
            .init_organization("Flood", "owner@flood.example", "Owner")
            .await
            .expect("flood org")
            .organization_id;
        service.signing_key(org).await.expect("key");
        let hole = black_hole(accepted.clone()).await;
        for _ in 0..DEAD_SUBSCRIPTIONS {
            let created = service
                .create_subscription(&system(org), &hole, &["test".to_string()], None)
                .await
                .expect("dead subscription");
            dead.push(created.subscription.id);
        }
        for _ in 0..5 {
            for id in &dead {
                service.test_subscription(&system(org), *id).await.expect("flood");
            }
        }
        Some(org)
    } else {
        None
    };

    let worker = Worker::new(service.clone(), WorkerConfig::default()).expect("worker");
    let running = tokio::spawn(worker.run(std::future::pending()));
    // The flood's first wave is in flight before the healthy organization's events start.
    if flood {
        let deadline = Instant::now() + Duration::from_secs(10);
        while accepted.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let mut queued: HashMap<Uuid, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(EVERY);
    let per_second = (Duration::from_secs(1).as_millis() / EVERY.as_millis()) as usize;
    for i in 0..events {
        tick.tick().await;
        let at = Instant::now();
        let delivery = service.test_subscription(&healthy, sub).await.expect("test event");
        queued.insert(delivery.event_id, at);
        if let (Some(org), true) = (flooding, i % per_second == 0) {
            for id in &dead {
                service.test_subscription(&system(org), *id).await.expect("flood");
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().expect("lock").len() < events {
        assert!(Instant::now() < deadline, "not every healthy event arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
    let arrivals = arrivals.lock().expect("lock").clone();
    let mut latencies: Vec<f64> =
        queued.iter().map(|(id, at)| (arrivals[id] - *at).as_secs_f64() * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    Measured { latencies, hanging: accepted.load(Ordering::SeqCst) }
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[((sorted.len() - 1) * p) / 100]
}

pub async fn run(events: usize) {
    let off = scenario(events, false).await;
    let on = scenario(events, true).await;
    let (off50, off99) = (percentile(&off.latencies, 50), percentile(&off.latencies, 99));
    report("webhook-isolation-flood-off-p50", off50, "ms", None);
    report("webhook-isolation-flood-off-p99", off99, "ms", None);
    report("webhook-isolation-flood-on-p50", percentile(&on.latencies, 50), "ms", Some(off50));
    report("webhook-isolation-flood-on-p99", percentile(&on.latencies, 99), "ms", Some(off99));
    report("webhook-isolation-flood-on-max", on.latencies[on.latencies.len() - 1], "ms", None);
    report("webhook-isolation-dead-connections", on.hanging as f64, "connections", None);
}
