//! The harness: every test runs on a fresh SQLite file, and also on a fresh PostgreSQL schema
//! when `PORTCULLIS_TEST_DATABASE_URL` names a PostgreSQL database; plus fixed timestamps and
//! builders for the domain values.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use portcullis_domain::{
    new_id, Approver, OrgRole, Organization, PermissionLevel, Policy, PolicyStep, ProvisioningMode,
    Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus, User, UsersGroup,
    WebhookEvent, WebhookSubscription, WorkApp, WorkAppStatus,
};
use portcullis_store::postgres::PostgresStore;
use portcullis_store::prelude::*;
use portcullis_store::sqlite::SqliteStore;
use portcullis_store::StoreError;
use tempfile::TempDir;
use uuid::Uuid;

/// The PostgreSQL URL of the test server, if one is configured.
pub fn pg_url() -> Option<String> {
    std::env::var("PORTCULLIS_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// One fresh database of one backend.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
}

/// The concrete store behind [`TestDb::store`], for raw SQL.
pub enum Raw {
    Sqlite { store: Arc<SqliteStore>, _dir: TempDir },
    Postgres { store: Arc<PostgresStore>, schema: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.db");
        let store =
            Arc::new(SqliteStore::open(path.to_str().expect("utf-8 path")).await.expect("sqlite"));
        Self { store: store.clone(), raw: Raw::Sqlite { store, _dir: dir } }
    }

    pub async fn postgres(url: &str) -> Self {
        let schema = format!("t_{}", Uuid::now_v7().simple());
        let store = Arc::new(PostgresStore::open(url, Some(&schema)).await.expect("postgres"));
        Self { store: store.clone(), raw: Raw::Postgres { store, schema } }
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.raw, Raw::Postgres { .. })
    }

    /// Drops the test's PostgreSQL schema (a failed test leaves it behind for inspection).
    pub async fn finish(self) {
        if let Raw::Postgres { store, schema } = &self.raw {
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(store.pool())
                .await
                .expect("drop test schema");
            store.pool().close().await;
        }
    }
}

/// A fresh SQLite database, and a fresh PostgreSQL schema when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut out = vec![TestDb::sqlite().await];
    if let Some(url) = pg_url() {
        out.push(TestDb::postgres(&url).await);
    }
    out
}

/// Generates one `#[tokio::test]` per named case (`async fn case(db: &TestDb)` in the calling
/// module), running it on every backend in turn. Attributes before a case (`#[ignore = "…"]`)
/// go on its test.
macro_rules! on_every_backend {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        mod on_every_backend {
            $(
                $(#[$attr])*
                #[tokio::test]
                async fn $case() {
                    for db in crate::common::backends().await {
                        eprintln!("--- {} on {}", stringify!($case), db.backend());
                        super::$case(&db).await;
                        db.finish().await;
                    }
                }
            )*
        }
    };
}

/// The fixed origin of every timestamp: 2026-01-02T03:04:05.678Z.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().expect("valid date")
        + Duration::milliseconds(678)
}

/// `t0 + secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// `t0 + ms` milliseconds.
pub fn at_ms(ms: i64) -> DateTime<Utc> {
    t0() + Duration::milliseconds(ms)
}

/// Asserts a conflict error (uniqueness violation).
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected StoreError::Conflict, got {other:?}"),
    }
}

/// Ids sorted: the order of every keyset listing.
pub fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

pub fn organization(name: &str) -> Organization {
    Organization {
        id: new_id(),
        name: name.into(),
        domain: "example.com".into(),
        created_at: at(0),
        updated_at: at_ms(1),
        ..Organization::default()
    }
}

pub fn user(org: &Organization, name: &str, email: &str, role: OrgRole) -> User {
    User {
        id: new_id(),
        org_id: org.id,
        first_name: name.into(),
        last_name: "Tester".into(),
        email: email.into(),
        role,
        validated: true,
        deleted_at: None,
        manager_id: None,
        last_login: None,
        created_at: at(1),
        updated_at: at_ms(1_001),
    }
}

pub fn work_app(org_id: Uuid, name: &str) -> WorkApp {
    WorkApp {
        id: new_id(),
        org_id,
        name: name.into(),
        description: format!("{name}: the description"),
        status: WorkAppStatus::Managed,
        provisioning_mode: ProvisioningMode::Manual,
        category: "Chat".into(),
        url: format!("https://{}.example", name.to_lowercase()),
        image_url: format!("https://img.example/{}.png", name.to_lowercase()),
        tag_line: "Talk".into(),
        owner_ids: Vec::new(),
        created_at: at(2),
        updated_at: at_ms(2_002),
    }
}

pub fn level(app: &WorkApp, name: &str, is_default: bool, is_privileged: bool) -> PermissionLevel {
    PermissionLevel {
        id: new_id(),
        org_id: app.org_id,
        work_app_id: app.id,
        name: name.into(),
        description: format!("{name} level"),
        is_default,
        is_privileged,
        created_at: at_ms(3_003),
    }
}

pub fn group(org_id: Uuid, name: &str) -> UsersGroup {
    UsersGroup {
        id: new_id(),
        org_id,
        name: name.into(),
        description: format!("The {name} group"),
        member_count: 0,
        created_at: at_ms(4_004),
        updated_at: at_ms(4_005),
    }
}

pub fn policy(org_id: Uuid, request_type: RequestType, is_default: bool) -> Policy {
    Policy {
        id: new_id(),
        org_id,
        name: format!("policy {}", new_id().simple()),
        request_type,
        steps: vec![
            PolicyStep { approver: Approver::Manager, user_id: None, group_id: None },
            PolicyStep { approver: Approver::AppOwner, user_id: None, group_id: None },
        ],
        version: 1,
        is_system: is_default,
        is_default,
        created_at: at_ms(5_005),
        updated_at: at_ms(5_006),
    }
}

/// A pending grant request of `user` for `app` following `policy`.
pub fn request(policy: &Policy, app_id: Uuid, user_id: Option<Uuid>) -> Request {
    Request {
        id: new_id(),
        org_id: policy.org_id,
        request_type: policy.request_type,
        work_app_id: app_id,
        target_user_id: user_id,
        permission_level_id: None,
        created_by_user_id: user_id,
        justification: "I need it".into(),
        expires_at: None,
        status: RequestStatus::Pending,
        policy_id: policy.id,
        policy_version: policy.version,
        step_count: i32::try_from(policy.steps.len()).expect("few steps"),
        cancelled_by_user_id: None,
        source_group_id: None,
        created_at: at_ms(6_006),
        updated_at: at_ms(6_007),
    }
}

pub fn task(request: &Request, step: i32, assignee_ids: Vec<Uuid>) -> Task {
    Task {
        id: new_id(),
        org_id: request.org_id,
        request_id: request.id,
        kind: TaskKind::Review,
        status: TaskStatus::Open,
        step,
        assignee_ids,
        unassigned_reason: None,
        decided_by_user_id: None,
        decided_at: None,
        comment: None,
        created_at: at_ms(7_007),
        updated_at: at_ms(7_008),
    }
}

pub fn subscription(
    org_id: Uuid,
    events: &[&str],
    created_at: DateTime<Utc>,
) -> WebhookSubscription {
    WebhookSubscription {
        id: new_id(),
        org_id,
        target_url: format!("https://hooks.example/{}", new_id().simple()),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: "a subscription".into(),
        secret_ciphertext: vec![0, 1, 2, 0xfe, 0xff, 0, 42],
        enabled: true,
        failing_since: None,
        created_at,
        deleted_at: None,
        target_url_ciphertext: None,
        consecutive_failures: 0,
        paused_until: None,
    }
}

pub fn event(org_id: Uuid, event_type: &str, occurred_at: DateTime<Utc>) -> WebhookEvent {
    WebhookEvent {
        id: new_id(),
        org_id,
        event_type: event_type.into(),
        occurred_at,
        // Quotes, a backslash, a newline and non-ASCII: the bulk insert passes data through JSON.
        data: format!(
            r#"{{"type":"{event_type}","text":"Zoë \"quoted\" \\ back\nslash ☃","n":1}}"#
        ),
    }
}

/// Two organizations and a few users, committed.
pub struct Seed {
    /// The organization most tests work in.
    pub org: Organization,
    /// Another organization, for tenant scoping.
    pub other_org: Organization,
    pub owner: User,
    pub admin: User,
    pub alice: User,
    pub bob: User,
    /// A user of `other_org`.
    pub stranger: User,
}

pub async fn seed(db: &TestDb) -> Seed {
    let org = organization("Acme");
    let other_org = organization("Globex");
    let owner = user(&org, "Olive Owner", "owner@acme.example", OrgRole::Owner);
    let admin = user(&org, "Adam Admin", "admin@acme.example", OrgRole::Administrator);
    let alice = user(&org, "Alice", "alice@acme.example", OrgRole::User);
    let bob = user(&org, "Bob", "bob@acme.example", OrgRole::User);
    let stranger = user(&other_org, "Stranger", "stranger@globex.example", OrgRole::Owner);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_organization(&org).await.expect("org");
    tx.insert_organization(&other_org).await.expect("other org");
    for u in [&owner, &admin, &alice, &bob, &stranger] {
        tx.insert_user(u).await.expect("user");
    }
    tx.commit().await.expect("commit seed");
    Seed { org, other_org, owner, admin, alice, bob, stranger }
}

/// Inserts and commits work apps.
pub async fn insert_apps(db: &TestDb, apps: &[&WorkApp]) {
    let mut tx = db.store.write().await.expect("write");
    for app in apps {
        tx.insert_work_app(app).await.expect("insert work app");
    }
    tx.commit().await.expect("commit apps");
}

/// Inserts and commits users.
pub async fn insert_users(db: &TestDb, users: &[&User]) {
    let mut tx = db.store.write().await.expect("write");
    for u in users {
        tx.insert_user(u).await.expect("insert user");
    }
    tx.commit().await.expect("commit users");
}

/// Guards a step that would hang if a lock were never released.
pub async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still blocked after 30 s"))
}

/// On PostgreSQL, waits until some session is blocked on a lock while running a statement that
/// starts with `statement` — the concurrent transaction under test has reached the contended row.
/// (SQLite queues writers in-process before they start; there is nothing to observe.)
pub async fn wait_until_blocked(db: &TestDb, statement: &str) {
    let Raw::Postgres { store, .. } = &db.raw else { return };
    bounded("a concurrent writer to block", async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'
                   AND ltrim(query) LIKE $1 || '%'",
            )
            .bind(statement)
            .fetch_one(store.pool())
            .await
            .expect("pg_stat_activity");
            if waiting > 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
}
