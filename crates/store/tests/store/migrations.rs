//! The two migration sets build the same schema: the same tables, columns and indexes (by name;
//! the types differ by design), checked on live databases and on the migration texts.
use std::collections::BTreeSet;
use std::path::PathBuf;

use portcullis_domain::ActorRef;

use crate::common::*;

on_every_backend!(audit_log_is_append_only);

/// Names of a schema: (table, column) and (table, index) pairs.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    columns: BTreeSet<(String, String)>,
    indexes: BTreeSet<(String, String)>,
}

impl Shape {
    fn tables(&self) -> BTreeSet<&str> {
        self.columns.iter().map(|(t, _)| t.as_str()).collect()
    }
}

/// Asserts two shapes are equal, naming what only one side has.
#[track_caller]
fn assert_same(left_name: &str, left: &Shape, right_name: &str, right: &Shape) {
    let only = |a: &BTreeSet<(String, String)>, b: &BTreeSet<(String, String)>| {
        a.difference(b).map(|(t, c)| format!("{t}.{c}")).collect::<Vec<_>>()
    };
    let problems = [
        ("columns only in", left_name, only(&left.columns, &right.columns)),
        ("columns only in", right_name, only(&right.columns, &left.columns)),
        ("indexes only in", left_name, only(&left.indexes, &right.indexes)),
        ("indexes only in", right_name, only(&right.indexes, &left.indexes)),
    ];
    let report: Vec<String> = problems
        .iter()
        .filter(|(_, _, names)| !names.is_empty())
        .map(|(what, side, names)| format!("{what} {side}: {}", names.join(", ")))
        .collect();
    assert!(report.is_empty(), "{left_name} and {right_name} differ:\n{}", report.join("\n"));
    assert_eq!(left, right);
}

async fn live_sqlite(db: &TestDb) -> Shape {
    let Raw::Sqlite { store, .. } = &db.raw else { panic!("not SQLite") };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(store.pool())
    .await
    .expect("sqlite columns");
    // Explicitly created indexes (those of PRIMARY KEY / UNIQUE constraints have no SQL).
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT tbl_name, name FROM sqlite_master
         WHERE type = 'index' AND sql IS NOT NULL AND tbl_name <> '_sqlx_migrations'",
    )
    .fetch_all(store.pool())
    .await
    .expect("sqlite indexes");
    Shape { columns: columns.into_iter().collect(), indexes: indexes.into_iter().collect() }
}

async fn live_postgres(db: &TestDb) -> Shape {
    let Raw::Postgres { store, schema } = &db.raw else { panic!("not PostgreSQL") };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name <> '_sqlx_migrations'",
    )
    .bind(schema)
    .fetch_all(store.pool())
    .await
    .expect("postgres columns");
    // Explicitly created indexes: not those behind PRIMARY KEY / UNIQUE constraints.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.tablename::text, i.indexname::text FROM pg_indexes i
         WHERE i.schemaname = $1 AND i.tablename <> '_sqlx_migrations'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                           WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass
                             AND c.contype IN ('p', 'u', 'x'))",
    )
    .bind(schema)
    .fetch_all(store.pool())
    .await
    .expect("postgres indexes");
    Shape { columns: columns.into_iter().collect(), indexes: indexes.into_iter().collect() }
}

fn migrations_dir(backend: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend)
}

/// The migration files of a backend, by name, with their text.
fn migration_files(backend: &str) -> Vec<(String, String)> {
    let dir = migrations_dir(backend);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("migration text"))
        })
        .filter(|(name, _)| name.ends_with(".sql"))
        .collect();
    files.sort();
    files
}

/// Reads `CREATE TABLE`, `DROP TABLE`, `ALTER TABLE … ADD COLUMN / RENAME COLUMN / RENAME TO`
/// and `CREATE [UNIQUE] INDEX`
/// statements out of migration texts: one column per line, as the migrations are written.
fn parse_migrations(backend: &str) -> Shape {
    let mut shape = Shape::default();
    let mut table: Option<String> = None;
    for (_, text) in migration_files(backend) {
        for line in text.lines() {
            let line = line.split("--").next().unwrap_or_default().trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            let ident = |w: &str| w.trim_matches(|c| c == '(' || c == '"').to_string();
            match (&table, words.as_slice()) {
                (None, ["CREATE", "TABLE", name, ..]) => table = Some(ident(name)),
                (None, ["ALTER", "TABLE", on, "ADD", "COLUMN", column, ..]) => {
                    shape.columns.insert((ident(on), ident(column)));
                }
                (None, ["ALTER", "TABLE", on, "RENAME", "COLUMN", old, "TO", new]) => {
                    let new = new.trim_end_matches(';');
                    assert!(shape.columns.remove(&(ident(on), ident(old))), "{on}.{old} renamed");
                    shape.columns.insert((ident(on), ident(new)));
                }
                // A table rebuilt (SQLite cannot change a column in place): the new table
                // replaces the old one under its name.
                (None, ["DROP", "TABLE", name]) => {
                    let name = ident(name.trim_end_matches(';'));
                    shape.columns.retain(|(t, _)| *t != name);
                    shape.indexes.retain(|(t, _)| *t != name);
                }
                (None, ["ALTER", "TABLE", old, "RENAME", "TO", new]) => {
                    let (old, new) = (ident(old), ident(new.trim_end_matches(';')));
                    let moved: Vec<_> =
                        shape.columns.iter().filter(|(t, _)| *t == old).cloned().collect();
                    for (_, column) in moved {
                        shape.columns.remove(&(old.clone(), column.clone()));
                        shape.columns.insert((new.clone(), column));
                    }
                }
                (None, ["CREATE", "INDEX", name, "ON", on, ..])
                | (None, ["CREATE", "UNIQUE", "INDEX", name, "ON", on, ..]) => {
                    shape.indexes.insert((ident(on), ident(name)));
                }
                (Some(_), [first, ..]) if first.starts_with(')') => table = None,
                (Some(_), ["CONSTRAINT" | "PRIMARY" | "UNIQUE" | "FOREIGN" | "CHECK", ..]) => {}
                (Some(t), [column, ..]) => {
                    shape.columns.insert((t.clone(), ident(column)));
                }
                _ => {}
            }
        }
    }
    assert!(table.is_none(), "{backend}: unterminated CREATE TABLE");
    shape
}

#[tokio::test]
async fn both_migration_sets_have_the_same_files_and_tables() {
    let names = |backend| migration_files(backend).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(names("sqlite"), names("postgres"), "one migration file per step on each backend");
    let sqlite_text = parse_migrations("sqlite");
    let postgres_text = parse_migrations("postgres");
    assert!(
        sqlite_text.tables().len() >= 20,
        "the parser finds the tables: {:?}",
        sqlite_text.tables()
    );
    assert_same("sqlite migrations", &sqlite_text, "postgres migrations", &postgres_text);
    // The parser reads what SQLite builds.
    let db = TestDb::sqlite().await;
    assert_same("live sqlite", &live_sqlite(&db).await, "sqlite migrations", &sqlite_text);
}

#[tokio::test]
async fn migrated_databases_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let sqlite_shape = live_sqlite(&sqlite).await;
    assert!(
        sqlite_shape.tables().contains("users")
            && sqlite_shape.tables().contains("webhook_deliveries")
    );
    assert!(!sqlite_shape.tables().contains("_sqlx_migrations"));
    match pg_url() {
        Some(url) => {
            let pg = TestDb::postgres(&url).await;
            let pg_shape = live_postgres(&pg).await;
            assert_same("live sqlite", &sqlite_shape, "live postgres", &pg_shape);
            // The parsed text matches what PostgreSQL builds, too.
            assert_same(
                "live postgres",
                &pg_shape,
                "postgres migrations",
                &parse_migrations("postgres"),
            );
            pg.finish().await;
        }
        None => {
            eprintln!("PORTCULLIS_TEST_DATABASE_URL not set: comparing against the PostgreSQL migration text");
            assert_same(
                "live sqlite",
                &sqlite_shape,
                "postgres migrations",
                &parse_migrations("postgres"),
            );
        }
    }
}

/// The migrations make `audit_events` append-only, even for raw SQL.
async fn audit_log_is_append_only(db: &TestDb) {
    let seed = seed(db).await;
    let event = portcullis_domain::AuditEvent {
        id: portcullis_domain::new_id(),
        org_id: seed.org.id,
        occurred_at: at(1),
        actor: ActorRef::System,
        action: "user.created".into(),
        target_type: "user".into(),
        target_id: None,
        before: None,
        after: None,
        request_id: None,
        on_behalf_of: None,
        source: None,
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_audit_event(&event).await.expect("insert");
    tx.commit().await.expect("commit");
    let statements = ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"];
    for sql in statements {
        let result = match &db.raw {
            Raw::Sqlite { store, .. } => sqlx::query(sql).execute(store.pool()).await.map(|_| ()),
            Raw::Postgres { store, .. } => sqlx::query(sql).execute(store.pool()).await.map(|_| ()),
        };
        let err = result.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if let Raw::Postgres { store, .. } = &db.raw {
        let err =
            sqlx::query("TRUNCATE audit_events").execute(store.pool()).await.expect_err("truncate");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let mut read = db.store.read().await.expect("read");
    let page = read
        .list_audit_events(
            seed.org.id,
            &Default::default(),
            portcullis_domain::PageRequest::first(),
        )
        .await
        .expect("list");
    assert_eq!(page.items, vec![event]);
}

/// A user row before the directory-profiles migration: name, e-mail, role id, status id.
type OldUser = (&'static str, &'static str, i32, i32);
/// The same user after it: first name, last name, validated, deleted.
type NewProfile = (&'static str, &'static str, bool, bool);

/// Rows written before the directory-profiles migration, and what that migration makes of them.
const PROFILE_UPGRADE: &[(OldUser, NewProfile)] = &[
    (("Mary Ann Smith", "mary@acme.example", 5, 1), ("Mary", "Ann Smith", true, false)),
    (("Cher", "cher@acme.example", 1, 2), ("Cher", "", false, false)),
    (("Gone Person", "gone@acme.example", 1, 3), ("Gone", "Person", true, true)),
];

/// Applies the migrations of `backend` before `0007` with `run`, inserts [`PROFILE_UPGRADE`]'s
/// rows, applies the rest, and returns the users as read back.
async fn upgrade_rows<F, Fut>(backend: &str, run: F) -> Vec<(String, String, bool, bool)>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Vec<(String, String, bool, bool)>>,
{
    let files = migration_files(backend);
    let (before, after): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|(name, _)| name.as_str() < "0007");
    for (_, text) in before {
        run(text).await;
    }
    let mut inserts = String::from(
        "INSERT INTO organizations (id, name, created_at, updated_at)
         VALUES ('00000000-0000-7000-8000-000000000001', 'Acme', 't0', 't0');",
    );
    for (i, ((name, email, role, status), _)) in PROFILE_UPGRADE.iter().enumerate() {
        inserts.push_str(&format!(
            "INSERT INTO users (id, org_id, name, email, email_key, role_id, status_id,
                                created_at, updated_at)
             VALUES ('00000000-0000-7000-8000-00000000010{i}',
                     '00000000-0000-7000-8000-000000000001', '{name}', '{email}', '{email}',
                     {role}, {status}, 't{i}', 'u{i}');"
        ));
    }
    run(inserts).await;
    for (_, text) in after {
        run(text).await;
    }
    run("SELECT first_name, last_name, validated, deleted_at IS NOT NULL FROM users ORDER BY id"
        .into())
    .await
}

/// Upgrades a database of `backend` through `pool` (any sqlx pool: the two driver types share
/// no trait we can name briefly) and checks the users and the organization's domain.
macro_rules! assert_upgrade {
    ($backend:expr, $pool:expr, $expected:expr) => {{
        let rows = upgrade_rows($backend, |sql| {
            let pool = $pool.clone();
            async move {
                if sql.trim_start().starts_with("SELECT") {
                    sqlx::query_as(&sql).fetch_all(&pool).await.expect("select")
                } else {
                    sqlx::raw_sql(&sql).execute(&pool).await.expect("migration");
                    Vec::new()
                }
            }
        })
        .await;
        assert_eq!(rows, $expected);
        let domain: String = sqlx::query_scalar("SELECT domain FROM organizations")
            .fetch_one(&$pool)
            .await
            .expect("org");
        assert_eq!(domain, "acme.example");
    }};
}

#[tokio::test]
async fn the_profile_migration_splits_names_and_derives_validation_and_deletion() {
    let expected: Vec<(String, String, bool, bool)> = PROFILE_UPGRADE
        .iter()
        .map(|(_, (f, l, v, d))| (f.to_string(), l.to_string(), *v, *d))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
    assert_upgrade!("sqlite", pool, expected);

    let Some(url) = pg_url() else { return };
    let schema = format!("up_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(&url).await.expect("postgres");
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("schema");
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .expect("postgres");
    assert_upgrade!("postgres", pool, expected);
    pool.close().await;
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop");
}
