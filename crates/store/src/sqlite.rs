//! The SQLite backend: one file, WAL mode, foreign keys on, writers serialized in-process.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::session::{ReadSession, WriteSession};
use crate::sql::Db;
use crate::{ReadTx, Store, StoreError, WriteTx};

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
        let migrator = Migrator::new(crate::migrations::SQLITE).await?;
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
    async fn read(&self) -> Result<Box<dyn ReadTx>, StoreError> {
        Ok(Box::new(ReadSession(Db::SqliteRead(self.pool.acquire().await?))))
    }

    async fn write(&self) -> Result<Box<dyn WriteTx>, StoreError> {
        let guard = self.write_lock.clone().lock_owned().await;
        // IMMEDIATE takes the write lock up front, so a read-then-write transaction can never
        // fail half-way with SQLITE_BUSY when another process writes.
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(WriteSession(Db::SqliteWrite(tx, guard))))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
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
