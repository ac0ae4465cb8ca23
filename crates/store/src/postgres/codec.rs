//! Text encodings of ids and timestamps, shared by every SQLite query.
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use crate::StoreError;

/// RFC 3339 UTC with milliseconds: fixed width, so text order is time order.
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn opt_ts(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(ts)
}

pub fn id(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub fn opt_id(id: Option<Uuid>) -> Option<String> {
    id.map(self::id)
}

pub fn get_id(row: &PgRow, col: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(col)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn get_opt_id(row: &PgRow, col: &str) -> Result<Option<Uuid>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub fn get_ts(row: &PgRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.try_get(col)?;
    parse_ts(col, &text)
}

pub fn get_opt_ts(row: &PgRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| parse_ts(col, &t)).transpose()
}

fn parse_ts(col: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// A JSON array of ids, bound as one parameter and expanded with `json_each` (set-based lookups
/// of any size without a statement per id or a variable-count limit).
pub fn id_array(ids: impl IntoIterator<Item = Uuid>) -> String {
    let mut out = String::from("[");
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&self::id(id));
        out.push('"');
    }
    out.push(']');
    out
}
