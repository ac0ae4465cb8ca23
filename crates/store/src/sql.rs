//! Running one SQL text on either backend.
//!
//! Every statement is written once, with PostgreSQL-style `$N` placeholders (SQLite binds them
//! too), and bound with [`Query::bind`]. Values are bound natively on each backend — booleans as
//! booleans, bytes as bytes — and rows come back as the backend's own row type behind [`Row`],
//! so nothing is copied on the way. The few real differences between the two dialects are the
//! methods of [`Dialect`].
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{ColumnIndex, PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::decode;
use crate::group_commit::WriteTurn;
use crate::lite::{self, FromLite, LiteIndex, LiteRow, PooledConn};
use crate::StoreError;

/// The SQL dialect of a connection: the only place where the two backends' SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A table of one text column `value` holding the strings of the JSON array `expr` (a bound
    /// parameter or a column): set-based lookups of any size in one statement.
    pub fn json_texts(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({expr})"),
            Dialect::Postgres => format!("jsonb_array_elements_text(({expr})::jsonb)"),
        }
    }

    /// `(SELECT value FROM …)` over [`Dialect::json_texts`]: for `id IN {…}`.
    pub fn in_json_texts(self, expr: &str) -> String {
        format!("(SELECT value FROM {})", self.json_texts(expr))
    }

    /// `column` is one of `count` ids bound as `param` (with [`crate::decode::ids_arg`]): plain
    /// equality for one id, the common case, which costs a third of expanding a JSON array;
    /// membership in the array for several.
    pub fn id_in(self, column: &str, param: &str, count: usize) -> String {
        if count == 1 {
            format!("{column} = {param}")
        } else {
            format!("{column} IN {}", self.in_json_texts(param))
        }
    }

    /// A table of one column `value` holding the elements of the JSON array `expr` as JSON;
    /// `value ->> N` reads the N-th field of an element in both dialects.
    pub fn json_rows(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({expr})"),
            Dialect::Postgres => format!("jsonb_array_elements(({expr})::jsonb)"),
        }
    }

    /// Row locks that let concurrent workers of several server processes take disjoint rows.
    /// SQLite has one writer at a time, so it needs none. `of` names the locked table alias.
    pub fn skip_locked(self, of: Option<&str>) -> String {
        match (self, of) {
            (Dialect::Sqlite, _) => String::new(),
            (Dialect::Postgres, None) => "FOR UPDATE SKIP LOCKED".into(),
            (Dialect::Postgres, Some(alias)) => format!("FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }
}

/// A pooled connection: a read session or a write transaction, of either backend.
pub enum Db {
    SqliteRead(PooledConn),
    /// A turn on the one writing connection, inside a group-committed batch.
    SqliteWrite(WriteTurn),
    PgRead(PoolConnection<Postgres>),
    PgWrite(Transaction<'static, Postgres>),
}

enum Conn<'c> {
    Sqlite(&'c mut rusqlite::Connection),
    Pg(&'c mut PgConnection),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::SqliteRead(_) | Db::SqliteWrite(_) => Dialect::Sqlite,
            Db::PgRead(_) | Db::PgWrite(_) => Dialect::Postgres,
        }
    }

    fn conn(&mut self) -> Result<Conn<'_>, StoreError> {
        Ok(match self {
            Db::SqliteRead(c) => Conn::Sqlite(c.conn()),
            Db::SqliteWrite(turn) => Conn::Sqlite(turn.conn()?),
            Db::PgRead(c) => Conn::Pg(c),
            Db::PgWrite(tx) => Conn::Pg(tx),
        })
    }

    /// Commits a write transaction (a read session has nothing to commit).
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Db::SqliteWrite(turn) => turn.commit().await?,
            Db::PgWrite(tx) => tx.commit().await?,
            Db::SqliteRead(_) | Db::PgRead(_) => {}
        }
        Ok(())
    }
}

/// A bound value.
#[derive(Debug, Clone)]
pub enum Arg<'q> {
    Text(Option<Cow<'q, str>>),
    Int(Option<i32>),
    BigInt(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Cow<'q, [u8]>>),
}

/// Values that can be bound: ids and timestamps are stored as text in both backends.
pub trait IntoArg<'q> {
    fn into_arg(self) -> Arg<'q>;
}

macro_rules! into_arg {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl<'q> IntoArg<'q> for $t {
            fn into_arg(self) -> Arg<'q> {
                let $v = self;
                $e
            }
        }
    )*};
}

into_arg! {
    Uuid => |v| Arg::Text(Some(Cow::Owned(decode::id(v))));
    Option<Uuid> => |v| Arg::Text(v.map(|v| Cow::Owned(decode::id(v))));
    DateTime<Utc> => |v| Arg::Text(Some(Cow::Owned(decode::ts(v))));
    Option<DateTime<Utc>> => |v| Arg::Text(v.map(|v| Cow::Owned(decode::ts(v))));
    String => |v| Arg::Text(Some(Cow::Owned(v)));
    Option<String> => |v| Arg::Text(v.map(Cow::Owned));
    &'q str => |v| Arg::Text(Some(Cow::Borrowed(v)));
    &'q String => |v| Arg::Text(Some(Cow::Borrowed(v.as_str())));
    Option<&'q str> => |v| Arg::Text(v.map(Cow::Borrowed));
    &'q Option<String> => |v| Arg::Text(v.as_deref().map(Cow::Borrowed));
    i32 => |v| Arg::Int(Some(v));
    Option<i32> => |v| Arg::Int(v);
    i64 => |v| Arg::BigInt(Some(v));
    Option<i64> => |v| Arg::BigInt(v);
    bool => |v| Arg::Bool(Some(v));
    &'q [u8] => |v| Arg::Bytes(Some(Cow::Borrowed(v)));
    Option<&'q [u8]> => |v| Arg::Bytes(v.map(Cow::Borrowed));
    &'q Vec<u8> => |v| Arg::Bytes(Some(Cow::Borrowed(v.as_slice())));
    Vec<u8> => |v| Arg::Bytes(Some(Cow::Owned(v)));
}

impl<'q> IntoArg<'q> for Arg<'q> {
    fn into_arg(self) -> Arg<'q> {
        self
    }
}

macro_rules! typed_id_args {
    ($($t:ident),*) => {$(
        impl<'q> IntoArg<'q> for portcullis_domain::$t {
            fn into_arg(self) -> Arg<'q> {
                self.0.into_arg()
            }
        }
        impl<'q> IntoArg<'q> for Option<portcullis_domain::$t> {
            fn into_arg(self) -> Arg<'q> {
                self.map(|id| id.0).into_arg()
            }
        }
    )*};
}

typed_id_args!(
    UserId,
    WorkAppId,
    PermissionLevelId,
    GroupId,
    WorkspaceId,
    PolicyId,
    RequestId,
    TaskId,
    SubscriptionId,
    DeliveryId,
    TokenId,
    CustomFieldId,
    AccessReviewId,
    AccessReviewItemId
);

/// One statement and its bound values.
#[must_use = "a query does nothing until it is run"]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg<'q>>,
}

/// Starts a statement.
/// A case-insensitive "contains" pattern for `lower(column) LIKE $n ESCAPE '\'`: the search
/// text lowercased, with `%`, `_` and `\` taken literally (an empty text matches everything).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query { sql: sql.into(), args: Vec::new() }
}

/// Starts a statement whose first column is the answer.
pub fn query_scalar<'q, T: Column>(sql: impl Into<Cow<'q, str>>) -> QueryScalar<'q, T> {
    QueryScalar { query: query(sql), _t: std::marker::PhantomData }
}

/// What an executed statement did.
#[derive(Debug, Clone, Copy)]
pub struct Done(u64);

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.0
    }
}

/// `INSERT INTO {into} SELECT {select}` of `rows`, each a JSON array of fields. In `select`, the
/// N-th `{}` stands for the N-th field of a row, as text (other types need a `CAST`). Several rows
/// are bound as one JSON array that the database expands; one row, the common case, binds its
/// fields as plain parameters, which costs a third as much.
pub fn insert_rows<'q>(
    dialect: Dialect,
    into: &str,
    select: &str,
    mut rows: Vec<serde_json::Value>,
) -> Query<'q> {
    if let [serde_json::Value::Array(one)] = rows.as_mut_slice() {
        let sql = fill_fields(into, select, |i| format!("${}", i + 1));
        return std::mem::take(one).into_iter().fold(query(sql), |q, v| q.bind(json_arg(v)));
    }
    let fields = fill_fields(into, select, |i| format!("value ->> {i}"));
    query(format!("{fields} FROM {}", dialect.json_rows("$1")))
        .bind(serde_json::Value::Array(rows).to_string())
}

/// `INSERT INTO {into} SELECT {select}` with the N-th `{}` of `select` replaced by `field(N)`.
fn fill_fields(into: &str, select: &str, field: impl Fn(usize) -> String) -> String {
    let mut parts = select.split("{}");
    let mut sql = format!("INSERT INTO {into} SELECT {}", parts.next().unwrap_or_default());
    for (i, part) in parts.enumerate() {
        sql.push_str(&field(i));
        sql.push_str(part);
    }
    sql
}

/// A JSON field as a parameter: text stays text, numbers and booleans keep their type.
fn json_arg<'q>(value: serde_json::Value) -> Arg<'q> {
    match value {
        serde_json::Value::Null => Arg::Text(None),
        serde_json::Value::Bool(b) => Arg::Bool(Some(b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Arg::BigInt(Some(i)),
            None => Arg::Text(Some(Cow::Owned(n.to_string()))),
        },
        serde_json::Value::String(s) => Arg::Text(Some(Cow::Owned(s))),
        other => Arg::Text(Some(Cow::Owned(other.to_string()))),
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::Text(v) => q.bind(v.as_deref()),
                Arg::Int(v) => q.bind(*v),
                Arg::BigInt(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Bytes(v) => q.bind(v.as_deref()),
            };
        }
        q
    }};
}

impl<'q> Query<'q> {
    pub fn bind(mut self, value: impl IntoArg<'q>) -> Self {
        self.args.push(value.into_arg());
        self
    }

    pub async fn execute(self, db: &mut Db) -> Result<Done, StoreError> {
        let affected = match db.conn()? {
            Conn::Sqlite(c) => lite::execute(c, &self.sql, &self.args)?,
            Conn::Pg(c) => {
                bind_all!(sqlx::query(&self.sql), &self.args).execute(c).await?.rows_affected()
            }
        };
        Ok(Done(affected))
    }

    pub async fn fetch_all(self, db: &mut Db) -> Result<Vec<Row>, StoreError> {
        Ok(match db.conn()? {
            Conn::Sqlite(c) => {
                lite::fetch(c, &self.sql, &self.args, None)?.into_iter().map(Row::Sqlite).collect()
            }
            Conn::Pg(c) => bind_all!(sqlx::query(&self.sql), &self.args)
                .fetch_all(c)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    pub async fn fetch_optional(self, db: &mut Db) -> Result<Option<Row>, StoreError> {
        Ok(match db.conn()? {
            Conn::Sqlite(c) => {
                lite::fetch(c, &self.sql, &self.args, Some(1))?.into_iter().next().map(Row::Sqlite)
            }
            Conn::Pg(c) => {
                bind_all!(sqlx::query(&self.sql), &self.args).fetch_optional(c).await?.map(Row::Pg)
            }
        })
    }

    pub async fn fetch_one(self, db: &mut Db) -> Result<Row, StoreError> {
        self.fetch_optional(db).await?.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }
}

/// A statement whose first column is the answer.
#[must_use = "a query does nothing until it is run"]
pub struct QueryScalar<'q, T> {
    query: Query<'q>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<'q, T: Column> QueryScalar<'q, T> {
    pub fn bind(mut self, value: impl IntoArg<'q>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_one(self, db: &mut Db) -> Result<T, StoreError> {
        self.query.fetch_one(db).await?.try_get(0)
    }

    pub async fn fetch_optional(self, db: &mut Db) -> Result<Option<T>, StoreError> {
        self.query.fetch_optional(db).await?.map(|row| row.try_get(0)).transpose()
    }

    pub async fn fetch_all(self, db: &mut Db) -> Result<Vec<T>, StoreError> {
        self.query.fetch_all(db).await?.iter().map(|row| row.try_get(0)).collect()
    }
}

/// A result row of either backend.
pub enum Row {
    Sqlite(LiteRow),
    Pg(PgRow),
}

/// A column name or position.
pub trait Idx: LiteIndex + ColumnIndex<PgRow> + Copy + std::fmt::Debug {}
impl<I: LiteIndex + ColumnIndex<PgRow> + Copy + std::fmt::Debug> Idx for I {}

impl Row {
    pub fn try_get<T: Column>(&self, col: impl Idx) -> Result<T, StoreError> {
        match self {
            Row::Sqlite(row) => T::from_sqlite(row, col),
            Row::Pg(row) => T::from_pg(row, col),
        }
    }

    /// A text column borrowed from the row (`None` for NULL): for values parsed from their
    /// text, which need no copy of it.
    pub fn try_get_str(&self, col: impl Idx) -> Result<Option<&str>, StoreError> {
        match self {
            Row::Sqlite(row) => match row.value(col)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                value => lite::text(value).map(Some),
            },
            Row::Pg(row) => Ok(sqlx::Row::try_get(row, col)?),
        }
    }
}

/// A column value either backend can decode.
pub trait Column: Sized {
    fn from_sqlite(row: &LiteRow, col: impl Idx) -> Result<Self, StoreError>;
    fn from_pg(row: &PgRow, col: impl Idx) -> Result<Self, StoreError>;
}

macro_rules! column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &LiteRow, col: impl Idx) -> Result<Self, StoreError> {
                FromLite::from_lite(row.value(col)?)
            }
            fn from_pg(row: &PgRow, col: impl Idx) -> Result<Self, StoreError> {
                Ok(sqlx::Row::try_get(row, col)?)
            }
        }
    )*};
}
column!(
    String,
    Option<String>,
    i32,
    Option<i32>,
    i64,
    Option<i64>,
    bool,
    Option<bool>,
    Vec<u8>,
    Option<Vec<u8>>
);

/// Ids are stored as text in both databases.
impl Column for Uuid {
    fn from_sqlite(row: &LiteRow, col: impl Idx) -> Result<Self, StoreError> {
        parse_id(lite::text(row.value(col)?)?)
    }
    fn from_pg(row: &PgRow, col: impl Idx) -> Result<Self, StoreError> {
        parse_id(sqlx::Row::try_get(row, col)?)
    }
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("id {text}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_binds_plain_parameters_and_several_expand_a_json_array() {
        let select = "{}, CAST({} AS INTEGER)";
        let one =
            insert_rows(Dialect::Sqlite, "t (a, b)", select, vec![serde_json::json!(["x", 2])]);
        assert_eq!(one.sql, "INSERT INTO t (a, b) SELECT $1, CAST($2 AS INTEGER)");
        assert!(matches!(
            one.args.as_slice(),
            [Arg::Text(Some(text)), Arg::BigInt(Some(2))] if text == "x"
        ));
        let rows = vec![serde_json::json!(["x", 2]), serde_json::json!([null, 3])];
        let many = insert_rows(Dialect::Postgres, "t (a, b)", select, rows);
        assert_eq!(
            many.sql,
            "INSERT INTO t (a, b) SELECT value ->> 0, CAST(value ->> 1 AS INTEGER) \
             FROM jsonb_array_elements(($1)::jsonb)"
        );
        assert!(matches!(
            many.args.as_slice(),
            [Arg::Text(Some(json))] if json == r#"[["x",2],[null,3]]"#
        ));
    }
}
