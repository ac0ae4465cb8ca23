//! The PostgreSQL backend: the same schema and queries as SQLite in PostgreSQL's dialect, for
//! several server processes sharing one database. Write transactions take a per-organization
//! advisory lock (see [`crate::Tx::lock_org`]); webhook work is leased with
//! `FOR UPDATE SKIP LOCKED`.

pub(crate) mod accesses;
pub(crate) mod audit;
pub(crate) mod codec;
pub(crate) mod credentials;
pub(crate) mod groups;
pub(crate) mod organizations;
pub(crate) mod policies;
pub(crate) mod requests;
pub(crate) mod users;
pub(crate) mod webhooks;
pub(crate) mod work_apps;
pub(crate) mod workspaces;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::workapp::{GrantEntry, GrantFacts};
use portcullis_domain::{
    Access, AccessDetail, AccessSource, ApiCredential, AuditEvent, DefaultWorkApp, Delivery,
    DeliveryAttempt, DeliveryStatus, OrgRole, Organization, Page, PageRequest, PermissionLevel,
    Policy, PolicyStep, Request, RequestType, Task, TaskStatus, User, UserToken, UsersGroup,
    WebhookEvent, WebhookSubscription, WorkApp, Workspace, WorkspaceMember,
};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::embedded::EmbeddedMigrations;
use crate::{
    AppGroups, AuditFilter, DeliveryJob, RequestFilter, Store, StoreError, TaskFilter, Tx,
};

/// The migrations of this backend, embedded in the binary and applied at start (sqlx takes an
/// advisory lock, so several servers starting at once migrate once).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("migrations/0001_foundation.sql")),
    (2, "work apps", include_str!("migrations/0002_work_apps.sql")),
    (3, "governance", include_str!("migrations/0003_governance.sql")),
    (4, "groups", include_str!("migrations/0004_groups.sql")),
    (5, "workspaces", include_str!("migrations/0005_workspaces.sql")),
    (6, "webhooks", include_str!("migrations/0006_webhooks.sql")),
];

/// A PostgreSQL database (optionally one schema of it: tests give each test its own).
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects, creating `schema` first if given, and applies pending migrations.
    pub async fn open(database_url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        if let Some(schema) = schema {
            if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Config(format!("invalid schema name {schema}")));
            }
            let pool =
                PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(&pool).await?;
            pool.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await?;
        Migrator::new(EmbeddedMigrations(MIGRATIONS)).await?.run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(PgTx::Read(self.pool.acquire().await?)))
    }

    async fn write(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(PgTx::Write(self.pool.begin().await?)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// A read session or a write transaction on one pooled connection.
pub enum PgTx {
    Read(PoolConnection<Postgres>),
    Write(Transaction<'static, Postgres>),
}

impl PgTx {
    /// `pg_advisory_xact_lock` on a key derived from the organization id; released at commit or
    /// rollback.
    async fn lock_org_impl(&mut self, org_id: Uuid) -> Result<(), StoreError> {
        if let PgTx::Write(tx) = self {
            let bytes = org_id.as_bytes();
            let key = i64::from_be_bytes([
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14],
                bytes[15],
            ]);
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn finish(self) -> Result<(), StoreError> {
        match self {
            PgTx::Read(_) => Ok(()),
            PgTx::Write(tx) => Ok(tx.commit().await?),
        }
    }

    fn conn(&mut self) -> &mut PgConnection {
        match self {
            PgTx::Read(conn) => conn,
            PgTx::Write(tx) => tx,
        }
    }
}

crate::delegate::delegate_tx!(PgTx, postgres);
