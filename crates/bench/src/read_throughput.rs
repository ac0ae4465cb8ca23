//! read-throughput (and auth-overhead, memory): `GET /api/v1/users/{id}` and
//! `GET /api/v1/WorkApps/{id}/Accesses` with valid credentials at 64 concurrent connections,
//! interleaved with a bare axum handler returning the same bytes from memory (no auth, no
//! database), and with a route of the same server doing the same read without credential
//! verification (auth-overhead).
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::get;
use hdrhistogram::Histogram;
use portcullis_api::AppState;
use portcullis_service::{Actor, ActorKind, Ctx, NewUser, NewWorkApp, Service};
use serde::Serialize;

use crate::harness::{report, rss_mb, serve_with, service_on};

const CONNECTIONS: usize = 64;

/// The API's user record, for the route without a credential check (same fields, same order).
#[derive(Serialize)]
struct UserRecord {
    data: UserView,
    links: Links,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    id: uuid::Uuid,
    name: String,
    email: String,
    role_id: i32,
    role_name: &'static str,
    status_id: i32,
    status_name: &'static str,
    last_login: Option<chrono::DateTime<chrono::Utc>>,
    manager_id: Option<uuid::Uuid>,
}

#[derive(Serialize)]
struct Links {
    #[serde(rename = "self")]
    self_link: String,
}

struct Sample {
    requests: u64,
    elapsed: Duration,
    histogram: Histogram<u64>,
}

/// Drives `CONNECTIONS` concurrent clients against `url` for `duration`.
async fn load(url: &str, headers: &[(&'static str, String)], duration: Duration) -> Sample {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().expect("client");
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut workers = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let (client, url, headers) = (client.clone(), url.to_string(), headers.to_vec());
        workers.push(tokio::spawn(async move {
            let mut histogram =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut request = client.get(&url);
                for (k, v) in &headers {
                    request = request.header(*k, v);
                }
                let response = request.send().await.expect("request");
                assert!(response.status().is_success(), "{url}: {}", response.status());
                let _ = response.bytes().await.expect("body");
                histogram.record(t.elapsed().as_micros().max(1) as u64).ok();
                n += 1;
            }
            (n, histogram)
        }));
    }
    let mut total = 0;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for w in workers {
        let (n, h) = w.await.expect("worker");
        total += n;
        histogram.add(h).expect("merge");
    }
    Sample { requests: total, elapsed: started.elapsed(), histogram }
}

#[derive(Default)]
struct Totals {
    requests: u64,
    seconds: f64,
    histogram: Option<Histogram<u64>>,
}

impl Totals {
    fn add(&mut self, s: Sample) {
        self.requests += s.requests;
        self.seconds += s.elapsed.as_secs_f64();
        match &mut self.histogram {
            Some(h) => h.add(s.histogram).expect("merge"),
            None => self.histogram = Some(s.histogram),
        }
    }
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
    fn p(&self, q: f64) -> f64 {
        self.histogram.as_ref().map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
    }
}

/// What one run measured, for comparing a large directory with a small one.
pub struct Figures {
    pub user_rps: f64,
    pub user_p99: f64,
    pub accesses_rps: f64,
    pub accesses_p99: f64,
}

/// The size of a large directory: generated users, and apps each held by every one of them.
#[derive(Clone, Copy)]
pub struct Scale {
    pub users: usize,
    pub apps: usize,
}

/// Fills the SQLite database with `scale.users` users, each holding `scale.apps` apps (the read
/// app first among them), by raw SQL: the reads then run against a directory of that size.
async fn grow(
    db_file: &std::path::Path,
    service: &Service,
    ctx: &Ctx,
    app: uuid::Uuid,
    scale: Scale,
) {
    use sqlx::Connection;
    let started = Instant::now();
    let mut apps = vec![app];
    for i in 1..scale.apps {
        apps.push(
            service
                .create_work_app(
                    ctx,
                    NewWorkApp { name: format!("Scale app {i}"), ..NewWorkApp::default() },
                )
                .await
                .expect("app")
                .app
                .id,
        );
    }
    let url = format!("sqlite://{}", db_file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    // Random version-4 ids, like the server's own: pages are ordered by id.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO users (id, org_id, first_name, email, email_key, role_id, status_id, created_at, updated_at)
         SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
                      || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
                t.org_id, 'Scale ' || n.i, 'scale' || n.i || '@read.example', 'scale' || n.i || '@read.example',
                t.role_id, t.status_id, t.created_at, t.updated_at
         FROM n, (SELECT org_id, role_id, status_id, created_at, updated_at FROM users
                  WHERE email = 'r1@read.example') AS t",
    )
    .bind(scale.users as i64)
    .execute(&mut *tx)
    .await
    .expect("users");
    for app in &apps {
        // Copies of the access the fixture granted on the read app (its source and times; its
        // level only on the read app, whose level it is).
        sqlx::query(
            "INSERT INTO accesses (work_app_id, user_id, org_id, permission_level_id, source, granted_at, updated_at)
             SELECT $1, u.id, a.org_id, CASE WHEN a.work_app_id = $1 THEN a.permission_level_id END,
                    a.source, a.granted_at, a.updated_at
             FROM users u, (SELECT * FROM accesses WHERE work_app_id = $2 LIMIT 1) AS a
             WHERE u.email LIKE 'scale%@read.example'",
        )
        .bind(app.to_string())
        .bind(apps[0].to_string())
        .execute(&mut *tx)
        .await
        .expect("accesses");
    }
    tx.commit().await.expect("commit");
    let accesses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accesses")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut conn).await.expect("count");
    eprintln!(
        "scale: {users} users, {accesses} accesses generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn fixture(service: &Service, ctx: &Ctx) -> (uuid::Uuid, uuid::Uuid) {
    let mut users = Vec::new();
    for i in 0..100 {
        let user = service
            .create_user(
                ctx,
                NewUser {
                    first_name: format!("Reader {i}"),
                    last_name: String::new(),
                    email: format!("r{i}@read.example"),
                    manager_id: None,
                    role: None,
                    status: portcullis_domain::UserStatus::Active,
                },
            )
            .await
            .expect("user");
        users.push(user.id);
    }
    let app = service
        .create_work_app(ctx, NewWorkApp { name: "Read app".into(), ..NewWorkApp::default() })
        .await
        .expect("app")
        .app
        .id;
    let entries: Vec<_> = users
        .iter()
        .map(|u| portcullis_domain::workapp::GrantEntry {
            work_app_id: app,
            user_id: *u,
            permission_level_id: None,
            expires_at: None,
        })
        .collect();
    service.grant_accesses(ctx, &entries).await.expect("grant");
    (users[0], app)
}

/// Runs the reads against a fresh database; with `scale` (SQLite), against a large directory.
pub async fn run(
    rounds: usize,
    postgres_url: Option<&str>,
    label: &str,
    scale: Option<Scale>,
) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = service_on(postgres_url, dir.path()).await;
    let org = service.init_organization("Read", "owner@read.example", "Owner").await.expect("init");
    let ctx = Ctx::new(Actor { org_id: org.organization_id, kind: ActorKind::System }, None);
    let (user, app) = fixture(&service, &ctx).await;
    if let Some(scale) = scale {
        grow(&dir.path().join("read.db"), &service, &ctx, app, scale).await;
    }
    // The auth-overhead comparison: the same read, served by the same server behind the same
    // middleware, minus the credential check (a fixed caller instead of `X-API-KEY`).
    let unauth_ctx = Arc::new(ctx.clone());
    let unauthenticated = axum::Router::new().route(
        "/bench/users/{id}",
        get(move |State(state): State<AppState>, Path(id): Path<uuid::Uuid>| {
            let ctx = unauth_ctx.clone();
            async move {
                let u = state.service.get_user(&ctx, id).await.expect("user");
                axum::Json(UserRecord {
                    data: UserView {
                        id: u.id,
                        name: u.full_name(),
                        email: u.email.clone(),
                        role_id: u.role.id(),
                        role_name: u.role.cakewalk_name(),
                        status_id: u.status().id(),
                        status_name: u.status().cakewalk_name(),
                        last_login: u.last_login,
                        manager_id: u.manager_id,
                    },
                    links: Links { self_link: format!("/api/v1/users/{}", u.id) },
                })
            }
        }),
    );
    let base = serve_with(service.clone(), unauthenticated).await;
    let auth = vec![("X-API-KEY", org.api_key.clone()), ("X-API-SECRET", org.api_secret.clone())];
    let user_url = format!("{base}/api/v1/users/{user}");
    let accesses_url = format!("{base}/api/v1/WorkApps/{app}/Accesses");
    let no_auth_url = format!("{base}/bench/users/{user}");

    // The baseline: the same bytes, from memory, no auth, no database — same binary, same runtime.
    let user_bytes = reqwest::Client::new()
        .get(&user_url)
        .headers(headers(&auth))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let access_bytes = reqwest::Client::new()
        .get(&accesses_url)
        .headers(headers(&auth))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let unauthenticated_bytes =
        reqwest::get(&no_auth_url).await.expect("get").bytes().await.expect("bytes");
    assert_eq!(unauthenticated_bytes, user_bytes, "the route without auth serves the same bytes");
    let baseline = axum::Router::new()
        .route(
            "/user",
            get(move || {
                std::future::ready(([("content-type", "application/json")], user_bytes.clone()))
            }),
        )
        .route(
            "/accesses",
            get(move || {
                std::future::ready(([("content-type", "application/json")], access_bytes.clone()))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let bare = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, baseline).await.expect("baseline") });

    let slice = Duration::from_millis(if rounds == 1 { 500 } else { 1000 });
    let (mut base_user, mut api_user, mut base_acc, mut api_acc, mut no_auth) = (
        Totals::default(),
        Totals::default(),
        Totals::default(),
        Totals::default(),
        Totals::default(),
    );
    // Warm-up.
    load(&user_url, &auth, Duration::from_millis(300)).await;
    for _ in 0..rounds {
        base_user.add(load(&format!("{bare}/user"), &[], slice).await);
        api_user.add(load(&user_url, &auth, slice).await);
        // The same request bytes (the route ignores the credential headers).
        no_auth.add(load(&no_auth_url, &auth, slice).await);
        base_acc.add(load(&format!("{bare}/accesses"), &[], slice).await);
        api_acc.add(load(&accesses_url, &auth, slice).await);
    }
    report(&format!("read-throughput-baseline-user[{label}]"), base_user.rps(), "requests/s", None);
    report(
        &format!("read-throughput-user[{label}]"),
        api_user.rps(),
        "requests/s",
        Some(base_user.rps()),
    );
    report(&format!("read-latency-user-p50[{label}]"), api_user.p(0.5), "ms", None);
    report(&format!("read-latency-user-p99[{label}]"), api_user.p(0.99), "ms", None);
    report(
        &format!("read-throughput-baseline-accesses[{label}]"),
        base_acc.rps(),
        "requests/s",
        None,
    );
    report(
        &format!("read-throughput-accesses[{label}]"),
        api_acc.rps(),
        "requests/s",
        Some(base_acc.rps()),
    );
    report(&format!("read-latency-accesses-p99[{label}]"), api_acc.p(0.99), "ms", None);
    // auth-overhead: throughput lost to credential verification (ratio < 1.10 means ≤ 10 %).
    report(
        &format!("auth-overhead-user[{label}]"),
        no_auth.rps() / api_user.rps().max(1e-9),
        "x",
        None,
    );
    if let Some(rss) = rss_mb() {
        report(&format!("memory-rss-after-read-throughput[{label}]"), rss, "MB", None);
    }
    Figures {
        user_rps: api_user.rps(),
        user_p99: api_user.p(0.99),
        accesses_rps: api_acc.rps(),
        accesses_p99: api_acc.p(0.99),
    }
}

/// The same reads on a directory of `scale`, against the small database's figures of this run.
pub async fn run_at_scale(rounds: usize, small: &Figures, scale: Scale) {
    let label = format!("sqlite-{}-users-{}-accesses", scale.users, scale.users * scale.apps);
    let large = run(rounds, None, &label, Some(scale)).await;
    report(
        &format!("scale-user-throughput[{label}]"),
        large.user_rps,
        "requests/s",
        Some(small.user_rps),
    );
    report(&format!("scale-user-p99[{label}]"), large.user_p99, "ms", Some(small.user_p99));
    report(
        &format!("scale-accesses-throughput[{label}]"),
        large.accesses_rps,
        "requests/s",
        Some(small.accesses_rps),
    );
    report(
        &format!("scale-accesses-p99[{label}]"),
        large.accesses_p99,
        "ms",
        Some(small.accesses_p99),
    );
}

fn headers(pairs: &[(&'static str, String)]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in pairs {
        map.insert(*k, v.parse().expect("header"));
    }
    map
}
