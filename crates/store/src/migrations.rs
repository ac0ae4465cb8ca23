//! The schema migrations, compiled into the binary (no files needed at run time) and applied at
//! start. Each version exists once per backend: `migrations/sqlite/` and `migrations/postgres/`
//! hold the same tables and columns in each dialect (the store tests check it).
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

/// Declares every migration once; adding one is a line here plus its two SQL files.
macro_rules! migrations {
    ($($version:literal, $name:literal, $file:literal;)*) => {
        pub(crate) const SQLITE: EmbeddedMigrations = EmbeddedMigrations(&[
            $(($version, $name, include_str!(concat!("../migrations/sqlite/", $file))),)*
        ]);
        pub(crate) const POSTGRES: EmbeddedMigrations = EmbeddedMigrations(&[
            $(($version, $name, include_str!(concat!("../migrations/postgres/", $file))),)*
        ]);
    };
}

migrations! {
    1, "foundation", "0001_foundation.sql";
    2, "work apps", "0002_work_apps.sql";
    3, "governance", "0003_governance.sql";
    4, "groups", "0004_groups.sql";
    5, "workspaces", "0005_workspaces.sql";
    6, "webhooks", "0006_webhooks.sql";
}
