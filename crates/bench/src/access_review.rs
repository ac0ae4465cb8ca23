//! access-review: starting a campaign over every managed app of an organization holding 50,000
//! accesses (the snapshot and the reviewers of every item), deciding 10,000 of them Revoke (bulk
//! decisions of 1,000), and closing it (the 10,000 revocations carried out on Automatic apps, the
//! 40,000 other items recorded as kept). The baselines are the raw SQL floor of the same data
//! movement on the same database: copying the 50,000 live accesses into a scratch table, and
//! deleting the 10,000 accesses by key, each in one statement. A second, smaller run closes a
//! campaign of Manual apps, where each revocation opens a Remove-Access request and its action
//! task.
use std::time::{Duration, Instant};

use portcullis_domain::{
    AccessReviewType, ItemDecision, NewAccessReview, PageRequest, ProvisioningMode, ReviewDecision,
    UserStatus,
};
use portcullis_service::{
    Actor, ActorKind, Ctx, DecisionFilter, NewUser, NewWorkApp, ReviewItemFilter,
};
use uuid::Uuid;

use crate::harness::{report, Server};

/// Decisions per bulk call (the API's bound).
const CHUNK: usize = 1000;

async fn setup(
    server: &Server,
    ctx: &Ctx,
    users: usize,
    apps: usize,
    mode: ProvisioningMode,
) -> Vec<Uuid> {
    let mut people = Vec::with_capacity(users);
    for i in 0..users {
        let user = server
            .service
            .create_user(
                ctx,
                NewUser {
                    first_name: format!("Reviewed {i}"),
                    last_name: String::new(),
                    email: format!("reviewed-{i}@review.bench.example"),
                    manager_id: None,
                    role: None,
                    status: UserStatus::Active,
                },
            )
            .await
            .expect("user");
        people.push(user.id);
    }
    let mut entries = Vec::with_capacity(users * apps);
    for a in 0..apps {
        let app = server
            .service
            .create_work_app(
                ctx,
                NewWorkApp {
                    name: format!("Reviewed app {a}"),
                    provisioning_mode: Some(mode),
                    owner_ids: vec![people[a % users], people[(a + 1) % users]],
                    ..NewWorkApp::default()
                },
            )
            .await
            .expect("app");
        for user in &people {
            entries.push(portcullis_domain::workapp::GrantEntry {
                work_app_id: app.app.id,
                user_id: *user,
                permission_level_id: None,
                expires_at: None,
            });
        }
    }
    for chunk in entries.chunks(portcullis_domain::workapp::MAX_BULK_GRANT) {
        server.service.grant_accesses(ctx, chunk).await.expect("grant");
    }
    people
}

async fn count(server: &Server, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(server.store.pool()).await.expect("count")
}

/// The raw floor of the snapshot: one `INSERT … SELECT` of every live access into a scratch
/// table.
async fn raw_copy(server: &Server) -> Duration {
    sqlx::query("CREATE TABLE bench_snapshot AS SELECT * FROM accesses WHERE 0")
        .execute(server.store.pool())
        .await
        .expect("scratch table");
    let started = Instant::now();
    sqlx::query("INSERT INTO bench_snapshot SELECT * FROM accesses WHERE expires_at IS NULL")
        .execute(server.store.pool())
        .await
        .expect("copy");
    started.elapsed()
}

/// The raw floor of the revocations: one `DELETE` of the given accesses by key, from a copy of
/// the table (so that the real accesses stay for the campaign).
async fn raw_delete(server: &Server, pairs: &[(Uuid, Uuid)]) -> Duration {
    let keys: Vec<(String, String)> =
        pairs.iter().map(|(a, u)| (a.to_string(), u.to_string())).collect();
    let json = serde_json::to_string(&keys).expect("json");
    let started = Instant::now();
    sqlx::query(
        "DELETE FROM bench_snapshot WHERE (work_app_id, user_id) IN
             (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
    )
    .bind(json)
    .execute(server.store.pool())
    .await
    .expect("delete");
    started.elapsed()
}

/// One campaign over `users × apps` accesses of apps in `mode`, `revocations` of them revoked.
pub async fn run(users: usize, apps: usize, revocations: usize, mode: ProvisioningMode) {
    let server = Server::start().await;
    let org = server.org.organization_id;
    let ctx = Ctx::new(Actor { org_id: org, kind: ActorKind::System }, None);
    setup(&server, &ctx, users, apps, mode).await;
    let accesses = users * apps;
    assert_eq!(count(&server, "SELECT COUNT(*) FROM accesses").await as usize, accesses);
    let copy = raw_copy(&server).await;

    let new = NewAccessReview {
        name: "Bench certification".into(),
        description: None,
        review_type: AccessReviewType::WorkAppOwner,
        due_date: chrono::Utc::now() + chrono::Duration::days(14),
        work_app_ids: Vec::new(),
        created_by_user_id: server.org.owner_user_id,
    };
    let started = Instant::now();
    let review = server.service.create_access_review(&ctx, new).await.expect("start");
    let start = started.elapsed();
    assert_eq!(review.progress.items as usize, accesses, "every access is an item");
    let reviewers = count(&server, "SELECT COUNT(*) FROM access_review_reviewers").await;
    assert!(reviewers as usize >= accesses, "every item has a reviewer");

    let undecided = ReviewItemFilter {
        decision: Some(DecisionFilter::Undecided),
        ..ReviewItemFilter::default()
    };
    let page = PageRequest { after: None, limit: revocations as u32 };
    let items = server
        .service
        .list_access_review_items(&ctx, review.review.id, undecided, page)
        .await
        .expect("items")
        .items;
    assert_eq!(items.len(), revocations);
    let pairs: Vec<(Uuid, Uuid)> =
        items.iter().map(|d| (d.item.work_app_id, d.item.user_id)).collect();
    let started = Instant::now();
    for chunk in items.chunks(CHUNK) {
        let decisions = chunk
            .iter()
            .map(|d| {
                let revoke = ItemDecision {
                    decision: ReviewDecision::Revoke,
                    permission_level_id: None,
                    comment: Some("no longer needed".into()),
                };
                (d.item.id, revoke)
            })
            .collect();
        server
            .service
            .decide_access_review_items(&ctx, review.review.id, decisions, None)
            .await
            .expect("decide");
    }
    let decide = started.elapsed();

    let delete = raw_delete(&server, &pairs).await;
    let started = Instant::now();
    let closed = server.service.close_access_review(&ctx, review.review.id).await.expect("close");
    let close = started.elapsed();
    let outcome = match mode {
        ProvisioningMode::Automatic => portcullis_domain::ItemOutcome::Revoked,
        ProvisioningMode::Manual => portcullis_domain::ItemOutcome::RemovalRequested,
    };
    let carried_out = closed.progress.outcomes.get(&outcome).copied().unwrap_or_default();
    assert_eq!(carried_out as usize, revocations, "every decided revocation carried out");
    let left = count(&server, "SELECT COUNT(*) FROM accesses").await as usize;
    match mode {
        ProvisioningMode::Automatic => assert_eq!(left, accesses - revocations),
        // Manual apps: the removals wait for their action tasks.
        ProvisioningMode::Manual => {
            assert_eq!(left, accesses);
            let open = count(&server, "SELECT COUNT(*) FROM tasks WHERE status = 'Open'").await;
            assert_eq!(open as usize, revocations, "one open action task per removal");
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if mode == ProvisioningMode::Manual {
        // Manual apps close through one request (and action task) per revocation.
        report(
            &format!("access-review-close-{revocations}-removal-requests-of-{accesses}"),
            ms(close),
            "ms",
            Some(ms(delete)),
        );
        return;
    }
    report(&format!("access-review-raw-copy-{accesses}"), ms(copy), "ms", None);
    report(&format!("access-review-start-{accesses}"), ms(start), "ms", Some(ms(copy)));
    report(
        &format!("access-review-decide-{revocations}-in-bulks-of-{CHUNK}"),
        ms(decide),
        "ms",
        None,
    );
    report(&format!("access-review-raw-delete-{revocations}"), ms(delete), "ms", None);
    report(
        &format!("access-review-close-{revocations}-revocations-of-{accesses}"),
        ms(close),
        "ms",
        Some(ms(delete)),
    );
}
