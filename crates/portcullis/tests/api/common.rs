//! Test harness: a real server on a random port over a fresh SQLite file, and an HTTP client.
//!
//! The server runs in this process on a [`ManualClock`]: time stands still unless a test moves
//! it, so expiries and retry back-offs are crossed by advancing the clock, never by sleeping.
//! No background job runs on its own either: a test sweeps expired accesses
//! (`srv.service.sweep_expired_accesses()`) and delivers webhooks (`srv.worker(..)` then
//! `run_until_idle()`) at the point it wants them to happen.
//!
//! Webhook receivers run on this machine, so the server's egress policy allows `127.0.0.0/8`
//! explicitly ([`TestServer::start_with_webhooks`] starts one with other settings; the default
//! policy refuses loopback).
#![allow(dead_code)]

use std::sync::Arc;

use portcullis_api::{AppState, HttpConfig};
use portcullis_domain::clock::{Clock, ManualClock};
use portcullis_domain::egress::{parse_network, EgressPolicy};
use portcullis_service::{NotificationConfig, SecretBox, Service, SsoSettings, WebhookSettings};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub struct TestServer {
    pub base: String,
    pub service: Service,
    /// The server's clock, standing at the time the server started until a test moves it.
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    pub db: TestDb,
    _dir: TempDir,
}

/// The database behind a test server: a fresh SQLite file, or — when
/// `PORTCULLIS_TEST_DATABASE_URL` names a PostgreSQL database — a fresh schema in it.
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl TestDb {
    /// Runs raw SQL (statements without parameters) against the test's database.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        use sqlx::Connection;
        match self {
            TestDb::Sqlite(path) => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
            TestDb::Postgres { url, schema } => {
                let mut conn = self::pg_connect(url, schema).await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
        }
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        use sqlx::{Connection, Row};
        match self {
            TestDb::Sqlite(path) => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await?;
                let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
                rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
            }
            TestDb::Postgres { url, schema } => {
                let mut conn = self::pg_connect(url, schema).await?;
                let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
                rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
            }
        }
    }
}

async fn pg_connect(url: &str, schema: &str) -> Result<sqlx::PgConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    use std::str::FromStr;
    sqlx::postgres::PgConnectOptions::from_str(url)?
        .options([("search_path", schema)])
        .connect()
        .await
}

/// An organization made by `init`: its owner and credentials.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub owner_id: String,
    pub key: String,
    pub secret: String,
    pub token: String,
}

impl TestServer {
    pub async fn start() -> Self {
        // Rate limiting off except where a test turns it on: the suite is one heavy caller.
        Self::start_with(HttpConfig::without_rate_limits()).await
    }

    pub async fn start_with(http: HttpConfig) -> Self {
        Self::start_with_settings(http, loopback_receivers()).await
    }

    /// A server with these webhook settings (egress policy, limits).
    pub async fn start_with_webhooks(webhooks: WebhookSettings) -> Self {
        let http = HttpConfig { rate_limit_per_minute: 0, ..HttpConfig::default() };
        Self::start_with_settings(http, webhooks).await
    }

    /// A server on an empty database whose first-run page (`/setup`) takes this setup code.
    pub async fn start_with_setup_code(code: &str) -> Self {
        let setup = portcullis_web::Setup::new(Some(code.to_string()));
        Self::start_full(HttpConfig::without_rate_limits(), loopback_receivers(), setup, false)
            .await
    }

    /// A server with e-mail notifications on (links point at the server itself); a test sends
    /// them with its own `portcullis_notifications::Worker` pointed at its SMTP server.
    pub async fn start_with_mail() -> Self {
        let setup = portcullis_web::Setup::default();
        Self::start_full(HttpConfig::without_rate_limits(), loopback_receivers(), setup, true).await
    }

    async fn start_with_settings(http: HttpConfig, webhooks: WebhookSettings) -> Self {
        Self::start_full(http, webhooks, portcullis_web::Setup::default(), false).await
    }

    async fn start_full(
        http: HttpConfig,
        webhooks: WebhookSettings,
        setup: portcullis_web::Setup,
        email: bool,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, db): (Arc<dyn portcullis_store::Store>, TestDb) =
            match std::env::var("PORTCULLIS_TEST_DATABASE_URL") {
                Ok(url) if !url.is_empty() => {
                    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                    let store =
                        portcullis_store::postgres::PostgresStore::open(&url, Some(&schema))
                            .await
                            .expect("open PostgreSQL store");
                    (Arc::new(store), TestDb::Postgres { url, schema })
                }
                _ => {
                    let path = dir.path().join("portcullis.db");
                    let store = portcullis_store::connect(path.to_str().expect("utf-8 path"))
                        .await
                        .expect("open store");
                    (store, TestDb::Sqlite(path))
                }
            };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let clock = Arc::new(ManualClock::starting_now());
        let service = Service::new(
            store,
            clock.clone(),
            SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key"),
        )
        .with_webhook_settings(webhooks)
        .with_notification_config(NotificationConfig {
            public_url: format!("http://{addr}"),
            email,
        })
        .with_sso(SsoSettings {
            public_url: Some(url::Url::parse(&format!("http://{addr}")).expect("public URL")),
            ..SsoSettings::default()
        });
        // The whole application, web console included, as `portcullis serve` runs it.
        let state = AppState::new(service.clone(), http);
        let console = portcullis_web::routes_with_setup(&state, setup);
        let app = portcullis_api::app_with(state.clone(), console);
        tokio::spawn(portcullis_api::server::serve(listener, app, std::future::pending()));
        Self {
            base: format!("http://{addr}"),
            service,
            clock,
            client: reqwest::Client::new(),
            db,
            _dir: dir,
        }
    }

    pub async fn new_org(&self, name: &str) -> Org {
        let email = format!("owner@{}.example", name.to_lowercase().replace(' ', "-"));
        let out = self.service.init_organization(name, &email, "Owner").await.expect("init org");
        Org {
            id: out.organization_id.to_string(),
            owner_id: out.owner_user_id.to_string(),
            key: out.api_key,
            secret: out.api_secret,
            token: out.owner_token,
        }
    }

    /// The server's current time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// An RFC 3339 timestamp `d` from the server's current time (for `expiresAt` fields).
    pub fn timestamp_in(&self, d: chrono::Duration) -> String {
        (self.clock.now() + d).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with the organization's API key and secret.
    pub fn api(&self, org: &Org, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("X-API-KEY", &org.key)
            .header("X-API-SECRET", &org.secret)
    }

    /// A request with a bearer token.
    pub fn bearer(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(&self, org: &Org, name: &str, email: &str, role: &str) -> String {
        let (status, body) = send(
            self.api(org, Method::POST, "/api/v1/users")
                .json(&serde_json::json!({ "name": name, "email": email, "roleName": role })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().expect("id").to_string()
    }

    /// Issues a bearer token for a user through the API.
    pub async fn token_for(&self, org: &Org, user_id: &str) -> String {
        let (status, body) = send(
            self.api(org, Method::POST, &format!("/api/v1/users/{user_id}/Tokens"))
                .json(&serde_json::json!({ "name": "test" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["token"].as_str().expect("token").to_string()
    }

    /// A read-only API credential of the organization (the same organization, its key and secret
    /// replaced).
    pub async fn read_only(&self, org: &Org) -> Org {
        let (status, body) = send(
            self.api(org, Method::POST, "/api/v1/ApiCredentials")
                .json(&serde_json::json!({ "name": "reporting", "accessLevel": "ReadOnly" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["accessLevel"], "ReadOnly");
        Org {
            key: body["data"]["apiKey"].as_str().expect("key").to_string(),
            secret: body["data"]["apiSecret"].as_str().expect("secret").to_string(),
            ..org.clone()
        }
    }

    /// A user with a role and a token, in one go.
    pub async fn user_with_token(&self, org: &Org, name: &str, role: &str) -> (String, String) {
        let email = format!("{}@{}.example", name.to_lowercase(), org.id);
        let id = self.create_user(org, name, &email, role).await;
        let token = self.token_for(org, &id).await;
        (id, token)
    }
}

/// A client whose requests come from another loopback address (`127.0.0.x`): the server sees
/// another peer, for per-address limits.
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(std::net::IpAddr::from(ip)).build().expect("client")
}

/// The test servers' webhook settings: the defaults, and receivers on this machine allowed.
pub fn loopback_receivers() -> WebhookSettings {
    WebhookSettings {
        egress: EgressPolicy::allowing([parse_network("127.0.0.0/8").expect("network")]),
        ..WebhookSettings::default()
    }
}

/// Sends a request; returns the status and the JSON body (`Null` when empty).
pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!("non-JSON body with status {status}: {}", String::from_utf8_lossy(&bytes))
        })
    };
    (status, body)
}

/// Asserts a ProblemDetails body with every field the Cakewalk clients read.
pub fn assert_problem(status: StatusCode, body: &Value, expected: u16, path: &str) {
    assert_eq!(status.as_u16(), expected, "status; body: {body}");
    assert_eq!(body["type"], format!("https://httpstatuses.io/{expected}"), "{body}");
    assert_eq!(body["status"], expected, "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert_eq!(body["instance"], path, "{body}");
}

/// Asserts a Flashback error body.
pub fn assert_flashback_error(status: StatusCode, body: &Value, expected: u16) {
    assert_eq!(status.as_u16(), expected, "status; body: {body}");
    assert_eq!(body["success"], false, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

impl TestServer {
    /// Creates a work app with the given permission levels; returns its id and the levels' ids.
    pub async fn create_app(
        &self,
        org: &Org,
        name: &str,
        levels: &[&str],
    ) -> (String, Vec<String>) {
        self.create_app_with(org, serde_json::json!({ "name": name }), levels).await
    }

    pub async fn create_app_with(
        &self,
        org: &Org,
        body: Value,
        levels: &[&str],
    ) -> (String, Vec<String>) {
        let (status, created) =
            send(self.api(org, Method::POST, "/api/v1/WorkApps").json(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let app = created["data"]["id"].as_str().expect("app id").to_string();
        let mut level_ids = Vec::new();
        for level in levels {
            let (status, body) = send(
                self.api(org, Method::POST, &format!("/api/v1/WorkApps/{app}/PermissionLevels"))
                    .json(&serde_json::json!({ "name": level })),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            level_ids.push(body["data"]["id"].as_str().expect("level id").to_string());
        }
        (app, level_ids)
    }

    /// All live accesses of an app, following every page.
    pub async fn accesses(&self, org: &Org, app: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(format!("/api/v1/WorkApps/{app}/Accesses"));
        while let Some(link) = next {
            let (status, body) = send(self.api(org, Method::GET, &link)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            out.extend(body["data"].as_array().expect("data").iter().cloned());
            next = body["links"]["next"].as_str().map(str::to_string);
        }
        out
    }

    /// Sends a bulk grant; returns status and body.
    pub async fn bulk_grant(&self, org: &Org, entries: Value) -> (StatusCode, Value) {
        send(
            self.api(org, Method::POST, "/api/v1/WorkApps/Accesses")
                .json(&serde_json::json!({ "data": entries })),
        )
        .await
    }
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query, as requested.
    pub uri: String,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
    pub status: u16,
}

/// A local HTTP receiver for webhooks: records every request; answers with the queued statuses,
/// then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<std::sync::Mutex<Vec<Received>>>,
    pub answers: Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
    /// TCP connections accepted (whether or not a request came).
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    pub async fn start() -> Self {
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let answers = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let (rec, ans) = (received.clone(), answers.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |uri: axum::http::Uri,
                      headers: axum::http::HeaderMap,
                      body: axum::body::Bytes| {
                    let (rec, ans) = (rec.clone(), ans.clone());
                    async move {
                        let status = ans.lock().expect("lock").pop_front().unwrap_or(200);
                        rec.lock().expect("lock").push(Received {
                            uri: uri.to_string(),
                            headers,
                            body: body.to_vec(),
                            status,
                        });
                        axum::http::StatusCode::from_u16(status).expect("status")
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        Self { url, received, answers, connections }
    }

    /// How many TCP connections the receiver has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `scheme://host:port` of the receiver, to build other URLs to it.
    pub fn authority(&self) -> &str {
        self.url.trim_end_matches("/hook")
    }

    pub fn answer_next(&self, statuses: &[u16]) {
        self.answers.lock().expect("lock").extend(statuses.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Every event received (the body is a JSON array of events), in arrival order.
    pub fn events(&self) -> Vec<Value> {
        self.received()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| {
                let v: Value = serde_json::from_slice(&r.body).expect("JSON body");
                v.as_array().expect("array body").clone()
            })
            .collect()
    }
}

impl TestServer {
    /// A webhook worker on this server's service (and so its manual clock), retrying after the
    /// given delays. Nothing runs in the background: the test calls `run_until_idle()` to have
    /// every due delivery sent and recorded, and advances the clock to make retries due.
    pub fn worker(&self, retry_schedule: &[chrono::Duration]) -> portcullis_webhooks::Worker {
        let config = portcullis_webhooks::WorkerConfig {
            retry_schedule: retry_schedule.to_vec(),
            ..portcullis_webhooks::WorkerConfig::default()
        };
        portcullis_webhooks::Worker::new(self.service.clone(), config).expect("worker")
    }

    /// Subscribes the receiver to events; returns the subscription id and its secret.
    pub async fn subscribe(&self, org: &Org, url: &str, events: &[&str]) -> (String, String) {
        let (status, body) = send(self.api(org, Method::POST, "/api/v1/Webhooks").json(
            &serde_json::json!({ "targetUrl": url, "events": events, "description": "test receiver" }),
        ))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["data"]["id"].as_str().expect("id").to_string(),
            body["data"]["secret"].as_str().expect("secret").to_string(),
        )
    }
}
