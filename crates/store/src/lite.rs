//! SQLite connections driven in place: a statement runs on the thread of the task that issues
//! it, from a per-connection cache of prepared statements.
//!
//! An asynchronous driver runs each connection on a thread of its own and hands every statement
//! over, and every row back, through a channel. For this server's reads — indexed lookups of a
//! few microseconds — those hand-overs were most of the cost (two thread wake-ups per statement
//! and one per row), so SQLite statements run where they are issued instead. A statement holds
//! its thread for as long as SQLite works on it; only the commit, which waits for the disk, is
//! moved to the blocking pool (see `group_commit`).
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::sql::Arg;
use crate::StoreError;

/// Prepared statements kept per connection; our statements are a few hundred distinct texts.
const STATEMENT_CACHE: usize = 512;

/// Opens one connection to the database file with the settings every connection needs.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL: readers never block the writer. FULL: a commit survives power loss, which the
    // crash-safety promise relies on. Other processes' writers are waited for, not failed.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 15000;",
    )?;
    Ok(conn)
}

/// A bounded set of reading connections, opened on first use.
pub struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

/// A reading connection, back in the pool when dropped.
pub struct PooledConn {
    conn: Option<Connection>,
    pool: Arc<ReadPool>,
    _permit: OwnedSemaphorePermit,
}

impl ReadPool {
    pub fn new(path: PathBuf, size: usize) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
        })
    }

    pub async fn acquire(self: &Arc<Self>) -> Result<PooledConn, StoreError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Config("the database is closed".into()))?;
        let idle = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path)?,
        };
        Ok(PooledConn { conn: Some(conn), pool: self.clone(), _permit: permit })
    }
}

impl PooledConn {
    pub fn conn(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a pooled connection is present until dropped")
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock()) {
            idle.push(conn);
        }
    }
}

/// One result row: its values, and the statement's column names (shared by its rows).
pub struct LiteRow {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A column of a [`LiteRow`] by position or by name.
pub trait LiteIndex {
    fn position(&self, columns: &[String]) -> Option<usize>;
}

impl LiteIndex for usize {
    fn position(&self, columns: &[String]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl LiteIndex for &str {
    fn position(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
}

impl LiteRow {
    pub fn value(&self, col: impl LiteIndex + std::fmt::Debug) -> Result<&Value, StoreError> {
        col.position(&self.columns)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no column {col:?} in the result")))
    }
}

fn value_of<'a>(arg: &'a Arg<'_>) -> ValueRef<'a> {
    match arg {
        Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
        Arg::Int(Some(v)) => ValueRef::Integer(i64::from(*v)),
        Arg::BigInt(Some(v)) => ValueRef::Integer(*v),
        Arg::Bool(Some(v)) => ValueRef::Integer(i64::from(*v)),
        Arg::Bytes(Some(v)) => ValueRef::Blob(v),
        Arg::Text(None)
        | Arg::Int(None)
        | Arg::BigInt(None)
        | Arg::Bool(None)
        | Arg::Bytes(None) => ValueRef::Null,
    }
}

/// Prepares (or takes from the cache) `sql` and binds `args` to its `$N` placeholders by number:
/// SQLite numbers named parameters in order of appearance, and a statement may name `$2` first.
fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    for index in 1..=stmt.parameter_count() {
        let number = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let arg = args.get(number - 1).ok_or_else(|| {
            StoreError::Corrupt(format!("statement needs parameter ${number}: {sql}"))
        })?;
        stmt.raw_bind_parameter(index, ToSqlOutput::Borrowed(value_of(arg)))?;
    }
    Ok(stmt)
}

/// Runs a statement that returns no rows; the number of rows it changed.
pub fn execute(conn: &Connection, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
    let mut stmt = prepare(conn, sql, args)?;
    if stmt.column_count() == 0 {
        return Ok(stmt.raw_execute()? as u64);
    }
    // A statement with a result (a `RETURNING` clause, a pragma) runs to its end.
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(conn.changes())
}

/// Runs a statement and collects its rows (at most `limit`).
pub fn fetch(
    conn: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    limit: Option<usize>,
) -> Result<Vec<LiteRow>, StoreError> {
    let mut stmt = prepare(conn, sql, args)?;
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
    let width = columns.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(Value::from(row.get_ref(i)?));
        }
        out.push(LiteRow { columns: columns.clone(), values });
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    Ok(out)
}

/// A decoded column value.
pub trait FromLite: Sized {
    fn from_lite(value: &Value) -> Result<Self, StoreError>;
}

fn mismatch(want: &str, value: &Value) -> StoreError {
    StoreError::Corrupt(format!("expected {want}, found {:?}", value.data_type()))
}

impl FromLite for String {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl FromLite for i64 {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        match value {
            Value::Integer(v) => Ok(*v),
            other => Err(mismatch("integer", other)),
        }
    }
}

impl FromLite for i32 {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        let wide = i64::from_lite(value)?;
        i32::try_from(wide).map_err(|_| StoreError::Corrupt(format!("{wide} is out of range")))
    }
}

impl FromLite for bool {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        Ok(i64::from_lite(value)? != 0)
    }
}

impl FromLite for Vec<u8> {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.clone().into_bytes()),
            other => Err(mismatch("blob", other)),
        }
    }
}

impl<T: FromLite> FromLite for Option<T> {
    fn from_lite(value: &Value) -> Result<Self, StoreError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_lite(other).map(Some),
        }
    }
}
