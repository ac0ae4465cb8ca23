//! Decoding rows into domain values, once for both backends.
//!
//! Both backends store the same shapes (ids and timestamps as text, enums as names), so a row
//! decodes the same way whichever database produced it.
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use portcullis_domain::wire::WireEnum;

use crate::sql::Row;
use crate::StoreError;

/// A wire enum stored by name.
pub fn stored_name<T: WireEnum>(col: &str, text: &str) -> Result<T, StoreError> {
    T::from_name(text).ok_or_else(|| StoreError::Corrupt(format!("{col}: {} {text}", T::WHAT)))
}

/// A wire enum stored by numeric id.
pub fn stored_id<T: WireEnum>(col: &str, id: i32) -> Result<T, StoreError> {
    T::from_id(id).ok_or_else(|| StoreError::Corrupt(format!("{col}: {} {id}", T::WHAT)))
}

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

/// `[["id", 0], ["id", 1], …]`: an ordered list of ids for a set-based insert that keeps the order.
pub fn positioned_ids(ids: &[Uuid]) -> String {
    let rows: Vec<(String, usize)> = ids.iter().enumerate().map(|(i, u)| (id(*u), i)).collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

/// A JSON array of ids, bound as one parameter and expanded by the database (`json_each`,
/// `jsonb_array_elements_text`): set-based lookups of any size in one statement.
pub fn id_array(ids: impl IntoIterator<Item = Uuid>) -> String {
    let ids: Vec<String> = ids.into_iter().map(id).collect();
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
}

/// The parameter of [`crate::sql::Dialect::id_in`]: the id itself when there is one, else the
/// JSON array of them.
pub fn ids_arg(ids: &[Uuid]) -> String {
    match ids {
        [one] => id(*one),
        many => id_array(many.iter().copied()),
    }
}

pub fn get_id(row: &Row, col: &str) -> Result<Uuid, StoreError> {
    get_opt_id(row, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: NULL")))
}

pub fn get_opt_id(row: &Row, col: &str) -> Result<Option<Uuid>, StoreError> {
    row.try_get_str(col)?
        .map(|t| Uuid::parse_str(t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub fn get_ts(row: &Row, col: &str) -> Result<DateTime<Utc>, StoreError> {
    get_opt_ts(row, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: NULL")))
}

pub fn get_opt_ts(row: &Row, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    row.try_get_str(col)?.map(|t| parse_text_ts(col, t)).transpose()
}

/// Parses a stored timestamp (fast path for our own format).
pub fn parse_text_ts(col: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    if let Some(at) = parse_own_format(text) {
        return Ok(at);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// Fast path for the one format we write (`YYYY-MM-DDTHH:MM:SS.mmmZ`): reads are dominated by
/// timestamp decoding, and the general RFC 3339 parser is several times slower.
fn parse_own_format(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range]
            .iter()
            .try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        num(20..23)?,
    )?;
    Some(DateTime::from_naive_utc_and_offset(date.and_time(time), Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_format_round_trips_and_others_fall_back() {
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        assert_eq!(parse_text_ts("t", &ts(now)).ok(), Some(now));
        assert_eq!(parse_own_format(&ts(now)), Some(now));
        assert!(parse_own_format("2026-11-23T16:38:08Z").is_none());
        assert!(parse_text_ts("t", "2026-11-23T16:38:08+01:00").is_ok());
        assert!(parse_own_format("2026-13-23T16:38:08.597Z").is_none());
    }
}
