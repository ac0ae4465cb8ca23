//! The SQLite backend: one file, WAL mode, foreign keys on, writers serialized in-process.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::sync::Arc;

use sqlx::SqlitePool;

use crate::group_commit::{CommitStats, GroupCommit};
use crate::lite::ReadPool;
use crate::session::{ReadSession, WriteSession};
use crate::sql::Db;
use crate::{ReadTx, Store, StoreError, WriteTx};

/// Reading connections: a read holds one only while it runs (reads take microseconds), so a
/// few serve many concurrent requests.
const READ_CONNECTIONS: usize = 8;

/// A SQLite database file.
pub struct SqliteStore {
    /// For migrations and for raw SQL in benchmarks and tests; requests use `reads` and `writer`.
    pool: SqlitePool,
    /// Connections for reads, driven in place (see `lite`).
    reads: Arc<ReadPool>,
    /// SQLite allows one writer at a time: this process's writers queue on one connection (which
    /// keeps write latency fair instead of spinning on SQLITE_BUSY) and share commits. Other
    /// processes are handled by `busy_timeout`.
    writer: GroupCommit,
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
    ///
    /// The database holds everyone's directory and the hashes of every credential: its folder is
    /// created (or tightened to) 0700, and the database file with its `-wal` and `-shm` files
    /// 0600, like `master.key` beside them.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let path = file_path(database_url);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private::folder(dir, &path).map_err(|e| {
                StoreError::Config(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        private::database_files(&path)
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))?;
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
            .max_connections(4)
            .min_connections(0)
            .connect_with(options.clone())
            .await?;
        let migrator = Migrator::new(crate::migrations::SQLITE).await?;
        migrator.run(&pool).await?;
        let writer = GroupCommit::new(path.to_path_buf())?;
        let reads = ReadPool::new(path.to_path_buf(), READ_CONNECTIONS);
        Ok(Self { pool, reads, writer })
    }

    /// The underlying pool, for benchmarks that compare against raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self) -> Result<Box<dyn ReadTx>, StoreError> {
        Ok(Box::new(ReadSession(Db::SqliteRead(self.reads.acquire().await?))))
    }

    async fn write(&self) -> Result<Box<dyn WriteTx>, StoreError> {
        Ok(Box::new(WriteSession(Db::SqliteWrite(self.writer.begin().await?))))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut read = self.reads.acquire().await?;
        crate::lite::fetch(read.conn(), "SELECT 1", &[], Some(1))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn commit_stats(&self) -> Option<CommitStats> {
        Some(self.writer.stats())
    }
}

/// Owner-only permissions for the database's folder and files (Unix; elsewhere nothing to do).
pub mod private {
    use std::path::Path;

    /// Files of ours that may sit in the database's folder: a folder holding only these is ours
    /// to tighten.
    const OWN_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];
    const MASTER_KEY: &str = "master.key";

    /// Creates `dir`, the folder of the database file `db` (its parents as usual, itself 0700),
    /// or tightens an existing one to 0700 when it is looser and holds nothing but the database's
    /// files and `master.key`; a shared folder (other files in it, e.g. `/tmp`) is left alone
    /// with a warning.
    pub fn folder(dir: &Path, db: &Path) -> std::io::Result<()> {
        if !dir.exists() {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        if !is_loose(dir, 0o700) {
            return Ok(());
        }
        let db_name = db.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let ours = std::fs::read_dir(dir)?.all(|entry| {
            entry.is_ok_and(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name == MASTER_KEY
                    || OWN_SUFFIXES.iter().any(|suffix| name == format!("{db_name}{suffix}"))
            })
        });
        if ours {
            tighten(dir, 0o700);
        } else {
            tracing::warn!(
                folder = %dir.display(),
                "the database's folder can be read by other users and holds other files, so its \
                 permissions are left alone; give the database a folder of its own"
            );
        }
        Ok(())
    }

    /// Creates the database file 0600 if it does not exist yet (SQLite gives its `-wal` and
    /// `-shm` files the database file's permissions), and tightens the existing ones to 0600.
    pub fn database_files(db: &Path) -> std::io::Result<()> {
        if !db.exists() {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(db) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        for suffix in OWN_SUFFIXES {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            if is_loose(&file, 0o600) {
                tighten(&file, 0o600);
            }
        }
        Ok(())
    }

    /// Sets `mode` on `path`, warning when that is not possible (e.g. another user's file).
    pub fn tighten(path: &Path, mode: u32) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), mode = format!("{mode:o}"), "tightened permissions")
                }
                Err(err) => tracing::warn!(
                    path = %path.display(),
                    error = %err,
                    "can be read by other users and its permissions cannot be changed"
                ),
            }
        }
        #[cfg(not(unix))]
        let _ = (path, mode);
    }

    /// Does `path` exist with permission bits beyond `mode`?
    pub fn is_loose(path: &Path, mode: u32) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 & !mode != 0)
        }
        #[cfg(not(unix))]
        {
            let _ = (path, mode);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_folder_and_files_are_private_and_shared_folders_are_left_alone() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let set = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let tmp = tempfile::tempdir().unwrap();

        let fresh = tmp.path().join("a/b/data");
        private::folder(&fresh, &fresh.join("p.db")).unwrap();
        assert_eq!(mode(&fresh), 0o700);
        private::database_files(&fresh.join("p.db")).unwrap();
        assert_eq!(mode(&fresh.join("p.db")), 0o600);

        let loose = tmp.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        for f in ["p.db", "p.db-wal", "master.key"] {
            std::fs::write(loose.join(f), b"").unwrap();
            set(&loose.join(f), 0o644);
        }
        set(&loose, 0o755);
        private::folder(&loose, &loose.join("p.db")).unwrap();
        private::database_files(&loose.join("p.db")).unwrap();
        assert_eq!(mode(&loose), 0o700);
        assert_eq!(mode(&loose.join("p.db")), 0o600);
        assert_eq!(mode(&loose.join("p.db-wal")), 0o600);

        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::write(shared.join("notes.txt"), b"").unwrap();
        set(&shared, 0o755);
        private::folder(&shared, &shared.join("p.db")).unwrap();
        assert_eq!(mode(&shared), 0o755, "a folder with other files is not ours to change");
    }

    #[test]
    fn database_urls_map_to_file_paths() {
        assert_eq!(file_path("sqlite://data/p.db"), PathBuf::from("data/p.db"));
        assert_eq!(file_path("sqlite:p.db?mode=rwc"), PathBuf::from("p.db"));
        assert_eq!(file_path("/tmp/x.db"), PathBuf::from("/tmp/x.db"));
    }
}
