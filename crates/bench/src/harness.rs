//! An in-process server on a random port over a fresh SQLite file, as the tests use.
use std::sync::Arc;
use std::time::Duration;

use portcullis_api::{AppState, HttpConfig};
use portcullis_domain::egress::EgressPolicy;
use portcullis_domain::SystemClock;
use portcullis_service::{InitOutput, SecretBox, Service, WebhookSettings};
use portcullis_store::sqlite::SqliteStore;

pub struct Server {
    pub base: String,
    pub service: Service,
    pub store: Arc<SqliteStore>,
    pub org: InitOutput,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bench.db");
        let store = Arc::new(SqliteStore::open(path.to_str().expect("path")).await.expect("store"));
        let service = Service::new(
            store.clone(),
            Arc::new(SystemClock),
            SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key"),
        )
        .with_webhook_settings(local_receivers());
        let base = serve(service.clone()).await;
        let org =
            service.init_organization("Bench", "owner@bench.example", "Owner").await.expect("init");
        Server { base, service, store, org, _dir: dir }
    }
}

/// Webhook settings for receivers on this machine (the default egress policy refuses loopback),
/// with room for the subscriptions a benchmark needs.
pub fn local_receivers() -> WebhookSettings {
    WebhookSettings {
        egress: EgressPolicy::allowing(["127.0.0.0/8".parse().expect("network")]),
        max_per_org: 1_000,
    }
}

/// Median of the samples.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Prints one figure in the suite's format.
pub fn report(name: &str, value: f64, unit: &str, baseline: Option<f64>) {
    match baseline {
        Some(b) if b > 0.0 => {
            println!("{name}: {value:.2} {unit} (ratio {:.2} vs baseline)", value / b)
        }
        _ => println!("{name}: {value:.2} {unit}"),
    }
}

/// Serves the full Portcullis app for `service` on a random port; returns its base URL.
pub async fn serve(service: Service) -> String {
    serve_with(service, axum::Router::new()).await
}

/// As [`serve`], with `extra` routes served behind the same middleware as the API.
pub async fn serve_with(service: Service, extra: axum::Router<AppState>) -> String {
    let http = HttpConfig::without_rate_limits();
    let app = portcullis_api::app_with(AppState::new(service, http), extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(portcullis_api::server::serve(listener, app, std::future::pending()));
    base
}

/// A fresh service over PostgreSQL (a new schema of `url`) or a temporary SQLite file.
pub async fn service_on(postgres_url: Option<&str>, dir: &std::path::Path) -> Service {
    let store: Arc<dyn portcullis_store::Store> = match postgres_url {
        Some(url) => {
            let schema = format!("bench_{}", portcullis_domain::new_id().simple());
            Arc::new(
                portcullis_store::postgres::PostgresStore::open(url, Some(&schema))
                    .await
                    .expect("postgres"),
            )
        }
        None => Arc::new(
            SqliteStore::open(dir.join("read.db").to_str().expect("path")).await.expect("sqlite"),
        ),
    };
    Service::new(
        store,
        Arc::new(SystemClock),
        SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key"),
    )
}

/// Resident set size of this process, in MB.
pub fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// A local webhook receiver (`POST /hook`, answers 204) that hands every event of every body to
/// `on_event`; returns its URL.
pub async fn webhook_receiver(
    on_event: impl Fn(&serde_json::Value) + Clone + Send + Sync + 'static,
) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let on_event = on_event.clone();
            async move {
                let events: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                events.as_array().into_iter().flatten().for_each(on_event);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    url
}
