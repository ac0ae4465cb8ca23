//! PLACEHOLDER until the scim-domain branch lands (types only, per the agreed interface).
#![allow(dead_code)]
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare { path: AttrPath, op: CompareOp, value: serde_json::Value },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    ValuePath { path: AttrPath, filter: Box<Filter> },
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn as_str(self) -> &'static str {
        "invalidValue"
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}
impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}
impl std::error::Error for ScimError {}
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}
pub struct PatchPath {
    pub attr: AttrPath,
    pub value_filter: Option<Filter>,
    pub sub_attr: Option<String>,
}
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<serde_json::Value>,
}
pub struct ResourceSchema;
pub static USER: ResourceSchema = ResourceSchema;
pub static GROUP: ResourceSchema = ResourceSchema;
pub fn apply_patch(
    _doc: &mut serde_json::Map<String, serde_json::Value>,
    _ops: &[PatchOperation],
    _schema: &ResourceSchema,
) -> Result<(), ScimError> {
    Ok(())
}
pub fn parse_filter(_s: &str) -> Result<Filter, ScimError> {
    Err(ScimError {
        status: 400,
        scim_type: Some(ScimType::InvalidFilter),
        detail: "placeholder".into(),
    })
}
pub fn parse_patch_request(_b: &serde_json::Value) -> Result<Vec<PatchOperation>, ScimError> {
    Ok(vec![])
}
pub fn normalize_resource(
    b: &serde_json::Value,
    _s: &ResourceSchema,
) -> Result<serde_json::Map<String, serde_json::Value>, ScimError> {
    Ok(b.as_object().cloned().unwrap_or_default())
}
pub fn parse_attribute_list(_s: &str) -> Result<Vec<AttrPath>, ScimError> {
    Ok(vec![])
}
pub fn project_attributes(
    r: &serde_json::Value,
    _a: &[AttrPath],
    _e: &[AttrPath],
    _s: &ResourceSchema,
) -> serde_json::Value {
    r.clone()
}
