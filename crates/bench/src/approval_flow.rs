//! approval-flow: create → approve → approve → complete for N grant requests through the default
//! two-step policy (Manager, then App owner) on an Automatic app, sequentially and 32-way
//! concurrently; afterwards every request must be Completed and every access granted exactly once.
use portcullis_store::Store;
use std::sync::Arc;
use std::time::Instant;

use portcullis_domain::UserStatus;
use portcullis_service::{Actor, ActorKind, Ctx, NewUser, NewWorkApp};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{report, Server};

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-API-KEY", &self.key)
            .header("X-API-SECRET", &self.secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// One request from creation to completion; returns its final status.
    async fn flow(&self, app: Uuid, user: Uuid) -> String {
        let created = self
            .call(
                reqwest::Method::POST,
                "/api/v1/Requests/GrantAccess",
                Some(json!({ "workAppId": app, "targetUserId": user })),
            )
            .await;
        let id = created["data"]["id"].as_str().expect("id").to_string();
        let first = created["data"]["tasks"][0]["id"].as_str().expect("task").to_string();
        self.call(reqwest::Method::POST, &format!("/api/v1/Tasks/{first}/Approve"), None).await;
        let request =
            self.call(reqwest::Method::GET, &format!("/api/v1/Requests/{id}"), None).await;
        let second = request["data"]["tasks"][1]["id"].as_str().expect("second task").to_string();
        let done = self
            .call(reqwest::Method::POST, &format!("/api/v1/Tasks/{second}/Approve"), None)
            .await;
        done["data"]["request"]["requestStatus"].as_str().unwrap_or_default().to_string()
    }
}

async fn setup(server: &Server, ctx: &Ctx, name: &str, users: usize) -> (Uuid, Vec<Uuid>) {
    let owner = server.org.owner_user_id;
    let app = server
        .service
        .create_work_app(
            ctx,
            NewWorkApp {
                name: name.into(),
                owner_ids: vec![owner],
                provisioning_mode: Some(portcullis_domain::ProvisioningMode::Automatic),
                ..NewWorkApp::default()
            },
        )
        .await
        .expect("app");
    let mut ids = Vec::with_capacity(users);
    for i in 0..users {
        let user = server
            .service
            .create_user(
                ctx,
                NewUser {
                    first_name: format!("{name} user {i}"),
                    last_name: String::new(),
                    email: format!("{i}@{}.bench.example", name.to_lowercase()),
                    manager_id: Some(owner),
                    role: None,
                    status: UserStatus::Active,
                },
            )
            .await
            .expect("user");
        ids.push(user.id);
    }
    (app.app.id, ids)
}

async fn verify(server: &Server, app: Uuid, expected: usize) {
    let pool = server.store.pool();
    let accesses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accesses WHERE work_app_id = ?")
        .bind(app.to_string())
        .fetch_one(pool)
        .await
        .expect("count");
    let completed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE work_app_id = ? AND status = 'Completed'",
    )
    .bind(app.to_string())
    .fetch_one(pool)
    .await
    .expect("count");
    let grants: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'access.granted' AND target_id = ?",
    )
    .bind(app.to_string())
    .fetch_one(pool)
    .await
    .expect("count");
    assert_eq!(accesses as usize, expected, "lost grants");
    assert_eq!(completed as usize, expected, "requests not completed");
    assert_eq!(grants as usize, expected, "double grants");
}

pub async fn run(requests: usize) {
    let server = Server::start().await;
    let ctx = Ctx::new(Actor { org_id: server.org.organization_id, kind: ActorKind::System }, None);
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        key: server.org.api_key.clone(),
        secret: server.org.api_secret.clone(),
    });

    let (app, users) = setup(&server, &ctx, "Sequential", requests).await;
    let stats_before = server.store.commit_stats();
    let started = Instant::now();
    for user in &users {
        assert_eq!(client.flow(app, *user).await, "Completed");
    }
    let sequential = requests as f64 / started.elapsed().as_secs_f64();
    let commits_per_flow = |before: Option<portcullis_store::CommitStats>| {
        let (Some(before), Some(after)) = (before, server.store.commit_stats()) else {
            return None;
        };
        let per = |n: u64| n as f64 / requests as f64;
        Some((per(after.writes - before.writes), per(after.commits - before.commits)))
    };
    let sequential_commits = commits_per_flow(stats_before);
    verify(&server, app, requests).await;

    let (app, users) = setup(&server, &ctx, "Concurrent", requests).await;
    let users = Arc::new(users);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stats_before = server.store.commit_stats();
    let started = Instant::now();
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (client, users, next) = (client.clone(), users.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(user) = users.get(i) else { break };
                    assert_eq!(client.flow(app, *user).await, "Completed");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let concurrent = requests as f64 / started.elapsed().as_secs_f64();
    let concurrent_commits = commits_per_flow(stats_before);
    verify(&server, app, requests).await;

    report("approval-flow-sequential", sequential, "requests/s", None);
    report("approval-flow-concurrent-32", concurrent, "requests/s", Some(sequential));
    // Group commit at work: write transactions and the commits (fsyncs) that made them durable.
    for (label, figures) in
        [("sequential", sequential_commits), ("concurrent-32", concurrent_commits)]
    {
        if let Some((writes, commits)) = figures {
            report(&format!("approval-flow-{label}-writes-per-request"), writes, "writes", None);
            report(&format!("approval-flow-{label}-commits-per-request"), commits, "commits", None);
        }
    }
    println!("approval-flow-verified: {requests} requests x2, every access granted exactly once");
}
