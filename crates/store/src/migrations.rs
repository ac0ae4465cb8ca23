//! The schema migrations, compiled into the binary (no files needed at run time) and applied at
//! start. Each version exists once per backend: `migrations/sqlite/` and `migrations/postgres/`
//! hold the same tables and columns in each dialect (the store tests check it); adding a migration
//! is adding its two files.
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType};

type BoxedMigrations<'s> = Pin<
    Box<
        dyn Future<Output = Result<Vec<Migration>, Box<dyn std::error::Error + Send + Sync>>>
            + Send
            + 's,
    >,
>;

/// A backend's `(version, description, sql)` list, given to sqlx's migrator.
#[derive(Debug)]
pub struct EmbeddedMigrations(pub &'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(self) -> BoxedMigrations<'s> {
        Box::pin(async move {
            Ok(self
                .0
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

// `SQLITE` and `POSTGRES`: every file of `migrations/sqlite/` and `migrations/postgres/`, in
// version order (see build.rs).
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
