//! The PostgreSQL backend: the same schema and queries as SQLite in PostgreSQL's dialect, for
//! several server processes sharing one database. Write transactions take a per-organization
//! advisory lock (see [`crate::WriteTx::lock_org`]); webhook work is leased with
//! `FOR UPDATE SKIP LOCKED`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::session::{ReadSession, WriteSession};
use crate::sql::Db;
use crate::{ReadTx, Store, StoreError, WriteTx};

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
        Migrator::new(crate::migrations::POSTGRES).await?.run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn read(&self) -> Result<Box<dyn ReadTx>, StoreError> {
        Ok(Box::new(ReadSession(Db::PgRead(self.pool.acquire().await?))))
    }

    async fn write(&self) -> Result<Box<dyn WriteTx>, StoreError> {
        Ok(Box::new(WriteSession(Db::PgWrite(self.pool.begin().await?))))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
