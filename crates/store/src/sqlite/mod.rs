//! The SQLite backend: one file, WAL mode, foreign keys on, writers serialized in-process.

mod accesses;
mod audit;
mod codec;
mod credentials;
mod groups;
mod organizations;
mod policies;
mod requests;
mod users;
mod webhooks;
mod work_apps;
mod workspaces;

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use portcullis_domain::workapp::{GrantEntry, GrantFacts};
use portcullis_domain::{
    Access, AccessDetail, AccessSource, ApiCredential, AuditEvent, DefaultWorkApp, OrgRole,
    Organization, Page, PageRequest, PermissionLevel, Policy, PolicyStep, Request, RequestType,
    Task, TaskStatus, User, UserToken, UsersGroup, WorkApp, Workspace, WorkspaceMember,
};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::{
    AppGroups, AuditFilter, DeliveryJob, RequestFilter, Store, StoreError, TaskFilter, Tx,
};
use portcullis_domain::{
    Delivery, DeliveryAttempt, DeliveryStatus, WebhookEvent, WebhookSubscription,
};

/// The migrations of this backend, embedded in the binary and applied at start.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("migrations/0001_foundation.sql")),
    (2, "work apps", include_str!("migrations/0002_work_apps.sql")),
    (3, "governance", include_str!("migrations/0003_governance.sql")),
    (4, "groups", include_str!("migrations/0004_groups.sql")),
    (5, "workspaces", include_str!("migrations/0005_workspaces.sql")),
    (6, "webhooks", include_str!("migrations/0006_webhooks.sql")),
];

#[derive(Debug)]
struct EmbeddedMigrations;

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<
        Box<
            dyn Future<Output = Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>>
                + Send
                + 's,
        >,
    > {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// A SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite allows one writer at a time; queueing writers here (instead of letting them spin on
    /// SQLITE_BUSY) keeps write latency fair. Other processes are handled by `busy_timeout`.
    write_lock: Arc<Mutex<()>>,
}

/// Turns `sqlite://path`, `sqlite:path` or a bare path into a file path.
pub fn database_path(database_url: &str) -> PathBuf {
    file_path(database_url)
}

fn file_path(database_url: &str) -> PathBuf {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(rest)
}

impl SqliteStore {
    /// Opens (creating if needed, folder included) the database and applies pending migrations.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let path = file_path(database_url);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        Self::open_file(&path).await
    }

    async fn open_file(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| StoreError::Config(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit survives power loss, which the crash-safety promise relies on.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let migrator = Migrator::new(EmbeddedMigrations).await?;
        migrator.run(&pool).await?;
        Ok(Self { pool, write_lock: Arc::new(Mutex::new(())) })
    }

    /// The underlying pool, for benchmarks that compare against raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(SqliteTx::Read(self.pool.acquire().await?)))
    }

    async fn write(&self) -> Result<Box<dyn Tx>, StoreError> {
        let guard = self.write_lock.clone().lock_owned().await;
        // IMMEDIATE takes the write lock up front, so a read-then-write transaction can never
        // fail half-way with SQLITE_BUSY when another process writes.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx::Write(tx, guard)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// A read session or a write transaction on one pooled connection.
pub enum SqliteTx {
    Read(PoolConnection<Sqlite>),
    Write(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteTx::Read(conn) => conn,
            SqliteTx::Write(tx, _) => tx,
        }
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        match *self {
            SqliteTx::Read(_) => Ok(()),
            SqliteTx::Write(tx, _guard) => Ok(tx.commit().await?),
        }
    }

    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        organizations::insert(self.conn(), org).await
    }
    async fn get_organization(&mut self, id: Uuid) -> Result<Option<Organization>, StoreError> {
        organizations::get(self.conn(), id).await
    }
    async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        organizations::update(self.conn(), org).await
    }

    async fn insert_user(&mut self, user: &User) -> Result<(), StoreError> {
        users::insert(self.conn(), user).await
    }
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        users::update(self.conn(), user).await
    }
    async fn get_user(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<User>, StoreError> {
        users::get(self.conn(), org_id, id).await
    }
    async fn list_users(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError> {
        users::list(self.conn(), org_id, page).await
    }
    async fn find_users_by_email(&mut self, email: &str) -> Result<Vec<User>, StoreError> {
        users::find_by_email(self.conn(), email).await
    }
    async fn manager_chain(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        max: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        users::manager_chain(self.conn(), org_id, user_id, max).await
    }
    async fn count_active_with_role(
        &mut self,
        org_id: Uuid,
        role: OrgRole,
    ) -> Result<i64, StoreError> {
        users::count_active_with_role(self.conn(), org_id, role).await
    }
    async fn set_last_login(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        users::set_last_login(self.conn(), org_id, user_id, at).await
    }

    async fn insert_api_credential(&mut self, cred: &ApiCredential) -> Result<(), StoreError> {
        credentials::insert_api_credential(self.conn(), cred).await
    }
    async fn get_api_credential(&mut self, id: Uuid) -> Result<Option<ApiCredential>, StoreError> {
        credentials::get_api_credential(self.conn(), id).await
    }
    async fn list_api_credentials(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<ApiCredential>, StoreError> {
        credentials::list_api_credentials(self.conn(), org_id).await
    }
    async fn revoke_api_credential(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        credentials::revoke_api_credential(self.conn(), org_id, id, at).await
    }
    async fn insert_user_token(&mut self, token: &UserToken) -> Result<(), StoreError> {
        credentials::insert_user_token(self.conn(), token).await
    }
    async fn get_user_token(&mut self, id: Uuid) -> Result<Option<UserToken>, StoreError> {
        credentials::get_user_token(self.conn(), id).await
    }
    async fn revoke_user_token(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        credentials::revoke_user_token(self.conn(), org_id, user_id, id, at).await
    }

    async fn get_users(&mut self, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        users::get_many(self.conn(), org_id, ids).await
    }

    async fn insert_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
        work_apps::insert(self.conn(), app).await
    }
    async fn update_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
        work_apps::update(self.conn(), app).await
    }
    async fn get_work_app(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<WorkApp>, StoreError> {
        work_apps::get(self.conn(), org_id, id).await
    }
    async fn list_work_apps(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError> {
        work_apps::list(self.conn(), org_id, page).await
    }
    async fn count_live_accesses(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, i64>, StoreError> {
        accesses::count_live(self.conn(), org_id, app_ids, now).await
    }

    async fn insert_permission_level(&mut self, level: &PermissionLevel) -> Result<(), StoreError> {
        work_apps::insert_level(self.conn(), level).await
    }
    async fn get_permission_level(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<PermissionLevel>, StoreError> {
        work_apps::get_level(self.conn(), org_id, id).await
    }
    async fn list_permission_levels(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<PermissionLevel>, StoreError> {
        work_apps::list_levels(self.conn(), org_id, app_id, page).await
    }

    async fn grant_facts(
        &mut self,
        org_id: Uuid,
        entries: &[GrantEntry],
    ) -> Result<GrantFacts, StoreError> {
        accesses::grant_facts(self.conn(), org_id, entries).await
    }
    async fn upsert_accesses(
        &mut self,
        org_id: Uuid,
        rows: &[GrantEntry],
        source: AccessSource,
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError> {
        accesses::upsert(self.conn(), org_id, rows, source, now).await
    }
    async fn get_access(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Access>, StoreError> {
        accesses::get(self.conn(), org_id, app_id, user_id).await
    }
    async fn list_accesses(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<AccessDetail>, StoreError> {
        accesses::list(self.conn(), org_id, app_id, page, now).await
    }
    async fn delete_access(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Access>, StoreError> {
        accesses::delete(self.conn(), org_id, app_id, user_id).await
    }
    async fn delete_expired_accesses(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Access>, StoreError> {
        accesses::delete_expired(self.conn(), now, limit).await
    }

    async fn insert_group(&mut self, group: &UsersGroup) -> Result<(), StoreError> {
        groups::insert(self.conn(), group).await
    }
    async fn update_group(&mut self, group: &UsersGroup) -> Result<(), StoreError> {
        groups::update(self.conn(), group).await
    }
    async fn delete_group(&mut self, org_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        groups::delete(self.conn(), org_id, id).await
    }
    async fn get_group(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<UsersGroup>, StoreError> {
        groups::get(self.conn(), org_id, id).await
    }
    async fn list_groups(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError> {
        groups::list(self.conn(), org_id, page).await
    }
    async fn list_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError> {
        groups::list_members(self.conn(), org_id, group_id, page).await
    }
    async fn existing_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError> {
        groups::existing_members(self.conn(), org_id, group_id, user_ids).await
    }
    async fn insert_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_ids: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        groups::insert_members(self.conn(), org_id, group_id, user_ids, at).await
    }
    async fn delete_group_member(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        groups::delete_member(self.conn(), org_id, group_id, user_id).await
    }
    async fn set_group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        apps: &[DefaultWorkApp],
    ) -> Result<(), StoreError> {
        groups::set_default_apps(self.conn(), org_id, group_id, apps).await
    }
    async fn group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<DefaultWorkApp>, StoreError> {
        groups::default_apps(self.conn(), org_id, group_id).await
    }
    async fn set_group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<(), StoreError> {
        groups::set_hidden_apps(self.conn(), org_id, group_id, app_ids).await
    }
    async fn group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        groups::hidden_apps(self.conn(), org_id, group_id).await
    }
    async fn groups_of_apps(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, AppGroups>, StoreError> {
        groups::groups_of_apps(self.conn(), org_id, app_ids).await
    }
    async fn covered_pairs(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        groups::covered_pairs(self.conn(), org_id, user_ids, app_ids, now).await
    }

    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError> {
        workspaces::insert(self.conn(), workspace).await
    }
    async fn update_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError> {
        workspaces::update(self.conn(), workspace).await
    }
    async fn get_workspace(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Workspace>, StoreError> {
        workspaces::get(self.conn(), org_id, id).await
    }
    async fn list_workspaces(
        &mut self,
        org_id: Uuid,
        member_id: Option<Uuid>,
    ) -> Result<Vec<Workspace>, StoreError> {
        workspaces::list(self.conn(), org_id, member_id).await
    }
    async fn get_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<WorkspaceMember>, StoreError> {
        workspaces::get_member(self.conn(), org_id, workspace_id, user_id).await
    }
    async fn list_workspace_members(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Vec<WorkspaceMember>, StoreError> {
        workspaces::list_members(self.conn(), org_id, workspace_id).await
    }
    async fn upsert_workspace_member(
        &mut self,
        org_id: Uuid,
        member: &WorkspaceMember,
    ) -> Result<(), StoreError> {
        workspaces::upsert_member(self.conn(), org_id, member).await
    }
    async fn delete_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        workspaces::delete_member(self.conn(), org_id, workspace_id, user_id).await
    }
    async fn count_workspace_admins(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<i64, StoreError> {
        workspaces::count_admins(self.conn(), org_id, workspace_id).await
    }

    async fn group_exists(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError> {
        policies::group_exists(self.conn(), org_id, group_id).await
    }
    async fn group_member_ids(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        policies::group_member_ids(self.conn(), org_id, group_id).await
    }
    async fn active_admin_ids(&mut self, org_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        policies::active_admin_ids(self.conn(), org_id).await
    }

    async fn insert_policy(&mut self, policy: &Policy) -> Result<(), StoreError> {
        policies::insert(self.conn(), policy).await
    }
    async fn update_policy(
        &mut self,
        policy: &Policy,
        new_version: bool,
    ) -> Result<(), StoreError> {
        policies::update(self.conn(), policy, new_version).await
    }
    async fn get_policy(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Policy>, StoreError> {
        policies::get(self.conn(), org_id, id).await
    }
    async fn get_policy_steps(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<Option<Vec<PolicyStep>>, StoreError> {
        policies::get_steps(self.conn(), org_id, id, version).await
    }
    async fn list_policies(
        &mut self,
        org_id: Uuid,
        request_type: Option<RequestType>,
        page: PageRequest,
    ) -> Result<Page<Policy>, StoreError> {
        policies::list(self.conn(), org_id, request_type, page).await
    }
    async fn policy_version_in_use(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<bool, StoreError> {
        policies::version_in_use(self.conn(), org_id, id, version).await
    }
    async fn default_policy(
        &mut self,
        org_id: Uuid,
        request_type: RequestType,
    ) -> Result<Option<Policy>, StoreError> {
        policies::default_for(self.conn(), org_id, request_type).await
    }
    async fn set_work_app_policy(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), StoreError> {
        policies::set_app_policy(self.conn(), org_id, app_id, request_type, policy_id).await
    }
    async fn set_permission_level_policy(
        &mut self,
        org_id: Uuid,
        level_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), StoreError> {
        policies::set_level_policy(self.conn(), org_id, level_id, request_type, policy_id).await
    }
    async fn assigned_policies(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        level_id: Option<Uuid>,
        request_type: RequestType,
    ) -> Result<(Option<Uuid>, Option<Uuid>), StoreError> {
        policies::assigned(self.conn(), org_id, app_id, level_id, request_type).await
    }

    async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError> {
        requests::insert_request(self.conn(), request).await
    }
    async fn update_request(&mut self, request: &Request) -> Result<(), StoreError> {
        requests::update_request(self.conn(), request).await
    }
    async fn get_request(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Request>, StoreError> {
        requests::get_request(self.conn(), org_id, id).await
    }
    async fn list_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<Request>, StoreError> {
        requests::list_requests(self.conn(), org_id, filter, page).await
    }
    async fn insert_task(&mut self, task: &Task) -> Result<(), StoreError> {
        requests::insert_task(self.conn(), task).await
    }
    async fn get_task(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError> {
        requests::get_task(self.conn(), org_id, id).await
    }
    async fn decide_task(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        status: TaskStatus,
        decided_by_user_id: Option<Uuid>,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        requests::decide_task(self.conn(), org_id, id, status, decided_by_user_id, comment, at)
            .await
    }
    async fn list_tasks(
        &mut self,
        org_id: Uuid,
        filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError> {
        requests::list_tasks(self.conn(), org_id, filter, page).await
    }
    async fn request_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<Task>, StoreError> {
        requests::request_tasks(self.conn(), org_id, request_id).await
    }
    async fn cancel_open_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        requests::cancel_open_tasks(self.conn(), org_id, request_id, at).await
    }

    async fn insert_webhook_event(
        &mut self,
        event: &WebhookEvent,
        dispatched: bool,
    ) -> Result<(), StoreError> {
        webhooks::insert_event(self.conn(), event, dispatched).await
    }
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError> {
        webhooks::insert_events(self.conn(), events).await
    }
    async fn insert_subscription(&mut self, sub: &WebhookSubscription) -> Result<(), StoreError> {
        webhooks::insert_subscription(self.conn(), sub).await
    }
    async fn list_subscriptions(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        webhooks::list_subscriptions(self.conn(), org_id).await
    }
    async fn get_subscription(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<WebhookSubscription>, StoreError> {
        webhooks::get_subscription(self.conn(), org_id, id).await
    }
    async fn delete_subscription(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        webhooks::delete_subscription(self.conn(), org_id, id, at).await
    }
    async fn set_subscription_health(
        &mut self,
        id: Uuid,
        enabled: bool,
        failing_since: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        webhooks::set_subscription_health(self.conn(), id, enabled, failing_since).await
    }
    async fn dispatch_events(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        webhooks::dispatch_events(self.conn(), now, limit).await
    }
    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError> {
        webhooks::insert_delivery(self.conn(), delivery).await
    }
    async fn lease_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        webhooks::lease_deliveries(self.conn(), now, lease_until, limit).await
    }
    async fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        webhooks::finish_attempt(self.conn(), attempt, status, next_attempt_at).await
    }
    async fn list_deliveries(
        &mut self,
        org_id: Uuid,
        subscription_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError> {
        webhooks::list_deliveries(self.conn(), org_id, subscription_id, page).await
    }
    async fn retry_delivery(
        &mut self,
        org_id: Uuid,
        subscription_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        webhooks::retry_delivery(self.conn(), org_id, subscription_id, delivery_id, now).await
    }
    async fn get_signing_key(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        webhooks::get_signing_key(self.conn(), org_id).await
    }
    async fn insert_signing_key(
        &mut self,
        org_id: Uuid,
        private_key_ciphertext: &[u8],
        public_key_pem: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        webhooks::insert_signing_key(
            self.conn(),
            org_id,
            private_key_ciphertext,
            public_key_pem,
            at,
        )
        .await
    }
    async fn list_audit_events(
        &mut self,
        org_id: Uuid,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        webhooks::list_audit_events(self.conn(), org_id, filter, page).await
    }

    async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        audit::insert(self.conn(), event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_map_to_file_paths() {
        assert_eq!(file_path("sqlite://data/p.db"), PathBuf::from("data/p.db"));
        assert_eq!(file_path("sqlite:p.db?mode=rwc"), PathBuf::from("p.db"));
        assert_eq!(file_path("/tmp/x.db"), PathBuf::from("/tmp/x.db"));
    }
}
