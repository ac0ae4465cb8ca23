//! Query strings: which parameters an endpoint accepts, and the canonical spelling of a request's.
//!
//! [`crate::extract::ApiQuery`] uses this so that no endpoint silently ignores a parameter it does
//! not know (a client filtering by a misspelt or unsupported name would otherwise get every row
//! back and believe them filtered).
use serde::de::{self, DeserializeOwned, Visitor};

use crate::error::ApiError;

/// The JSON:API spelling of `cursor`, used by the Cakewalk pagination docs.
pub const PAGE_CURSOR: &str = "page[cursor]";

/// The field names serde reads `T` from (aliases included), in declaration order; `None` when
/// `T` is not a plain struct (e.g. one with a `#[serde(flatten)]` field, read as a map).
pub fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut probe = FieldsProbe(None);
    // The probe answers every call with an error; only the field list it saw matters.
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// A deserializer that records the field list `deserialize_struct` is called with.
struct FieldsProbe(Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for &mut FieldsProbe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The accepted spelling of a parameter name: exact, then `page[cursor]` for `cursor`, then
/// case-insensitively (ASP.NET binds query parameters regardless of case).
fn accepted_name(key: &str, names: &[&'static str]) -> Option<&'static str> {
    if let Some(name) = names.iter().find(|n| **n == key) {
        return Some(name);
    }
    if key.eq_ignore_ascii_case(PAGE_CURSOR) && names.contains(&"cursor") {
        return Some("cursor");
    }
    names.iter().find(|n| n.eq_ignore_ascii_case(key)).copied()
}

/// The accepted names, for messages: `cursor` is followed by its `page[cursor]` spelling.
pub fn describe(names: &[&'static str]) -> String {
    if names.is_empty() {
        return "This endpoint accepts no query parameters.".to_string();
    }
    let listed: Vec<String> = names
        .iter()
        .map(|n| match *n {
            "cursor" => format!("cursor (or {PAGE_CURSOR})"),
            other => other.to_string(),
        })
        .collect();
    format!("Accepted query parameters: {}.", listed.join(", "))
}

/// Rewrites a raw query string with every name in its accepted spelling; 400 for a name not in
/// `names` (the message names the accepted ones) or a parameter given twice.
pub fn canonical(raw: &str, names: &[&'static str]) -> Result<String, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::bad_request(format!("Failed to read the query string: {e}")))?;
    let mut accepted: Vec<(&'static str, String)> = Vec::with_capacity(pairs.len());
    let mut unknown: Vec<String> = Vec::new();
    for (key, value) in pairs {
        match accepted_name(&key, names) {
            Some(name) if accepted.iter().any(|(seen, _)| *seen == name) => {
                let also = if name == "cursor" {
                    format!(" ({PAGE_CURSOR} is the same parameter)")
                } else {
                    String::new()
                };
                return Err(ApiError::bad_request(format!(
                    "The query parameter {name} is given more than once{also}."
                )));
            }
            Some(name) => accepted.push((name, value)),
            None => unknown.push(key),
        }
    }
    if !unknown.is_empty() {
        let quoted: Vec<String> = unknown.iter().map(|k| format!("'{k}'")).collect();
        let noun = if unknown.len() == 1 { "parameter" } else { "parameters" };
        return Err(ApiError::bad_request(format!(
            "Unknown query {noun} {}. {}",
            quoted.join(", "),
            describe(names)
        )));
    }
    serde_urlencoded::to_string(&accepted)
        .map_err(|e| ApiError::bad_request(format!("Failed to read the query string: {e}")))
}

/// Deserializes a canonical query string; a 400 names the parameter whose value is wrong.
pub fn deserialize<T: DeserializeOwned>(canonical: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(canonical).map_err(|e| {
        // Find the culprit by reading each parameter alone (when `T` can be read without any:
        // every field optional).
        let alone_ok = |pair: &str| serde_urlencoded::from_str::<T>(pair).is_ok();
        let culprit = alone_ok("")
            .then(|| canonical.split('&').find(|pair| !alone_ok(pair)))
            .flatten()
            .and_then(|pair| pair.split('=').next());
        ApiError::bad_request(match culprit {
            Some(name) => format!("The query parameter {name} is not valid: {e}"),
            None => format!("Failed to deserialize query string: {e}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        cursor: Option<String>,
        user_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    struct Empty {}

    #[derive(Debug, Deserialize)]
    struct Flattened {
        #[serde(flatten)]
        _inner: Sample,
    }

    const NAMES: &[&str] = &["cursor", "userId"];

    #[test]
    fn fields_are_what_serde_reads() {
        assert_eq!(struct_fields::<Sample>(), Some(NAMES));
        assert_eq!(struct_fields::<Empty>(), Some(&[][..]));
        assert_eq!(struct_fields::<Flattened>(), None);
        assert_eq!(struct_fields::<String>(), None);
    }

    #[derive(Debug, Deserialize)]
    struct Typed {
        _n: Option<u32>,
        _at: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        assert!(deserialize::<Typed>("_n=1&_at=2025-01-01T00:00:00Z").is_ok());
        let err = deserialize::<Typed>("_n=1&_at=yesterday").unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(
            err.message.starts_with("The query parameter _at is not valid: "),
            "{}",
            err.message
        );
        let err = deserialize::<Typed>("_n=-1").unwrap_err();
        assert!(
            err.message.starts_with("The query parameter _n is not valid: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn names_are_canonicalised() {
        assert_eq!(canonical("userId=a&cursor=b", NAMES).unwrap(), "userId=a&cursor=b");
        assert_eq!(canonical("USERID=a", NAMES).unwrap(), "userId=a");
        assert_eq!(canonical("page%5Bcursor%5D=x%3D", NAMES).unwrap(), "cursor=x%3D");
        assert_eq!(canonical("page[cursor]=x", NAMES).unwrap(), "cursor=x");
        assert_eq!(canonical("", NAMES).unwrap(), "");
    }

    #[test]
    fn unknown_and_repeated_names_are_refused_with_the_accepted_ones() {
        let err = canonical("userId=a&assignee=b", NAMES).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            err.message,
            "Unknown query parameter 'assignee'. Accepted query parameters: cursor (or page[cursor]), userId."
        );
        let err = canonical("a=1&b=2", NAMES).unwrap_err();
        assert!(err.message.starts_with("Unknown query parameters 'a', 'b'."), "{}", err.message);
        let err = canonical("x=1", &[]).unwrap_err();
        assert_eq!(
            err.message,
            "Unknown query parameter 'x'. This endpoint accepts no query parameters."
        );
        let err = canonical("cursor=a&page[cursor]=b", NAMES).unwrap_err();
        assert_eq!(
            err.message,
            "The query parameter cursor is given more than once (page[cursor] is the same parameter)."
        );
        let err = canonical("userId=a&userid=b", NAMES).unwrap_err();
        assert_eq!(err.message, "The query parameter userId is given more than once.");
        // `page[cursor]` is only a spelling of `cursor` where `cursor` is accepted.
        assert!(canonical("page[cursor]=x", &["status"]).is_err());
    }
}
