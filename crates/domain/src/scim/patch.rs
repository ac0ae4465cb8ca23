//! SCIM PATCH (RFC 7644 §3.5.2) on a stored resource, with the liberties Okta and Entra ID take:
//! capitalised ops, booleans as strings, a bare manager id, `remove` with a value listing the
//! members to remove, and `add`/`replace` on `emails[type eq "work"].value` when the user has no
//! work e-mail yet.

use serde_json::{Map, Value};

use super::filter::{eval, parse_path, AttrPath, CompareOp, Filter, PatchPath, Scope};
use super::resource::{check_required, coerce, coerce_multi, coerce_single, is_primary};
use super::schema::{AttrDef, Mutability, ResourceSchema, SchemaDef, PATCH_OP_URN};
use super::{get_ci, ScimError, ScimType};

/// The most operations one PATCH request may carry.
pub const MAX_PATCH_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One operation; a JSON `null` value is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

/// Parses a PATCH body (`PatchOp` message).
pub fn parse_patch_request(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let obj = body.as_object().ok_or_else(|| syntax("the body must be a JSON object"))?;
    let has_urn = get_ci(obj, "schemas").and_then(Value::as_array).is_some_and(|s| {
        s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_URN)))
    });
    if !has_urn {
        return Err(syntax(format!("schemas must include {PATCH_OP_URN}")));
    }
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(syntax("Operations must be a non-empty array")),
    };
    if ops.len() > MAX_PATCH_OPERATIONS {
        return Err(syntax(format!("at most {MAX_PATCH_OPERATIONS} operations per request")));
    }
    ops.iter().enumerate().map(|(i, op)| parse_operation(i, op)).collect()
}

fn parse_operation(i: usize, op: &Value) -> Result<PatchOperation, ScimError> {
    let obj = op.as_object().ok_or_else(|| syntax(format!("Operations[{i}] must be an object")))?;
    let kind = match get_ci(obj, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(s) if s.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        _ => return Err(syntax(format!("Operations[{i}].op must be add, remove or replace"))),
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_path(s).map_err(|e| {
            ScimError::bad(ScimType::InvalidPath, format!("Operations[{i}].path: {}", e.detail))
        })?),
        Some(_) => {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                format!("Operations[{i}].path must be a string"),
            ))
        }
    };
    let value = get_ci(obj, "value").filter(|v| !v.is_null()).cloned();
    match (kind, &path, &value) {
        (PatchOpKind::Remove, None, _) => {
            Err(ScimError::bad(ScimType::NoTarget, format!("Operations[{i}]: remove needs a path")))
        }
        (PatchOpKind::Add, _, None) | (PatchOpKind::Replace, None, None) => {
            Err(syntax(format!("Operations[{i}]: a value is required")))
        }
        _ => Ok(PatchOperation { op: kind, path, value }),
    }
}

/// Applies `ops` to a stored document, all or nothing: on error `doc` is left as it was.
pub fn apply_patch(
    doc: &mut Map<String, Value>,
    ops: &[PatchOperation],
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let mut work = doc.clone();
    for op in ops {
        apply_one(&mut work, op, schema)?;
    }
    check_required(&work, schema)?;
    *doc = work;
    Ok(())
}

fn apply_one(
    doc: &mut Map<String, Value>,
    op: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    match &op.path {
        Some(path) => {
            let target = resolve(path, schema)?;
            apply_target(doc, &target, op.op, op.value.as_ref(), schema)
        }
        None => {
            let Some(Value::Object(fields)) = &op.value else {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    "without a path, the value must be an object of attributes",
                ));
            };
            apply_fields(doc, None, fields, op.op, schema)
        }
    }
}

/// The keys of a path-less value: attribute paths (`name.givenName`, URN-qualified ones) or an
/// extension URN holding an object of that extension's attributes. Unknown and readOnly keys are
/// ignored: clients echo whole resources (`id` included) back.
fn apply_fields(
    doc: &mut Map<String, Value>,
    ext: Option<&'static SchemaDef>,
    fields: &Map<String, Value>,
    kind: PatchOpKind,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    for (key, value) in fields {
        if ext.is_none() {
            if let Some(e) = schema.extension(key) {
                match value {
                    Value::Object(inner) => apply_fields(doc, Some(e), inner, kind, schema)?,
                    _ => {
                        return Err(ScimError::bad(
                            ScimType::InvalidValue,
                            format!("{} must be an object", e.id),
                        ))
                    }
                }
                continue;
            }
        }
        let Ok(mut path) = parse_path(key) else {
            continue;
        };
        if let Some(e) = ext {
            path.attr.uri = Some(e.id.to_string());
        }
        let target = match resolve(&path, schema) {
            Ok(t) => t,
            Err(e) if matches!(e.scim_type, Some(ScimType::InvalidPath | ScimType::Mutability)) => {
                continue
            }
            Err(e) => return Err(e),
        };
        let value = (!value.is_null()).then_some(value);
        if kind == PatchOpKind::Add && value.is_none() {
            continue;
        }
        apply_target(doc, &target, kind, value, schema)?;
    }
    Ok(())
}

/// What a path designates.
enum Target<'p> {
    /// A whole extension (`urn:…:enterprise:2.0:User`).
    Extension(&'static SchemaDef),
    Attr {
        ext: Option<&'static SchemaDef>,
        def: &'static AttrDef,
        sub: Option<&'static AttrDef>,
        filter: Option<&'p Filter>,
    },
}

fn invalid_path(detail: String) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, detail)
}

fn resolve<'p>(path: &'p PatchPath, schema: &ResourceSchema) -> Result<Target<'p>, ScimError> {
    if path.value_filter.is_none() && path.sub_attr.is_none() {
        if let Some(ext) = schema.whole_extension(&path.attr) {
            return Ok(Target::Extension(ext));
        }
    }
    let Some((ext, def)) = schema.find(&path.attr) else {
        return Err(invalid_path(format!("unknown attribute '{}'", display(&path.attr))));
    };
    if def.mutability == Mutability::ReadOnly {
        return Err(ScimError::bad(ScimType::Mutability, format!("{} is readOnly", def.name)));
    }
    let sub =
        match path.attr.sub_attr.as_deref().or(path.sub_attr.as_deref()) {
            None => None,
            Some(name) => Some(def.sub(name).ok_or_else(|| {
                invalid_path(format!("{} has no sub-attribute '{name}'", def.name))
            })?),
        };
    if path.value_filter.is_some() && (!def.multi_valued || def.sub_attributes.is_empty()) {
        return Err(invalid_path(format!(
            "{} is not a multi-valued complex attribute: it takes no value filter",
            def.name
        )));
    }
    if sub.is_some_and(|s| s.mutability == Mutability::ReadOnly) {
        return Err(ScimError::bad(
            ScimType::Mutability,
            format!("{}.{} is readOnly", def.name, sub.map_or("", |s| s.name)),
        ));
    }
    Ok(Target::Attr { ext, def, sub, filter: path.value_filter.as_ref() })
}

fn display(path: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(uri) = &path.uri {
        s.push_str(uri);
        s.push(':');
    }
    s.push_str(&path.attr);
    if let Some(sub) = &path.sub_attr {
        s.push('.');
        s.push_str(sub);
    }
    s
}

fn apply_target(
    doc: &mut Map<String, Value>,
    target: &Target,
    kind: PatchOpKind,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let (ext, def, sub, filter) = match *target {
        Target::Extension(ext) => {
            return match (kind, value) {
                (PatchOpKind::Remove, _) | (PatchOpKind::Replace, None) => {
                    doc.remove(ext.id);
                    Ok(())
                }
                (_, Some(Value::Object(fields))) => {
                    apply_fields(doc, Some(ext), fields, kind, schema)
                }
                _ => Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{} must be an object", ext.id),
                )),
            };
        }
        Target::Attr { ext, def, sub, filter } => (ext, def, sub, filter),
    };
    let container = match ext {
        None => &mut *doc,
        Some(e) => {
            let slot = doc.entry(e.id.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(o) => o,
                _ => return Ok(()),
            }
        }
    };
    let unassign = matches!(value, None | Some(Value::Null))
        || value.is_some_and(|v| v.as_array().is_some_and(Vec::is_empty));
    let result = match kind {
        PatchOpKind::Remove => remove(container, def, sub, filter, value),
        PatchOpKind::Replace if unassign => remove(container, def, sub, filter, None),
        _ => match value {
            Some(v) => set(container, def, sub, filter, v, kind),
            None => Ok(()),
        },
    };
    prune(container, def.name);
    if let Some(e) = ext {
        if doc.get(e.id).is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
            doc.remove(e.id);
        }
    }
    result
}

/// Removes what became unassigned: empty objects inside the attribute, then the attribute itself
/// when empty (RFC 7643 §2.5).
fn prune(container: &mut Map<String, Value>, name: &str) {
    let empty = match container.get_mut(name) {
        Some(Value::Array(items)) => {
            items.retain(|e| !(e.is_null() || e.as_object().is_some_and(Map::is_empty)));
            items.is_empty()
        }
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        container.remove(name);
    }
}

fn label(def: &AttrDef, sub: Option<&AttrDef>) -> String {
    match sub {
        Some(s) => format!("{}.{}", def.name, s.name),
        None => def.name.to_string(),
    }
}

/// Are two elements of `def` the same value? Elements with a `value` are compared by it (with its
/// case rule), others whole.
fn same_element(def: &AttrDef, a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            if def.sub("value").is_some_and(|d| d.case_exact) {
                x == y
            } else {
                x.to_lowercase() == y.to_lowercase()
            }
        }
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Writes one sub-attribute into an object; an immutable one may only be set when absent.
fn set_sub(
    obj: &mut Map<String, Value>,
    def: &AttrDef,
    sub: &AttrDef,
    value: &Value,
) -> Result<(), ScimError> {
    let new = coerce_single(sub, value, &label(def, Some(sub)))?;
    let old = obj.get(sub.name);
    if sub.mutability == Mutability::Immutable && old.is_some() && old != new.as_ref() {
        return Err(ScimError::bad(
            ScimType::Mutability,
            format!("{} is immutable", label(def, Some(sub))),
        ));
    }
    match new {
        Some(v) => obj.insert(sub.name.to_string(), v),
        None => obj.remove(sub.name),
    };
    Ok(())
}

/// Merges a complex value's sub-attributes into an existing object.
fn merge(obj: &mut Map<String, Value>, def: &AttrDef, value: &Value) -> Result<(), ScimError> {
    if let Some(Value::Object(fields)) = coerce_single(def, value, def.name)? {
        for (name, v) in &fields {
            if let Some(sub) = def.sub(name) {
                set_sub(obj, def, sub, v)?;
            }
        }
    }
    Ok(())
}

fn object_at<'a>(container: &'a mut Map<String, Value>, name: &str) -> &'a mut Map<String, Value> {
    let slot = container.entry(name.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("the slot was just made an object"),
    }
}

fn array_at<'a>(container: &'a mut Map<String, Value>, name: &str) -> &'a mut Vec<Value> {
    let slot = container.entry(name.to_string()).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(a) => a,
        _ => unreachable!("the slot was just made an array"),
    }
}

/// `add` and `replace` with a value.
fn set(
    container: &mut Map<String, Value>,
    def: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    filter: Option<&Filter>,
    value: &Value,
    kind: PatchOpKind,
) -> Result<(), ScimError> {
    if let Some(filter) = filter {
        return set_filtered(array_at(container, def.name), def, sub, filter, value, kind);
    }
    match (def.multi_valued, sub) {
        (true, None) => {
            let new = coerce_multi(def, value, def.name)?;
            let items = array_at(container, def.name);
            let mut touched = Vec::new();
            if kind == PatchOpKind::Replace {
                items.clear();
            }
            for element in new {
                if let Some(i) = items.iter().position(|e| same_element(def, e, &element)) {
                    if kind == PatchOpKind::Replace || is_primary(&element) {
                        items[i] = element;
                        touched.push(i);
                    }
                } else {
                    items.push(element);
                    touched.push(items.len() - 1);
                }
            }
            one_primary(items, &touched);
        }
        (true, Some(sub)) => {
            let items = array_at(container, def.name);
            if items.is_empty() {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut() {
                if let Value::Object(o) = item {
                    set_sub(o, def, sub, value)?;
                }
            }
            let touched: Vec<usize> = (0..items.len()).collect();
            one_primary(items, &touched);
        }
        (false, Some(sub)) => set_sub(object_at(container, def.name), def, sub, value)?,
        (false, None) if !def.sub_attributes.is_empty() => {
            merge(object_at(container, def.name), def, value)?
        }
        (false, None) => {
            let new = coerce(def, value, def.name)?;
            let old = container.get(def.name);
            if def.mutability == Mutability::Immutable && old.is_some() && old != new.as_ref() {
                return Err(ScimError::bad(
                    ScimType::Mutability,
                    format!("{} is immutable", def.name),
                ));
            }
            match new {
                Some(v) => container.insert(def.name.to_string(), v),
                None => container.remove(def.name),
            };
        }
    }
    Ok(())
}

/// `add`/`replace` on `attr[filter]` or `attr[filter].sub`: every matching element is updated
/// (`replace` without a sub-attribute replaces it whole). With no match, a filter that is a
/// single `eq` on a sub-attribute makes a new element from it (Entra ID's way of adding a work
/// e-mail); otherwise there is no target.
fn set_filtered(
    items: &mut Vec<Value>,
    def: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    filter: &Filter,
    value: &Value,
    kind: PatchOpKind,
) -> Result<(), ScimError> {
    let scope = Scope::Element(def.sub_attributes);
    let mut touched: Vec<usize> =
        (0..items.len()).filter(|&i| eval(filter, &items[i], scope)).collect();
    if touched.is_empty() {
        let Some(seed) = seed_element(def, filter)? else {
            return Err(ScimError::bad(
                ScimType::NoTarget,
                format!("no value of {} matches the filter", def.name),
            ));
        };
        items.push(seed);
        touched.push(items.len() - 1);
    }
    for &i in &touched {
        let Value::Object(element) = &mut items[i] else {
            continue;
        };
        match sub {
            Some(sub) => set_sub(element, def, sub, value)?,
            None if kind == PatchOpKind::Replace => {
                let Some(Value::Object(new)) = coerce_single(def, value, def.name)? else {
                    return Err(ScimError::bad(
                        ScimType::InvalidValue,
                        format!("{} must be an object", def.name),
                    ));
                };
                *element = new;
            }
            None => merge(element, def, value)?,
        }
    }
    one_primary(items, &touched);
    Ok(())
}

/// The element a single-`eq` filter describes (`type eq "work"` → `{"type": "work"}`).
fn seed_element(def: &AttrDef, filter: &Filter) -> Result<Option<Value>, ScimError> {
    let Filter::Compare { path, op: CompareOp::Eq, value } = filter else {
        return Ok(None);
    };
    if path.uri.is_some() || path.sub_attr.is_some() {
        return Ok(None);
    }
    let Some(sub) = def.sub(&path.attr) else {
        return Ok(None);
    };
    let mut element = Map::new();
    if let Some(v) = coerce_single(sub, value, &label(def, Some(sub)))? {
        element.insert(sub.name.to_string(), v);
    }
    Ok(Some(Value::Object(element)))
}

/// When this operation made elements primary, the last of them stays primary and every other
/// element loses it (RFC 7643 §2.4).
fn one_primary(items: &mut [Value], touched: &[usize]) {
    let Some(&keep) = touched.iter().rev().find(|&&i| is_primary(&items[i])) else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep && is_primary(item) {
            if let Value::Object(o) = item {
                o.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

/// `remove`, and `replace` with null or [].
fn remove(
    container: &mut Map<String, Value>,
    def: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    filter: Option<&Filter>,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let scope = Scope::Element(def.sub_attributes);
    let strip = |element: &mut Value, sub: &AttrDef| -> Result<(), ScimError> {
        if let Value::Object(o) = element {
            if sub.mutability == Mutability::Immutable && o.contains_key(sub.name) {
                return Err(ScimError::bad(
                    ScimType::Mutability,
                    format!("{} is immutable", label(def, Some(sub))),
                ));
            }
            o.remove(sub.name);
        }
        Ok(())
    };
    match (filter, sub) {
        (None, None) => match value {
            Some(listed) if def.multi_valued => {
                let listed = coerce_multi(def, listed, def.name)?;
                if let Some(Value::Array(items)) = container.get_mut(def.name) {
                    items.retain(|e| !listed.iter().any(|l| same_element(def, e, l)));
                }
            }
            _ => {
                container.remove(def.name);
            }
        },
        (None, Some(sub)) => match container.get_mut(def.name) {
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    strip(item, sub)?;
                }
            }
            Some(other) => strip(other, sub)?,
            None => {}
        },
        (Some(filter), None) => {
            if let Some(Value::Array(items)) = container.get_mut(def.name) {
                items.retain(|e| !eval(filter, e, scope));
            }
        }
        (Some(filter), Some(sub)) => {
            if let Some(Value::Array(items)) = container.get_mut(def.name) {
                for item in items.iter_mut().filter(|e| eval(filter, e, scope)) {
                    strip(item, sub)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE_USER_URN, GROUP, USER};
    use super::*;
    use serde_json::json;

    fn ops(operations: Value) -> Vec<PatchOperation> {
        parse_patch_request(&json!({"schemas": [PATCH_OP_URN], "Operations": operations})).unwrap()
    }

    fn patch(doc: Value, operations: Value, schema: &ResourceSchema) -> Result<Value, ScimError> {
        let mut doc = doc.as_object().unwrap().clone();
        apply_patch(&mut doc, &ops(operations), schema).map(|()| Value::Object(doc))
    }

    fn user() -> Value {
        json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "active": true
        })
    }

    fn group() -> Value {
        json!({
            "displayName": "Tour Guides",
            "members": [{"value": "2819c223", "type": "User"}, {"value": "902c246b"}]
        })
    }

    fn user_patch(operations: Value) -> Value {
        patch(user(), operations, &USER).unwrap()
    }

    fn group_patch(operations: Value) -> Value {
        patch(group(), operations, &GROUP).unwrap()
    }

    fn fails(doc: Value, operations: Value, schema: &ResourceSchema) -> (ScimType, String) {
        let e = patch(doc, operations, schema).unwrap_err();
        assert_eq!(e.status, 400);
        (e.scim_type.unwrap(), e.detail)
    }

    #[test]
    fn parse_checks_schemas_operations_and_ops() {
        let parse = |body: Value| parse_patch_request(&body).map_err(|e| (e.scim_type, e.detail));
        let syntax = Some(ScimType::InvalidSyntax);
        assert_eq!(
            parse(json!({"Operations": [{"op": "add", "value": {}}]})).unwrap_err(),
            (syntax, format!("schemas must include {PATCH_OP_URN}"))
        );
        assert_eq!(
            parse(json!({"schemas": [PATCH_OP_URN], "Operations": []})).unwrap_err().1,
            "Operations must be a non-empty array"
        );
        assert_eq!(
            parse(json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "move", "path": "a"}]}))
                .unwrap_err(),
            (syntax, "Operations[0].op must be add, remove or replace".into())
        );
        assert_eq!(
            parse(json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "Remove"}]}))
                .unwrap_err(),
            (Some(ScimType::NoTarget), "Operations[0]: remove needs a path".into())
        );
        assert_eq!(
            parse(json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "add", "path": "a"}]}))
                .unwrap_err(),
            (syntax, "Operations[0]: a value is required".into())
        );
        let bad_path = parse(json!({"schemas": [PATCH_OP_URN], "Operations": [
            {"op": "add", "path": "displayName", "value": "x"},
            {"op": "add", "path": "emails[type eq", "value": "x"}
        ]}))
        .unwrap_err();
        assert_eq!(bad_path.0, Some(ScimType::InvalidPath));
        assert!(bad_path.1.starts_with("Operations[1].path: "), "{}", bad_path.1);
        let many = vec![json!({"op": "remove", "path": "active"}); MAX_PATCH_OPERATIONS + 1];
        assert_eq!(
            parse(json!({"schemas": [PATCH_OP_URN], "Operations": many})).unwrap_err().1,
            "at most 1000 operations per request"
        );
        let parsed = ops(json!([
            {"op": "Add", "path": "displayName", "value": "x"},
            {"OP": "REPLACE", "value": {"active": false}},
            {"op": "remove", "path": "members[value eq \"a\"]"}
        ]));
        assert_eq!(
            parsed.iter().map(|o| o.op).collect::<Vec<_>>(),
            [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
        );
        assert!(parsed[2].path.as_ref().unwrap().value_filter.is_some());
    }

    // RFC 7644 §3.5.2.1
    #[test]
    fn rfc_add_members_appends_without_duplicates() {
        let out = group_patch(json!([{
            "op": "add", "path": "members",
            "value": [{"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223", "value": "2819c223"},
                      {"value": "new1"}]
        }]));
        assert_eq!(
            out["members"],
            json!([{"value": "2819c223", "type": "User"}, {"value": "902c246b"}, {"value": "new1"}])
        );
    }

    #[test]
    fn rfc_add_without_path_and_to_a_complex_attribute() {
        let out = user_patch(json!([{
            "op": "add",
            "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b2@x.org", "type": "other"}],
                      "displayName": "Babs", "nickName": "ignored"}
        }]));
        assert_eq!(out["emails"].as_array().unwrap().len(), 3);
        assert_eq!(out["emails"][2], json!({"value": "b2@x.org", "type": "other"}));
        assert_eq!(out["displayName"], "Babs");
        assert!(out.get("nickName").is_none());
        let out =
            user_patch(json!([{"op": "add", "path": "name", "value": {"formatted": "Ms. B"}}]));
        assert_eq!(
            out["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. B"})
        );
    }

    // RFC 7644 §3.5.2.2
    #[test]
    fn rfc_remove_one_member_all_members_and_a_sub_attribute() {
        let out = group_patch(json!([{"op": "remove", "path": "members[value eq \"2819c223\"]"}]));
        assert_eq!(out["members"], json!([{"value": "902c246b"}]));
        let out = group_patch(json!([{"op": "remove", "path": "members"}]));
        assert_eq!(out, json!({"displayName": "Tour Guides"}));
        // No match is no error.
        let out = group_patch(json!([{"op": "remove", "path": "members[value eq \"nobody\"]"}]));
        assert_eq!(out, group());
        let out = user_patch(
            json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
        );
        assert_eq!(out["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
        let out = user_patch(json!([{"op": "remove", "path": "emails[type eq \"home\"].type"}]));
        assert_eq!(out["emails"][1], json!({"value": "babs@jensen.org"}));
        let out = user_patch(
            json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
        );
        assert!(out.get("name").is_none(), "an emptied complex attribute is unassigned");
    }

    #[test]
    fn rfc_remove_all_then_add_replaces_members() {
        let out = group_patch(json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}
        ]));
        assert_eq!(out["members"], json!([{"value": "a"}, {"value": "b"}]));
    }

    // RFC 7644 §3.5.2.3
    #[test]
    fn rfc_replace_members_emails_and_a_filtered_element() {
        let out =
            group_patch(json!([{"op": "replace", "path": "members", "value": [{"value": "x"}]}]));
        assert_eq!(out["members"], json!([{"value": "x"}]));
        let out = user_patch(json!([{
            "op": "replace", "path": "emails[type eq \"work\"]",
            "value": {"type": "work", "value": "bjensen@example.org"}
        }]));
        assert_eq!(out["emails"][0], json!({"type": "work", "value": "bjensen@example.org"}));
        assert_eq!(out["emails"][1], user()["emails"][1]);
        let out = user_patch(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@example.org"}]),
        );
        assert_eq!(
            out["emails"][0],
            json!({"value": "b@example.org", "type": "work", "primary": true})
        );
        let out = user_patch(
            json!([{"op": "replace", "value": {"emails": [{"value": "only@x"}], "userName": "b"}}]),
        );
        assert_eq!(out["emails"], json!([{"value": "only@x"}]));
        assert_eq!(out["userName"], "b");
        let home_only = json!({"userName": "u", "emails": [{"value": "h@x", "type": "home"}]});
        let (t, d) = fails(
            home_only,
            json!([{"op": "replace", "path": "emails[type eq \"work\" or type eq \"other\"].value", "value": "a@x"}]),
            &USER,
        );
        assert_eq!((t, d.as_str()), (ScimType::NoTarget, "no value of emails matches the filter"));
    }

    #[test]
    fn okta_payloads() {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "value": {"active": false}}]});
        let mut doc = user().as_object().unwrap().clone();
        apply_patch(&mut doc, &parse_patch_request(&body).unwrap(), &USER).unwrap();
        assert_eq!(doc["active"], json!(false));
        // `display` is not in our schema: dropped, not refused.
        let out = group_patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "u9", "display": "x@y"}]}]),
        );
        assert_eq!(out["members"][2], json!({"value": "u9"}));
        let out = group_patch(json!([{"op": "remove", "path": "members[value eq \"902c246b\"]"}]));
        assert_eq!(out["members"], json!([{"value": "2819c223", "type": "User"}]));
        // A path-less replace echoing the readOnly `id` is not refused.
        let out =
            group_patch(json!([{"op": "replace", "value": {"id": "g1", "displayName": "New"}}]));
        assert_eq!(out["displayName"], "New");
        assert!(out.get("id").is_none());
    }

    #[test]
    fn entra_id_payloads() {
        let out = user_patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(out["active"], json!(false));
        let out = user_patch(
            json!([{"op": "Replace", "value": {"active": "True", "name.givenName": "Babs"}}]),
        );
        assert_eq!((&out["active"], &out["name"]["givenName"]), (&json!(true), &json!("Babs")));
        let no_mail = json!({"userName": "u"});
        let out = patch(
            no_mail,
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "x@y.com"}]),
            &USER,
        )
        .unwrap();
        assert_eq!(out["emails"], json!([{"type": "work", "value": "x@y.com"}]));
        let out = user_patch(
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@y.com"}]),
        );
        assert_eq!(out["emails"][0]["value"], "new@y.com");
        assert_eq!(out["emails"].as_array().unwrap().len(), 2);
        let manager = format!("{ENTERPRISE_USER_URN}:manager");
        let out = user_patch(json!([{"op": "Replace", "path": manager, "value": "m-42"}]));
        assert_eq!(out[ENTERPRISE_USER_URN], json!({"manager": {"value": "m-42"}}));
        let removed = patch(out, json!([{"op": "Remove", "path": manager}]), &USER).unwrap();
        assert_eq!(removed, user(), "the emptied extension object is dropped too");
        let out =
            group_patch(json!([{"op": "Add", "path": "members", "value": [{"value": "u7"}]}]));
        assert_eq!(out["members"][2], json!({"value": "u7"}));
        let out = group_patch(
            json!([{"op": "Remove", "path": "members", "value": [{"value": "2819c223"}, {"value": "absent"}]}]),
        );
        assert_eq!(out["members"], json!([{"value": "902c246b"}]));
        let out = group_patch(json!([{"op": "Replace", "path": "displayName", "value": "x"}]));
        assert_eq!(out["displayName"], "x");
        let out = user_patch(json!([{"op": "Add", "value": {"name.givenName": "Bar"}}]));
        assert_eq!(out["name"]["givenName"], "Bar");
        // Flattened extension keys and extension objects without a path.
        let out = user_patch(json!([{"op": "Add", "value": {
            format!("{ENTERPRISE_USER_URN}:employeeNumber"): "7",
            ENTERPRISE_USER_URN: {"department": "R&D"}
        }}]));
        assert_eq!(out[ENTERPRISE_USER_URN], json!({"employeeNumber": "7", "department": "R&D"}));
    }

    #[test]
    fn names_are_canonicalised_and_unknown_paths_refused() {
        let out = user_patch(json!([{"op": "replace", "path": "DISPLAYNAME", "value": "d"},
                                    {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:Name.GivenName", "value": "g"},
                                    {"op": "add", "path": "externalId", "value": "ext"}]));
        assert_eq!(
            (&out["displayName"], &out["name"]["givenName"], &out["externalId"]),
            (&json!("d"), &json!("g"), &json!("ext"))
        );
        assert_eq!(
            fails(user(), json!([{"op": "add", "path": "nickName", "value": "x"}]), &USER),
            (ScimType::InvalidPath, "unknown attribute 'nickName'".into())
        );
        assert_eq!(
            fails(user(), json!([{"op": "add", "path": "name.middleName", "value": "x"}]), &USER).0,
            ScimType::InvalidPath
        );
        assert_eq!(
            fails(
                user(),
                json!([{"op": "add", "path": "displayName[value eq \"x\"]", "value": "x"}]),
                &USER
            )
            .0,
            ScimType::InvalidPath
        );
        assert_eq!(
            fails(user(), json!([{"op": "replace", "path": "id", "value": "x"}]), &USER),
            (ScimType::Mutability, "id is readOnly".into())
        );
        assert_eq!(
            fails(user(), json!([{"op": "remove", "path": "meta.created"}]), &USER).0,
            ScimType::Mutability
        );
    }

    #[test]
    fn values_are_typed_and_errors_leave_the_document_unchanged() {
        assert_eq!(
            fails(user(), json!([{"op": "replace", "path": "displayName", "value": 5}]), &USER),
            (ScimType::InvalidValue, "displayName must be a string".into())
        );
        assert_eq!(
            fails(user(), json!([{"op": "replace", "path": "active", "value": {"x": 1}}]), &USER),
            (ScimType::InvalidValue, "active must be a boolean".into())
        );
        assert_eq!(
            fails(user(), json!([{"op": "add", "path": "emails", "value": [{"value": 5}]}]), &USER),
            (ScimType::InvalidValue, "emails.value must be a string".into())
        );
        assert_eq!(
            fails(user(), json!([{"op": "remove", "path": "userName"}]), &USER),
            (ScimType::InvalidValue, "userName is required".into())
        );
        let mut doc = user().as_object().unwrap().clone();
        let err = apply_patch(
            &mut doc,
            &ops(json!([
                {"op": "replace", "path": "displayName", "value": "changed"},
                {"op": "remove", "path": "emails"},
                {"op": "replace", "path": "active", "value": 3}
            ])),
            &USER,
        );
        assert!(err.is_err());
        assert_eq!(Value::Object(doc), user());
    }

    #[test]
    fn replace_with_null_or_empty_array_removes() {
        let out = user_patch(json!([{"op": "replace", "path": "emails", "value": []},
                                    {"op": "replace", "path": "name", "value": null}]));
        assert_eq!(out, json!({"userName": "bjensen", "active": true}));
        let out =
            user_patch(json!([{"op": "replace", "value": {"displayName": null, "active": null}}]));
        assert!(out.get("active").is_none());
    }

    #[test]
    fn at_most_one_primary_after_an_operation() {
        let out = user_patch(
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        );
        assert_eq!(out["emails"][0]["primary"], json!(false));
        assert_eq!(out["emails"][1]["primary"], json!(true));
        let out = user_patch(
            json!([{"op": "add", "path": "emails", "value": {"value": "n@x", "primary": "true"}}]),
        );
        let primaries: Vec<_> = out["emails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["primary"] == json!(true))
            .collect();
        assert_eq!(primaries, [&json!({"value": "n@x", "primary": true})]);
    }

    #[test]
    fn immutable_member_values_are_not_changed_in_place() {
        assert_eq!(
            fails(
                group(),
                json!([{"op": "replace", "path": "members[value eq \"902c246b\"].value", "value": "other"}]),
                &GROUP
            ),
            (ScimType::Mutability, "members.value is immutable".into())
        );
        // Setting an absent immutable sub-attribute is allowed.
        let out = group_patch(
            json!([{"op": "add", "path": "members[value eq \"902c246b\"].type", "value": "User"}]),
        );
        assert_eq!(out["members"][1], json!({"value": "902c246b", "type": "User"}));
    }

    #[test]
    fn whole_extension_paths_add_and_remove() {
        let out = user_patch(
            json!([{"op": "add", "path": ENTERPRISE_USER_URN, "value": {"department": "D", "unknown": 1}}]),
        );
        assert_eq!(out[ENTERPRISE_USER_URN], json!({"department": "D"}));
        let out =
            patch(out, json!([{"op": "remove", "path": ENTERPRISE_USER_URN}]), &USER).unwrap();
        assert_eq!(out, user());
    }

    proptest::proptest! {
        /// Whatever the operations, a PATCH either succeeds with the required attribute kept and
        /// at most one primary e-mail, or fails leaving the document exactly as it was.
        #[test]
        fn patches_are_all_or_nothing(
            steps in proptest::collection::vec((0usize..3, 0usize..9, 0usize..8), 1..6)
        ) {
            let paths = ["userName", "emails", "emails[type eq \"work\"].value",
                "emails[type eq \"home\"].primary", "name.givenName", "active", "nickName", "id",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"];
            let values = [json!("x"), json!(true), json!("False"), json!(3), json!(null), json!([]),
                json!({"value": "v@x", "primary": true}), json!([{"value": "w@x", "type": "work"}])];
            let operations: Vec<Value> = steps.iter().map(|&(op, path, value)| json!({
                "op": (["add", "remove", "Replace"][op]), "path": (paths[path]), "value": (values[value].clone())
            })).collect();
            let Ok(parsed) = parse_patch_request(&json!({"schemas": [PATCH_OP_URN], "Operations": operations})) else {
                return Ok(());
            };
            let before = user().as_object().unwrap().clone();
            let mut doc = before.clone();
            match apply_patch(&mut doc, &parsed, &USER) {
                Ok(()) => {
                    proptest::prop_assert!(doc.get("userName").is_some());
                    let primaries = doc.get("emails").and_then(Value::as_array)
                        .map_or(0, |e| e.iter().filter(|e| is_primary(e)).count());
                    proptest::prop_assert!(primaries <= 1);
                }
                Err(_) => proptest::prop_assert_eq!(doc, before),
            }
        }
    }
}
