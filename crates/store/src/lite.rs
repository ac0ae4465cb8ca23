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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, ValueRef};
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
    // Temporary files in memory: every write turn is a savepoint, whose journal SQLite would
    // otherwise spill to a temporary file, one `pwrite` per page changed (a sixth of the CPU of
    // concurrent approvals). It only holds pages for rolling a savepoint back, so nothing durable.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 15000; PRAGMA temp_store = MEMORY;",
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

/// The column names of one result, shared by its rows: all names in one string.
pub struct Columns {
    names: String,
    /// Where each name ends in `names`.
    ends: Vec<usize>,
}

impl Columns {
    fn new(stmt: &rusqlite::Statement<'_>) -> Self {
        let mut names = String::new();
        let ends = stmt
            .column_names()
            .into_iter()
            .map(|name| {
                names.push_str(name);
                names.len()
            })
            .collect();
        Self { names, ends }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn name(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.names.get(start..*self.ends.get(i)?)
    }
}

/// A stored value of a [`LiteRow`]; text and blobs are ranges of the row's byte buffer.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(u32, u32),
    Blob(u32, u32),
}

/// One result row. Reads decode every column once, so a row is laid out to cost two
/// allocations whatever its width: the cells, and one buffer holding all its text and blobs.
pub struct LiteRow {
    columns: Arc<Columns>,
    cells: Vec<Cell>,
    bytes: Vec<u8>,
    /// Where the next lookup by name starts: decoders mostly read columns in order, so a
    /// lookup is then one comparison.
    next: AtomicUsize,
}

/// A column of a [`LiteRow`] by position or by name.
pub trait LiteIndex {
    fn position(&self, columns: &Columns, hint: usize) -> Option<usize>;
}

impl LiteIndex for usize {
    fn position(&self, columns: &Columns, _hint: usize) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl LiteIndex for &str {
    fn position(&self, columns: &Columns, hint: usize) -> Option<usize> {
        // From the hint onwards first: a decoder that skips a column finds the next one soon.
        let n = columns.len();
        (hint.min(n)..n).chain(0..hint.min(n)).find(|&i| columns.name(i) == Some(*self))
    }
}

impl LiteRow {
    /// The value of a column, borrowed from the row.
    pub fn value(&self, col: impl LiteIndex + std::fmt::Debug) -> Result<ValueRef<'_>, StoreError> {
        let position = col.position(&self.columns, self.next.load(Ordering::Relaxed));
        if let Some(i) = position {
            self.next.store(i + 1, Ordering::Relaxed);
        }
        let cell = position
            .and_then(|i| self.cells.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no column {col:?} in the result")))?;
        let slice = |start: u32, end: u32| self.bytes.get(start as usize..end as usize);
        Ok(match *cell {
            Cell::Null => ValueRef::Null,
            Cell::Integer(v) => ValueRef::Integer(v),
            Cell::Real(v) => ValueRef::Real(v),
            Cell::Text(start, end) => ValueRef::Text(slice(start, end).unwrap_or_default()),
            Cell::Blob(start, end) => ValueRef::Blob(slice(start, end).unwrap_or_default()),
        })
    }
}

/// Appends `value` to a row being built: its cell, and its bytes if it has any.
fn push_value(
    cells: &mut Vec<Cell>,
    bytes: &mut Vec<u8>,
    value: ValueRef<'_>,
) -> Result<(), StoreError> {
    let mut range = |data: &[u8]| -> Result<(u32, u32), StoreError> {
        let start = bytes.len();
        bytes.extend_from_slice(data);
        let end = bytes.len();
        let narrow =
            |n: usize| u32::try_from(n).map_err(|_| StoreError::Corrupt("row over 4 GiB".into()));
        Ok((narrow(start)?, narrow(end)?))
    };
    cells.push(match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Integer(v),
        ValueRef::Real(v) => Cell::Real(v),
        ValueRef::Text(t) => {
            let (start, end) = range(t)?;
            Cell::Text(start, end)
        }
        ValueRef::Blob(b) => {
            let (start, end) = range(b)?;
            Cell::Blob(start, end)
        }
    });
    Ok(())
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
    let columns = Arc::new(Columns::new(&stmt));
    let width = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    // Rows of one result are about the same size: the last one's buffer size is a good guess.
    let mut row_bytes = 0;
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(width);
        let mut bytes = Vec::with_capacity(row_bytes);
        for i in 0..width {
            push_value(&mut cells, &mut bytes, row.get_ref(i)?)?;
        }
        row_bytes = bytes.len();
        out.push(LiteRow { columns: columns.clone(), cells, bytes, next: AtomicUsize::new(0) });
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    Ok(out)
}

/// A decoded column value.
pub trait FromLite: Sized {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError>;
}

fn mismatch(want: &str, value: ValueRef<'_>) -> StoreError {
    StoreError::Corrupt(format!("expected {want}, found {:?}", value.data_type()))
}

/// Text borrowed from a row (no copy): for values parsed from their text, such as ids.
pub fn text(value: ValueRef<'_>) -> Result<&str, StoreError> {
    match value {
        ValueRef::Text(t) => {
            std::str::from_utf8(t).map_err(|e| StoreError::Corrupt(format!("text: {e}")))
        }
        other => Err(mismatch("text", other)),
    }
}

impl FromLite for String {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        text(value).map(str::to_owned)
    }
}

impl FromLite for i64 {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        match value {
            ValueRef::Integer(v) => Ok(v),
            other => Err(mismatch("integer", other)),
        }
    }
}

impl FromLite for i32 {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        let wide = i64::from_lite(value)?;
        i32::try_from(wide).map_err(|_| StoreError::Corrupt(format!("{wide} is out of range")))
    }
}

impl FromLite for bool {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        Ok(i64::from_lite(value)? != 0)
    }
}

impl FromLite for Vec<u8> {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        match value {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            other => Err(mismatch("blob", other)),
        }
    }
}

impl<T: FromLite> FromLite for Option<T> {
    fn from_lite(value: ValueRef<'_>) -> Result<Self, StoreError> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_lite(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let conn = Connection::open_in_memory().expect("open");
        let rows =
            fetch(&conn, "SELECT 1 AS a, 'two' AS b, NULL AS c, 4 AS d", &[], None).expect("fetch");
        let row = &rows[0];
        let int = |v: ValueRef<'_>| i64::from_lite(v).ok();
        // In order, skipping forward, back to the start, and past the end.
        assert_eq!(int(row.value("a").expect("a")), Some(1));
        assert_eq!(int(row.value("d").expect("d")), Some(4));
        assert_eq!(text(row.value("b").expect("b")).ok(), Some("two"));
        assert!(matches!(row.value("c").expect("c"), ValueRef::Null));
        assert_eq!(int(row.value("a").expect("a again")), Some(1));
        assert_eq!(int(row.value(3usize).expect("by position")), Some(4));
        assert!(row.value("missing").is_err());
        assert!(row.value(4usize).is_err());
    }
}
