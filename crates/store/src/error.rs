/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint was violated (e.g. e-mail taken). The string names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database URL or configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// A stored value could not be decoded (should never happen with our own migrations).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
    /// A write could not be made durable (its group commit failed); nothing of it was kept.
    #[error("commit failed: {0}")]
    Commit(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.message().to_string());
            }
        }
        StoreError::Database(err)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(failure, message) = &err {
            // Both a UNIQUE index and a primary key are "already taken", as on PostgreSQL.
            if matches!(
                failure.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) {
                return StoreError::Conflict(message.clone().unwrap_or_else(|| err.to_string()));
            }
        }
        StoreError::Sqlite(err)
    }
}
