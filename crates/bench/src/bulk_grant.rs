//! bulk-grant: one `POST /api/v1/WorkApps/Accesses` with 10,000 new (user, app) pairs, against a
//! raw SQLite transaction inserting 10,000 equivalent rows with one prepared statement.
//!
//! Both sides insert brand-new rows into the same `accesses` table of the same database (each
//! round uses fresh users), alternating, and the medians are compared.
use std::time::{Duration, Instant};

use portcullis_domain::{Clock, SystemClock};
use portcullis_service::{Actor, ActorKind, Ctx, NewUser, NewWorkApp};
use serde_json::json;
use uuid::Uuid;

use crate::harness::{median, report, Server};

const USERS_PER_ROUND: usize = 100;
const APPS: usize = 100;

async fn fresh_users(server: &Server, ctx: &Ctx, tag: &str) -> Vec<Uuid> {
    let mut users = Vec::with_capacity(USERS_PER_ROUND);
    for i in 0..USERS_PER_ROUND {
        let user = server
            .service
            .create_user(
                ctx,
                NewUser {
                    first_name: format!("User {tag}-{i}"),
                    last_name: String::new(),
                    email: format!("u{tag}-{i}@bench.example"),
                    manager_id: None,
                    role: None,
                    status: portcullis_domain::UserStatus::Active,
                },
            )
            .await
            .expect("user");
        users.push(user.id);
    }
    users
}

/// The raw baseline: one transaction, one prepared INSERT executed 10,000 times.
async fn raw_insert(
    server: &Server,
    org_id: Uuid,
    apps: &[(Uuid, Uuid)],
    users: &[Uuid],
) -> Duration {
    let now = SystemClock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let org = org_id.to_string();
    let started = Instant::now();
    let mut tx = server.store.pool().begin().await.expect("begin");
    for (app, level) in apps {
        let (app, level) = (app.to_string(), level.to_string());
        for user in users {
            sqlx::query(
                "INSERT INTO accesses (work_app_id, user_id, org_id, permission_level_id, source,
                                       granted_at, updated_at, expires_at)
                 VALUES (?, ?, ?, ?, 'Direct', ?, ?, NULL)",
            )
            .bind(&app)
            .bind(user.to_string())
            .bind(&org)
            .bind(&level)
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("raw insert");
        }
    }
    tx.commit().await.expect("commit");
    started.elapsed()
}

pub async fn run(rounds: usize) {
    let server = Server::start().await;
    let ctx = Ctx::new(Actor { org_id: server.org.organization_id, kind: ActorKind::System }, None);
    let mut apps = Vec::with_capacity(APPS);
    for i in 0..APPS {
        let app = server
            .service
            .create_work_app(&ctx, NewWorkApp { name: format!("App {i}"), ..NewWorkApp::default() })
            .await
            .expect("app");
        let level = server
            .service
            .create_permission_level(
                &ctx,
                app.app.id,
                portcullis_service::NewPermissionLevel {
                    name: "Member".into(),
                    description: None,
                    is_default: true,
                    is_privileged: false,
                },
            )
            .await
            .expect("level");
        apps.push((app.app.id, level.id));
    }
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/WorkApps/Accesses", server.base);
    let (mut api, mut raw) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let users = fresh_users(&server, &ctx, &format!("api{round}")).await;
        let entries: Vec<_> = apps
            .iter()
            .flat_map(|(app, level)| {
                users.iter().map(move |user| json!({ "workAppId": app, "userId": user, "permissionLevelId": level }))
            })
            .collect();
        let body = serde_json::to_vec(&json!({ "data": entries })).expect("json");
        let started = Instant::now();
        let response = client
            .post(&url)
            .header("X-API-KEY", &server.org.api_key)
            .header("X-API-SECRET", &server.org.api_secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        let elapsed = started.elapsed();
        assert_eq!(
            response.status(),
            201,
            "bulk grant failed: {}",
            response.text().await.unwrap_or_default()
        );
        api.push(elapsed);

        let users = fresh_users(&server, &ctx, &format!("raw{round}")).await;
        raw.push(raw_insert(&server, server.org.organization_id, &apps, &users).await);
    }
    let (api, raw) = (median(api), median(raw));
    let raw_ms = raw.as_secs_f64() * 1000.0;
    report("bulk-grant-raw-insert-10000", raw_ms, "ms", None);
    report("bulk-grant-10000", api.as_secs_f64() * 1000.0, "ms", Some(raw_ms));
}
