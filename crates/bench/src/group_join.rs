//! group-join: `POST /api/v1/UsersGroups/{id}/Users` adding 1,000 users to a group with 5 default
//! apps, implicitly approved (5,000 grant requests carried out at once), against a raw SQLite
//! transaction inserting the same domain rows (memberships, requests, action tasks, task
//! assignees, accesses) with prepared statements. Audit rows are extra work on our side only.
use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use portcullis_domain::{new_id, Clock, DefaultWorkApp, SystemClock, UserStatus};
use portcullis_service::{Actor, ActorKind, Ctx, NewUser, NewWorkApp};
use serde_json::json;
use uuid::Uuid;

use crate::harness::{median, report, Server};

const APPS: usize = 5;

async fn users(server: &Server, ctx: &Ctx, tag: &str, n: usize) -> Vec<Uuid> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let user = server
            .service
            .create_user(
                ctx,
                NewUser {
                    first_name: format!("{tag} {i}"),
                    last_name: String::new(),
                    email: format!("{tag}-{i}@join.bench.example"),
                    manager_id: None,
                    role: None,
                    status: UserStatus::Active,
                },
            )
            .await
            .expect("user");
        out.push(user.id);
    }
    out
}

/// The raw baseline: the same domain rows with one prepared statement per table, one transaction.
async fn raw(
    server: &Server,
    group: Uuid,
    apps: &[Uuid],
    policy: Uuid,
    users: &[Uuid],
) -> Duration {
    let org = server.org.organization_id.to_string();
    let now = SystemClock.now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let started = Instant::now();
    let mut tx = server.store.pool().begin().await.expect("begin");
    for user in users {
        sqlx::query("INSERT INTO users_group_members (group_id, user_id, org_id, added_at) VALUES (?, ?, ?, ?)")
            .bind(group.to_string())
            .bind(user.to_string())
            .bind(&org)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("member");
        for app in apps {
            let (request, task) = (new_id().to_string(), new_id().to_string());
            sqlx::query(
                "INSERT INTO requests (id, org_id, request_type, work_app_id, target_user_id, permission_level_id,
                    created_by_user_id, justification, expires_at, status, policy_id, policy_version, step_count,
                    cancelled_by_user_id, source_group_id, created_at, updated_at)
                 VALUES (?, ?, 'GrantAccessRequest', ?, ?, NULL, NULL, '', NULL, 'Completed', ?, 1, 0, NULL, ?, ?, ?)",
            )
            .bind(&request)
            .bind(&org)
            .bind(app.to_string())
            .bind(user.to_string())
            .bind(policy.to_string())
            .bind(group.to_string())
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("request");
            sqlx::query(
                "INSERT INTO tasks (id, org_id, request_id, kind, status, step, decided_by_user_id, decided_at,
                    comment, created_at, updated_at)
                 VALUES (?, ?, ?, 'Action', 'Completed', 0, NULL, ?, NULL, ?, ?)",
            )
            .bind(&task)
            .bind(&org)
            .bind(&request)
            .bind(&now)
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("task");
            sqlx::query("INSERT INTO task_assignees (task_id, user_id, org_id, position) VALUES (?, ?, ?, 0)")
                .bind(&task)
                .bind(server.org.owner_user_id.to_string())
                .bind(&org)
                .execute(&mut *tx)
                .await
                .expect("assignee");
            sqlx::query(
                "INSERT INTO accesses (work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                    updated_at, expires_at) VALUES (?, ?, ?, NULL, 'Group', ?, ?, NULL)",
            )
            .bind(app.to_string())
            .bind(user.to_string())
            .bind(&org)
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .expect("access");
        }
    }
    tx.commit().await.expect("commit");
    started.elapsed()
}

pub async fn run(rounds: usize, members: usize) {
    let server = Server::start().await;
    let ctx = Ctx::new(Actor { org_id: server.org.organization_id, kind: ActorKind::System }, None);
    let policy = server
        .service
        .list_policies(
            &ctx,
            Some(portcullis_domain::RequestType::GrantAccess),
            portcullis_domain::PageRequest::first(),
        )
        .await
        .expect("policies")
        .items[0]
        .id;
    let client = reqwest::Client::new();
    let (mut api, mut baseline) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut apps = Vec::new();
        for i in 0..APPS {
            let app = server
                .service
                .create_work_app(
                    &ctx,
                    NewWorkApp {
                        name: format!("Join {round}-{i}"),
                        provisioning_mode: Some(portcullis_domain::ProvisioningMode::Automatic),
                        ..NewWorkApp::default()
                    },
                )
                .await
                .expect("app");
            apps.push(app.app.id);
        }
        let group = server
            .service
            .create_group(&ctx, &format!("Join group {round}"), None)
            .await
            .expect("group");
        let defaults: Vec<DefaultWorkApp> = apps
            .iter()
            .map(|a| DefaultWorkApp { work_app_id: *a, permission_level_id: None })
            .collect();
        server.service.set_group_default_apps(&ctx, group.id, &defaults).await.expect("defaults");
        let joiners = users(&server, &ctx, &format!("api{round}"), members).await;
        let body = json!({ "userIds": joiners, "implicitlyApproveRequests": true });
        let started = Instant::now();
        let response = client
            .post(format!("{}/api/v1/UsersGroups/{}/Users", server.base, group.id))
            .header("X-API-KEY", &server.org.api_key)
            .header("X-API-SECRET", &server.org.api_secret)
            .json(&body)
            .send()
            .await
            .expect("post");
        api.push(started.elapsed());
        assert_eq!(
            response.status(),
            201,
            "group join failed: {}",
            response.text().await.unwrap_or_default()
        );
        let granted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM accesses WHERE work_app_id IN (SELECT work_app_id FROM group_default_work_apps WHERE group_id = ?)",
        )
        .bind(group.id.to_string())
        .fetch_one(server.store.pool())
        .await
        .expect("count");
        assert_eq!(granted as usize, members * APPS, "every default app granted to every member");

        let raw_group = server
            .service
            .create_group(&ctx, &format!("Raw group {round}"), None)
            .await
            .expect("group");
        let raw_users = users(&server, &ctx, &format!("raw{round}"), members).await;
        baseline.push(raw(&server, raw_group.id, &apps, policy, &raw_users).await);
    }
    let (api, baseline) = (median(api), median(baseline));
    let baseline_ms = baseline.as_secs_f64() * 1000.0;
    report(&format!("group-join-raw-insert-{members}x{APPS}"), baseline_ms, "ms", None);
    report(
        &format!("group-join-{members}x{APPS}"),
        api.as_secs_f64() * 1000.0,
        "ms",
        Some(baseline_ms),
    );
}
