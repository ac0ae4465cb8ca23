//! SCIM 2.0 (RFC 7643 core schema, RFC 7644 protocol): the pure rules behind the `/scim/v2`
//! endpoints that identity providers (Okta, Entra ID) provision users and groups through.
//!
//! - [`schema`]: the attributes we publish, which also drive validation.
//! - [`filter`]: the `filter` grammar, PATCH paths, and evaluation against a resource.
//! - [`patch`]: PATCH requests and their application to a stored resource.
//! - [`resource`]: POST/PUT bodies, `attributes`/`excludedAttributes`.
//!
//! A resource is stored as a JSON object with the schema's canonical attribute names and the
//! extension attributes under their extension URN; `id`, `meta` and `schemas` are the caller's.

pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;

pub use filter::{
    matches, parse_filter, parse_path, AttrPath, CompareOp, Filter, PatchPath, MAX_FILTER_DEPTH,
    MAX_FILTER_LEN,
};
pub use patch::{
    apply_patch, parse_patch_request, PatchOpKind, PatchOperation, MAX_PATCH_OPERATIONS,
};
pub use resource::{get_path, normalize_resource, parse_attribute_list, project_attributes};
pub use schema::{
    AttrDef, AttrType, Mutability, ResourceSchema, SchemaDef, ENTERPRISE_USER_URN, GROUP,
    GROUP_SCHEMA_URN, PATCH_OP_URN, USER, USER_SCHEMA_URN,
};

/// The URN of SCIM error bodies.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` of a 400 error (RFC 7644 §3.12), which tells the client what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimType {
    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

/// A SCIM error: the HTTP status, the `scimType` (400s only) and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// A 400 with its `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// The error body RFC 7644 §3.12 prescribes.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR_URN],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(obj)) = (self.scim_type, body.as_object_mut()) {
            obj.insert("scimType".into(), t.as_str().into());
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} ({}): {}", self.status, t.as_str(), self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

/// A key of a JSON object, matched as SCIM matches attribute names: case-insensitively (the exact
/// spelling first, which is how we store them).
pub(crate) fn get_ci<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The actual spelling of a key matched case-insensitively.
pub(crate) fn key_ci(
    obj: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_as_rfc_7644_bodies() {
        let e = ScimError::bad(ScimType::InvalidFilter, "bad");
        assert_eq!(e.status, 400);
        assert_eq!(e.to_string(), "400 (invalidFilter): bad");
        assert_eq!(
            e.body(),
            serde_json::json!({"schemas": [ERROR_URN], "status": "400", "detail": "bad", "scimType": "invalidFilter"})
        );
        let nf = ScimError::new(404, None, "no such user");
        assert_eq!(nf.body().get("scimType"), None);
        assert_eq!(ScimType::NoTarget.as_str(), "noTarget");
        assert_eq!(ScimType::InvalidVers.as_str(), "invalidVers");
    }

    #[test]
    fn keys_match_case_insensitively_exact_first() {
        let obj = serde_json::json!({"UserName": 1, "username": 2});
        let obj = obj.as_object().unwrap();
        assert_eq!(get_ci(obj, "username"), Some(&serde_json::json!(2)));
        assert!(get_ci(obj, "USERNAME").is_some());
        assert_eq!(key_ci(obj, "username"), Some("username".to_string()));
        assert_eq!(key_ci(obj, "name"), None);
        assert_eq!(get_ci(obj, "name"), None);
    }
}
