//! SCIM resources as we store them: the normalisation of POST/PUT bodies, the value coercion
//! PATCH shares, and `attributes`/`excludedAttributes` projection (RFC 7644 §3.4.2.5).
//!
//! Identity providers send their whole profile and spell things loosely (`"active": "False"`,
//! a bare manager id), so unknown attributes are dropped rather than refused, and the known ones
//! are coerced to their schema type or refused with `invalidValue` naming the attribute.

use chrono::DateTime;
use serde_json::{Map, Value};

use super::filter::{is_empty, parse_attr_path, AttrPath};
use super::schema::{
    AttrDef, AttrType, Mutability, ResourceSchema, GROUP_SCHEMA_URN, USER_SCHEMA_URN,
};
use super::{get_ci, key_ci, ScimError, ScimType};

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

/// The stored document of a POST or PUT body: `schemas` checked and dropped, readOnly and unknown
/// attributes dropped, names canonical, values coerced and checked, required attributes present,
/// extension attributes under their URN.
pub fn normalize_resource(
    body: &Value,
    schema: &ResourceSchema,
) -> Result<Map<String, Value>, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body must be a JSON object"))?;
    check_schemas(obj, schema)?;
    let mut doc = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = schema.extension(key) {
            let fields = match value {
                Value::Null => continue,
                Value::Object(fields) => fields,
                _ => return Err(invalid(format!("{} must be an object", ext.id))),
            };
            let mut out = Map::new();
            for (name, v) in fields {
                if let Some(def) = ext.attr(name) {
                    put_attr(&mut out, def, v)?;
                }
            }
            if !out.is_empty() {
                doc.insert(ext.id.to_string(), Value::Object(out));
            }
            continue;
        }
        let path = AttrPath { uri: None, attr: key.clone(), sub_attr: None };
        if let Some((None, def)) = schema.find(&path) {
            put_attr(&mut doc, def, value)?;
        }
    }
    check_primary(&doc, schema)?;
    check_required(&doc, schema)?;
    Ok(doc)
}

/// `schemas` must name the core schema and may name our extensions.
fn check_schemas(obj: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    let urns: Vec<&str> = match get_ci(obj, "schemas") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !urns.iter().any(|u| schema.is_core(u)) {
        return Err(invalid(format!("schemas must include {}", schema.core.id)));
    }
    if let Some(unknown) = urns.iter().find(|u| !schema.is_core(u) && schema.extension(u).is_none())
    {
        return Err(invalid(format!("unknown schema {unknown}")));
    }
    Ok(())
}

/// Coerces and stores one attribute under its canonical name (readOnly ones are ignored, RFC 7643
/// §2.2; an unassigned value removes it).
fn put_attr(out: &mut Map<String, Value>, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    if def.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    match coerce(def, value, def.name)? {
        Some(v) => out.insert(def.name.to_string(), v),
        None => out.remove(def.name),
    };
    Ok(())
}

/// A value for `def` (multi-valued or not), or `None` when unassigned.
pub(crate) fn coerce(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if def.multi_valued {
        let items = coerce_multi(def, value, label)?;
        Ok((!items.is_empty()).then_some(Value::Array(items)))
    } else {
        coerce_single(def, value, label)
    }
}

/// The elements of a multi-valued attribute: an array, or one element on its own.
pub(crate) fn coerce_multi(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Vec<Value>, ScimError> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(v) = coerce_single(def, item, label)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// One value of `def`'s type. Complex values keep their known, writable sub-attributes; a scalar
/// given for a complex attribute with a `value` sub-attribute is that `value` (Entra ID sends the
/// manager as a bare id).
pub(crate) fn coerce_single(
    def: &AttrDef,
    value: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    let wrong = |what: &str| invalid(format!("{label} must be {what}"));
    Ok(Some(match (def.kind, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::String | AttrType::Reference, Value::String(s)) => Value::String(s.clone()),
        (AttrType::String | AttrType::Reference, _) => return Err(wrong("a string")),
        (AttrType::DateTime, Value::String(s)) if DateTime::parse_from_rfc3339(s).is_ok() => {
            Value::String(s.clone())
        }
        (AttrType::DateTime, _) => return Err(wrong("an RFC 3339 date-time")),
        (AttrType::Boolean, Value::Bool(b)) => Value::Bool(*b),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => true.into(),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => false.into(),
        (AttrType::Boolean, _) => return Err(wrong("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() => Value::Number(n.clone()),
        (AttrType::Integer, _) => return Err(wrong("an integer")),
        (AttrType::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            for (name, v) in fields {
                let Some(sub) = def.sub(name) else { continue };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = coerce_single(sub, v, &format!("{label}.{}", sub.name))? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            if out.is_empty() {
                return Ok(None);
            }
            Value::Object(out)
        }
        (AttrType::Complex, Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
            let Some(sub) = def.sub("value") else {
                return Err(wrong("an object"));
            };
            let Some(v) = coerce_single(sub, value, &format!("{label}.value"))? else {
                return Ok(None);
            };
            let mut out = Map::new();
            out.insert(sub.name.to_string(), v);
            Value::Object(out)
        }
        (AttrType::Complex, _) => return Err(wrong("an object")),
    }))
}

/// At most one element of a multi-valued attribute may be primary (RFC 7643 §2.4).
fn check_primary(doc: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), ScimError> {
    for def in schema.core.attributes.iter().filter(|d| d.multi_valued) {
        if let Some(Value::Array(items)) = doc.get(def.name) {
            if items.iter().filter(|e| is_primary(e)).count() > 1 {
                return Err(invalid(format!("at most one of {} may be primary", def.name)));
            }
        }
    }
    Ok(())
}

pub(crate) fn is_primary(element: &Value) -> bool {
    element.get("primary") == Some(&Value::Bool(true))
}

/// Every required attribute (core or extension) has a non-empty value.
pub(crate) fn check_required(
    doc: &Map<String, Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let containers = std::iter::once((Some(doc), schema.core.attributes)).chain(
        schema
            .extensions
            .iter()
            .map(|ext| (doc.get(ext.id).and_then(Value::as_object), ext.attributes)),
    );
    for (container, attrs) in containers {
        for def in attrs.iter().filter(|d| d.required) {
            let value = container.and_then(|c| c.get(def.name));
            let empty = match value {
                None => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                Some(v) => is_empty(v),
            };
            if empty {
                return Err(invalid(format!("{} is required", def.name)));
            }
        }
    }
    Ok(())
}

/// The value a path names in a stored document: a URI other than a core schema's is an
/// extension key; names match case-insensitively; a sub-attribute of a multi-valued attribute
/// names no single value (`None`).
pub fn get_path<'a>(doc: &'a Map<String, Value>, path: &AttrPath) -> Option<&'a Value> {
    let container = match path.uri.as_deref() {
        Some(uri)
            if !uri.eq_ignore_ascii_case(USER_SCHEMA_URN)
                && !uri.eq_ignore_ascii_case(GROUP_SCHEMA_URN) =>
        {
            get_ci(doc, uri)?.as_object()?
        }
        _ => doc,
    };
    let value = get_ci(container, &path.attr)?;
    match &path.sub_attr {
        None => Some(value),
        Some(sub) => get_ci(value.as_object()?, sub),
    }
}

/// Parses an `attributes` or `excludedAttributes` parameter: comma-separated attribute paths.
pub fn parse_attribute_list(s: &str) -> Result<Vec<AttrPath>, ScimError> {
    s.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse_attr_path(item).map_err(|detail| {
                ScimError::bad(ScimType::InvalidPath, format!("'{item}': {detail}"))
            })
        })
        .collect()
}

/// Is this top-level key of a rendered resource returned always (`id`, `schemas`)?
fn always_returned(key: &str, schema: &ResourceSchema) -> bool {
    if key.eq_ignore_ascii_case("schemas") {
        return true;
    }
    let path = AttrPath { uri: None, attr: key.to_string(), sub_attr: None };
    schema.find(&path).is_some_and(|(ext, def)| ext.is_none() && def.returned == "always")
}

/// Applies `attributes` (when not empty: only these, plus those returned always) and then
/// `excludedAttributes` (never removing those returned always) to a rendered resource.
pub fn project_attributes(
    resource: &Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
    schema: &ResourceSchema,
) -> Value {
    let Some(obj) = resource.as_object() else {
        return resource.clone();
    };
    let mut out = if attributes.is_empty() {
        obj.clone()
    } else {
        let mut out: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| always_returned(k, schema))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for path in attributes {
            copy_path(obj, &mut out, path, schema);
        }
        out
    };
    for path in excluded {
        remove_path(&mut out, path, schema);
    }
    Value::Object(out)
}

/// The key of the object holding a path's attribute in a rendered resource (`None`: top level),
/// and the attribute's key there; `attr` is `None` for a whole extension.
fn locate(path: &AttrPath, schema: &ResourceSchema) -> (Option<&'static str>, Option<String>) {
    if let Some(ext) = schema.whole_extension(path) {
        return (Some(ext.id), None);
    }
    match schema.find(path) {
        Some((ext, def)) => (ext.map(|e| e.id), Some(def.name.to_string())),
        None => (
            path.uri.as_deref().and_then(|u| schema.extension(u).map(|e| e.id)),
            Some(path.attr.clone()),
        ),
    }
}

fn copy_path(
    src: &Map<String, Value>,
    out: &mut Map<String, Value>,
    path: &AttrPath,
    schema: &ResourceSchema,
) {
    let (ext, attr) = locate(path, schema);
    let (src, out) = match ext {
        None => (src, out),
        Some(urn) => {
            let Some(Value::Object(s)) = key_ci(src, urn).and_then(|k| src.get(&k)) else {
                return;
            };
            if attr.is_none() {
                out.insert(urn.to_string(), Value::Object(s.clone()));
                return;
            }
            let slot = out.entry(urn.to_string()).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(o) = slot else { return };
            (s, o)
        }
    };
    let Some(key) = attr.and_then(|a| key_ci(src, &a)) else {
        return;
    };
    let Some(value) = src.get(&key) else { return };
    let Some(sub) = &path.sub_attr else {
        out.insert(key, value.clone());
        return;
    };
    let pick = |v: &Value| -> Option<(String, Value)> {
        let o = v.as_object()?;
        let k = key_ci(o, sub)?;
        Some((k.clone(), o.get(&k)?.clone()))
    };
    match value {
        Value::Array(items) => {
            let slot = out
                .entry(key)
                .or_insert_with(|| Value::Array(vec![Value::Object(Map::new()); items.len()]));
            if let Value::Array(dest) = slot {
                for (item, d) in items.iter().zip(dest.iter_mut()) {
                    if let (Some((k, v)), Value::Object(d)) = (pick(item), d) {
                        d.insert(k, v);
                    }
                }
            }
        }
        other => {
            if let Some((k, v)) = pick(other) {
                let slot = out.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(d) = slot {
                    d.insert(k, v);
                }
            }
        }
    }
}

fn remove_path(out: &mut Map<String, Value>, path: &AttrPath, schema: &ResourceSchema) {
    let (ext, attr) = locate(path, schema);
    let container = match ext {
        None => out,
        Some(urn) => {
            let Some(k) = key_ci(out, urn) else { return };
            if attr.is_none() {
                out.remove(&k);
                return;
            }
            match out.get_mut(&k) {
                Some(Value::Object(o)) => o,
                _ => return,
            }
        }
    };
    let Some(key) = attr.and_then(|a| key_ci(container, &a)) else {
        return;
    };
    if ext.is_none() && always_returned(&key, schema) {
        return;
    }
    let Some(sub) = &path.sub_attr else {
        container.remove(&key);
        return;
    };
    let strip = |v: &mut Value| {
        if let Value::Object(o) = v {
            if let Some(k) = key_ci(o, sub) {
                o.remove(&k);
            }
        }
    };
    match container.get_mut(&key) {
        Some(Value::Array(items)) => items.iter_mut().for_each(strip),
        Some(other) => strip(other),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE_USER_URN, GROUP, USER};
    use super::*;
    use serde_json::json;

    fn norm(body: Value) -> Result<Value, ScimError> {
        normalize_resource(&body, &USER).map(Value::Object)
    }

    fn detail(r: Result<Value, ScimError>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        e.detail
    }

    #[test]
    fn normalizes_an_okta_create_body() {
        let body = json!({
            "schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_URN],
            "id": "ignored",
            "meta": {"resourceType": "User"},
            "UserName": "a@b.com",
            "name": {"givenName": "A", "FamilyName": "B", "middleName": "dropped"},
            "emails": [{"primary": "True", "value": "a@b.com", "type": "work", "display": "x"}],
            "displayName": "A B",
            "locale": "en-US",
            "externalId": "00u1",
            "groups": [],
            "active": "true",
            "password": "secret",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
                "employeeNumber": "42",
                "manager": "m1",
                "costCenter": "dropped"
            }
        });
        assert_eq!(
            norm(body).unwrap(),
            json!({
                "userName": "a@b.com",
                "name": {"givenName": "A", "familyName": "B"},
                "emails": [{"primary": true, "value": "a@b.com", "type": "work"}],
                "displayName": "A B",
                "externalId": "00u1",
                "active": true,
                ENTERPRISE_USER_URN: {"employeeNumber": "42", "manager": {"value": "m1"}}
            })
        );
    }

    #[test]
    fn refuses_bad_schemas_types_and_missing_required() {
        assert_eq!(
            detail(norm(json!({"userName": "a"}))),
            format!("schemas must include {USER_SCHEMA_URN}")
        );
        assert_eq!(
            detail(norm(json!({"schemas": [USER_SCHEMA_URN, "urn:x"], "userName": "a"}))),
            "unknown schema urn:x"
        );
        let s = json!([USER_SCHEMA_URN]);
        assert_eq!(detail(norm(json!({"schemas": s, "userName": 5}))), "userName must be a string");
        assert_eq!(
            detail(norm(json!({"schemas": s, "userName": "a", "active": "yes"}))),
            "active must be a boolean"
        );
        assert_eq!(
            detail(norm(json!({"schemas": s, "userName": "a", "name": "x"}))),
            "name must be an object"
        );
        assert_eq!(
            detail(norm(json!({"schemas": s, "userName": "a", "emails": [{"value": 1}]}))),
            "emails.value must be a string"
        );
        assert_eq!(detail(norm(json!({"schemas": s}))), "userName is required");
        assert_eq!(detail(norm(json!({"schemas": s, "userName": "  "}))), "userName is required");
        assert_eq!(
            detail(norm(json!({"schemas": s, "userName": "a", "emails": [
                {"value": "x", "primary": true}, {"value": "y", "primary": true}
            ]}))),
            "at most one of emails may be primary"
        );
        assert_eq!(
            detail(norm(json!({"schemas": s, "userName": "a", ENTERPRISE_USER_URN: "x"}))),
            format!("{ENTERPRISE_USER_URN} must be an object")
        );
        let e = normalize_resource(&json!([]), &USER).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    }

    #[test]
    fn drops_unassigned_values_and_flattened_extension_attributes() {
        let doc = norm(json!({
            "schemas": [USER_SCHEMA_URN],
            "userName": "a",
            "displayName": null,
            "emails": [],
            "name": {"givenName": null},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "flat"
        }))
        .unwrap();
        assert_eq!(doc, json!({"userName": "a"}));
    }

    #[test]
    fn normalizes_a_group_and_drops_member_display() {
        let doc = normalize_resource(
            &json!({
                "schemas": [GROUP_SCHEMA_URN],
                "displayName": "Admins",
                "members": [{"value": "u1", "display": "a@b", "type": "User"}]
            }),
            &GROUP,
        )
        .unwrap();
        assert_eq!(
            Value::Object(doc),
            json!({"displayName": "Admins", "members": [{"value": "u1", "type": "User"}]})
        );
        let e = normalize_resource(&json!({"schemas": [USER_SCHEMA_URN]}), &GROUP).unwrap_err();
        assert_eq!(e.detail, format!("schemas must include {GROUP_SCHEMA_URN}"));
    }

    #[test]
    fn get_path_reads_core_sub_and_extension_attributes() {
        let doc = norm(json!({
            "schemas": [USER_SCHEMA_URN],
            "userName": "a",
            "name": {"givenName": "G"},
            ENTERPRISE_USER_URN: {"manager": {"value": "m"}}
        }))
        .unwrap();
        let doc = doc.as_object().unwrap();
        let get = |s: &str| get_path(doc, &parse_attr_path(s).unwrap()).cloned();
        assert_eq!(get("USERNAME"), Some(json!("a")));
        assert_eq!(get("name.givenname"), Some(json!("G")));
        assert_eq!(get(&format!("{USER_SCHEMA_URN}:userName")), Some(json!("a")));
        assert_eq!(get(&format!("{ENTERPRISE_USER_URN}:manager.value")), Some(json!("m")));
        assert_eq!(get("displayName"), None);
    }

    fn rendered() -> Value {
        json!({
            "schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_URN],
            "id": "u1",
            "userName": "a",
            "name": {"givenName": "G", "familyName": "F"},
            "emails": [{"value": "x", "type": "work"}, {"value": "y"}],
            "meta": {"resourceType": "User"},
            ENTERPRISE_USER_URN: {"department": "D", "employeeNumber": "7"}
        })
    }

    fn project(attrs: &str, excluded: &str) -> Value {
        project_attributes(
            &rendered(),
            &parse_attribute_list(attrs).unwrap(),
            &parse_attribute_list(excluded).unwrap(),
            &USER,
        )
    }

    #[test]
    fn attributes_keep_only_those_asked_and_those_returned_always() {
        assert_eq!(
            project("userName", ""),
            json!({"schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "a"})
        );
        assert_eq!(
            project("name.familyName, emails.value", "")
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "schemas" && *k != "id")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>(),
            json!({"name": {"familyName": "F"}, "emails": [{"value": "x"}, {"value": "y"}]})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(
            project(&format!("{ENTERPRISE_USER_URN}:department"), "")[ENTERPRISE_USER_URN],
            json!({"department": "D"})
        );
        assert_eq!(
            project(ENTERPRISE_USER_URN, "")[ENTERPRISE_USER_URN],
            json!({"department": "D", "employeeNumber": "7"})
        );
        assert_eq!(project("meta", "")["meta"], json!({"resourceType": "User"}));
        assert!(project("nickName", "").get("nickName").is_none());
    }

    #[test]
    fn excluded_attributes_never_remove_those_returned_always() {
        let out = project("", "id,schemas,emails,name.givenName,meta");
        assert_eq!(
            out,
            json!({
                "schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_URN],
                "id": "u1",
                "userName": "a",
                "name": {"familyName": "F"},
                ENTERPRISE_USER_URN: {"department": "D", "employeeNumber": "7"}
            })
        );
        let out = project("", &format!("{ENTERPRISE_USER_URN}:department"));
        assert_eq!(out[ENTERPRISE_USER_URN], json!({"employeeNumber": "7"}));
        assert!(project("", ENTERPRISE_USER_URN).get(ENTERPRISE_USER_URN).is_none());
    }

    #[test]
    fn attribute_lists_parse_or_fail_with_invalid_path() {
        let list = parse_attribute_list(" userName , name.givenName,,").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].sub_attr.as_deref(), Some("givenName"));
        assert!(parse_attribute_list("").unwrap().is_empty());
        let e = parse_attribute_list("userName,bad name").unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
        assert!(e.detail.starts_with("'bad name'"), "{}", e.detail);
    }
}
