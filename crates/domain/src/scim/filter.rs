//! The SCIM filter grammar (RFC 7644 §3.4.2.2), PATCH paths (§3.5.2) and the evaluation of a
//! filter against a JSON resource.
//!
//! The parser is a hand-written recursive descent with a length and a nesting limit, so a hostile
//! `filter` query parameter costs bounded time and stack.

use chrono::DateTime;
use serde_json::{Map, Value};

use super::schema::{AttrDef, AttrType, ResourceSchema};
use super::{get_ci, ScimError, ScimType};

/// The longest filter or path accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// The deepest nesting of parentheses, `not` and value paths accepted.
pub const MAX_FILTER_DEPTH: usize = 64;

/// An attribute path: `userName`, `name.givenName`, or URN-qualified
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, as written.
    pub uri: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

/// A comparison operator (`ne` included; `pr` is [`Filter::Present`]).
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

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some element of `path` matches `filter`, whose paths are
    /// relative to the element.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH path: `attrPath`, or `attrPath "[" valFilter "]" ["." subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub value_filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

/// Parses a `filter` (400 invalidFilter, naming the position, on any error).
pub fn parse_filter(s: &str) -> Result<Filter, ScimError> {
    let invalid = |detail: String| ScimError::bad(ScimType::InvalidFilter, detail);
    if s.len() > MAX_FILTER_LEN {
        return Err(invalid(format!("filter is longer than {MAX_FILTER_LEN} bytes")));
    }
    let mut p = Parser::new(s);
    let filter = p.parse_or().map_err(invalid)?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        return Err(invalid(p.err(p.pos, &format!("unexpected '{c}'"))));
    }
    Ok(filter)
}

/// Parses a PATCH `path` (400 invalidPath on any error).
pub fn parse_path(s: &str) -> Result<PatchPath, ScimError> {
    let invalid = |detail: String| ScimError::bad(ScimType::InvalidPath, detail);
    if s.len() > MAX_FILTER_LEN {
        return Err(invalid(format!("path is longer than {MAX_FILTER_LEN} bytes")));
    }
    let mut p = Parser::new(s);
    p.skip_ws();
    let attr = p.attr_path().map_err(invalid)?;
    let mut value_filter = None;
    let mut sub_attr = None;
    if p.peek() == Some('[') {
        if attr.sub_attr.is_some() {
            return Err(invalid(p.err(p.pos, "a value filter cannot follow a sub-attribute")));
        }
        value_filter = Some(p.value_filter().map_err(invalid)?);
        if p.peek() == Some('.') {
            p.pos += 1;
            let at = p.pos;
            let name = p.word();
            if !valid_name(name) {
                return Err(invalid(p.err(at, "expected a sub-attribute name after '.'")));
            }
            sub_attr = Some(name.to_string());
        }
    }
    p.skip_ws();
    if let Some(c) = p.peek() {
        return Err(invalid(p.err(p.pos, &format!("unexpected '{c}'"))));
    }
    Ok(PatchPath { attr, value_filter, sub_attr })
}

/// Parses a lone attribute path (for `attributes` lists), as `Err(detail)`.
pub(crate) fn parse_attr_path(s: &str) -> Result<AttrPath, String> {
    let mut p = Parser::new(s.trim());
    let path = p.attr_path()?;
    match p.peek() {
        Some(c) => Err(p.err(p.pos, &format!("unexpected '{c}'"))),
        None => Ok(path),
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
    in_value_path: bool,
}

/// Characters that end a word (an attribute path, operator, keyword or bare value).
fn is_delim(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

/// `ATTRNAME` of RFC 7643 §2.1 (`ALPHA *(nameChar)`), plus `$ref`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        _ => name.eq_ignore_ascii_case("$ref"),
    }
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s, pos: 0, depth: 0, in_value_path: false }
    }

    /// A detail naming the (1-based, character) position.
    fn err(&self, at: usize, msg: &str) -> String {
        let column = self.s[..at.min(self.s.len())].chars().count() + 1;
        format!("{msg} at position {column}")
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn word(&mut self) -> &'a str {
        let rest = &self.s[self.pos..];
        let len = rest.find(is_delim).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn peek_word(&self) -> &'a str {
        let rest = &self.s[self.pos..];
        &rest[..rest.find(is_delim).unwrap_or(rest.len())]
    }

    /// Consumes `kw` (case-insensitive) if it is the next word.
    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek_word().eq_ignore_ascii_case(kw) {
            self.pos += kw.len();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_ws();
        match self.peek() {
            Some(x) if x == c => {
                self.pos += c.len_utf8();
                Ok(())
            }
            Some(x) => Err(self.err(self.pos, &format!("expected '{c}', found '{x}'"))),
            None => Err(self.err(self.pos, &format!("expected '{c}', found the end"))),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(
                self.err(self.pos, &format!("filter nested more than {MAX_FILTER_DEPTH} levels"))
            );
        }
        Ok(())
    }

    /// `or` binds loosest, then `and`, then `not`.
    fn parse_or(&mut self) -> Result<Filter, String> {
        let mut left = self.parse_and()?;
        while self.keyword("or") {
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Filter, String> {
        let mut left = self.parse_unary()?;
        while self.keyword("and") {
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Filter, String> {
        self.skip_ws();
        if self.peek() == Some('(') {
            return self.group();
        }
        let save = self.pos;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                return Ok(Filter::Not(Box::new(self.group()?)));
            }
            // An attribute called `not`.
            self.pos = save;
        }
        self.attr_expr()
    }

    /// `"(" filter ")"`.
    fn group(&mut self) -> Result<Filter, String> {
        self.expect('(')?;
        self.enter()?;
        let inner = self.parse_or()?;
        self.expect(')')?;
        self.depth -= 1;
        Ok(inner)
    }

    fn value_filter(&mut self) -> Result<Filter, String> {
        if self.in_value_path {
            return Err(self.err(self.pos, "value filters cannot be nested"));
        }
        self.expect('[')?;
        self.enter()?;
        self.in_value_path = true;
        let inner = self.parse_or()?;
        self.in_value_path = false;
        self.expect(']')?;
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_path(&mut self) -> Result<AttrPath, String> {
        let at = self.pos;
        let word = self.word();
        if word.is_empty() {
            let msg = match self.peek() {
                Some(c) => format!("expected an attribute path, found '{c}'"),
                None => "expected an attribute path, found the end".to_string(),
            };
            return Err(self.err(at, &msg));
        }
        let (uri, rest) = match word.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("urn:") => match word.rfind(':') {
                Some(i) => (Some(word[..i].to_string()), &word[i + 1..]),
                None => (None, word),
            },
            _ => (None, word),
        };
        let (attr, sub_attr) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        if !valid_name(attr) || !sub_attr.is_none_or(valid_name) {
            return Err(self.err(at, &format!("'{word}' is not a valid attribute path")));
        }
        Ok(AttrPath { uri, attr: attr.to_string(), sub_attr: sub_attr.map(String::from) })
    }

    fn attr_expr(&mut self) -> Result<Filter, String> {
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            let filter = Box::new(self.value_filter()?);
            return Ok(Filter::ValuePath { path, filter });
        }
        self.skip_ws();
        let at = self.pos;
        let op = self.word();
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(op) else {
            let found = if op.is_empty() {
                self.peek().map_or("the end".to_string(), |c| format!("'{c}'"))
            } else {
                format!("'{op}'")
            };
            return Err(self.err(
                at,
                &format!(
                    "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after '{}', found {found}",
                    path.attr
                ),
            ));
        };
        self.skip_ws();
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// A JSON string, number, `true`, `false` or `null`.
    fn comp_value(&mut self) -> Result<Value, String> {
        let at = self.pos;
        if self.peek() == Some('"') {
            let bytes = self.s.as_bytes();
            let mut i = at + 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        let text: String = serde_json::from_str(&self.s[at..=i])
                            .map_err(|e| self.err(at, &format!("invalid string ({e})")))?;
                        self.pos = i + 1;
                        return Ok(Value::String(text));
                    }
                    _ => i += 1,
                }
            }
            return Err(self.err(at, "unterminated string"));
        }
        let word = self.word();
        match word.to_ascii_lowercase().as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "null" => return Ok(Value::Null),
            _ => {}
        }
        match serde_json::from_str::<Value>(word) {
            Ok(v @ Value::Number(_)) => Ok(v),
            _ => {
                Err(self
                    .err(at, "expected a value (a quoted string, a number, true, false or null)"))
            }
        }
    }
}

/// Does `resource` (a rendered resource or a stored document) match `filter`? Attribute names are
/// case-insensitive; strings compare case-insensitively unless the schema says `caseExact`;
/// a multi-valued attribute matches when any of its values does. `ne` is the negation of `eq`, so
/// an absent attribute is "not equal".
pub fn matches(filter: &Filter, resource: &Value, schema: &ResourceSchema) -> bool {
    eval(filter, resource, Scope::Resource(schema))
}

/// Where a filter's paths are resolved: a whole resource, or one element of a multi-valued
/// complex attribute (inside a value filter).
#[derive(Clone, Copy)]
pub(crate) enum Scope<'s> {
    Resource(&'s ResourceSchema),
    Element(&'static [AttrDef]),
}

pub(crate) fn eval(filter: &Filter, node: &Value, scope: Scope) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, node, scope) && eval(b, node, scope),
        Filter::Or(a, b) => eval(a, node, scope) || eval(b, node, scope),
        Filter::Not(f) => !eval(f, node, scope),
        Filter::Present(path) => values(node, path, scope, false).0.iter().any(|v| !is_empty(v)),
        Filter::Compare { path, op: CompareOp::Ne, value } => {
            !compare_any(node, path, CompareOp::Eq, value, scope)
        }
        Filter::Compare { path, op, value } => compare_any(node, path, *op, value, scope),
        Filter::ValuePath { path, filter } => {
            let (found, def) = attr_value(node, path, scope);
            let Some(found) = found else { return false };
            let subs = def.map_or(&[][..], |d| d.sub_attributes);
            match found {
                Value::Array(items) => {
                    items.iter().any(|item| eval(filter, item, Scope::Element(subs)))
                }
                other => eval(filter, other, Scope::Element(subs)),
            }
        }
    }
}

/// Null, "", [] and {} count as unassigned (RFC 7643 §2.5).
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

fn compare_any(node: &Value, path: &AttrPath, op: CompareOp, want: &Value, scope: Scope) -> bool {
    let (found, def) = values(node, path, scope, true);
    if want.is_null() {
        return op == CompareOp::Eq && found.iter().all(|v| v.is_null());
    }
    let case_exact = def.is_some_and(|d| d.case_exact);
    let date = def.is_some_and(|d| d.kind == AttrType::DateTime);
    found.iter().any(|v| compare(op, v, want, case_exact, date))
}

fn compare(op: CompareOp, have: &Value, want: &Value, case_exact: bool, date: bool) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (have, want) {
        (Value::String(a), Value::String(b))
            if date && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) =>
        {
            match (DateTime::parse_from_rfc3339(a), DateTime::parse_from_rfc3339(b)) {
                (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                _ => Some(a.cmp(b)),
            }
        }
        (Value::String(a), Value::String(b)) => {
            let (a, b) = if case_exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => {}
            }
            Some(a.cmp(&b))
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
        // Booleans are only equal or not (RFC 7644: no ordering for booleans).
        (Value::Bool(a), Value::Bool(b)) => return op == CompareOp::Eq && a == b,
        _ => None,
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// The attribute a path names in `node` (without its sub-attribute), and its definition.
fn attr_value<'v>(
    node: &'v Value,
    path: &AttrPath,
    scope: Scope,
) -> (Option<&'v Value>, Option<&'static AttrDef>) {
    let Some(obj) = node.as_object() else {
        return (None, None);
    };
    match scope {
        Scope::Element(subs) => {
            (get_ci(obj, &path.attr), subs.iter().find(|d| d.name.eq_ignore_ascii_case(&path.attr)))
        }
        Scope::Resource(schema) => {
            let found = schema.find(path);
            let container: Option<&Map<String, Value>> = match (found, path.uri.as_deref()) {
                (Some((Some(ext), _)), _) => get_ci(obj, ext.id).and_then(Value::as_object),
                (None, Some(uri)) if !schema.is_core(uri) => {
                    get_ci(obj, uri).and_then(Value::as_object)
                }
                _ => Some(obj),
            };
            (container.and_then(|c| get_ci(c, &path.attr)), found.map(|(_, d)| d))
        }
    }
}

/// Every value a path names, flattened over multi-valued attributes, with the definition that
/// governs comparison. For comparisons (`by_value`) a complex value without a sub-attribute
/// stands for its `value` (RFC 7644 §3.4.2.2).
fn values<'v>(
    node: &'v Value,
    path: &AttrPath,
    scope: Scope,
    by_value: bool,
) -> (Vec<&'v Value>, Option<&'static AttrDef>) {
    let (found, def) = attr_value(node, path, scope);
    let mut out = Vec::new();
    let Some(found) = found else {
        return (out, def);
    };
    let items: Vec<&Value> = match found {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let sub_name = path.sub_attr.as_deref().or_else(|| {
        (by_value
            && (def.is_some_and(|d| d.kind == AttrType::Complex)
                || items.iter().any(|v| v.is_object())))
        .then_some("value")
    });
    let def = match sub_name {
        Some(s) => def.and_then(|d| d.sub(s)),
        None => def,
    };
    for item in items {
        match (sub_name, item) {
            (Some(sub), Value::Object(o)) => match get_ci(o, sub) {
                Some(Value::Array(xs)) => out.extend(xs.iter()),
                Some(x) => out.push(x),
                None => {}
            },
            (Some(_), _) if path.sub_attr.is_some() => {}
            (_, x) => out.push(x),
        }
    }
    (out, def)
}

#[cfg(test)]
mod tests {
    use super::super::schema::{GROUP, USER};
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn p(s: &str) -> AttrPath {
        parse_attr_path(s).unwrap()
    }

    fn cmp(path: &str, op: CompareOp, value: Value) -> Filter {
        Filter::Compare { path: p(path), op, value }
    }

    fn err(s: &str) -> String {
        let e = parse_filter(s).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{s}");
        e.detail
    }

    #[test]
    fn parses_every_operator_case_insensitively() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("NE", CompareOp::Ne),
            ("Co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("GE", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            assert_eq!(
                parse_filter(&format!("userName {word} \"bjensen\"")).unwrap(),
                cmp("userName", op, json!("bjensen"))
            );
        }
        assert_eq!(parse_filter("title PR").unwrap(), Filter::Present(p("title")));
    }

    #[test]
    fn parses_values_of_every_kind_and_string_escapes() {
        let value = |s: &str| match parse_filter(&format!("a eq {s}")).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("true"), json!(true));
        assert_eq!(value("False"), json!(false));
        assert_eq!(value("null"), Value::Null);
        assert_eq!(value("42"), json!(42));
        assert_eq!(value("-1.5e2"), json!(-150.0));
        assert_eq!(
            value(r#""a \"quoted\" \\ \u00e9 (x) [y]""#),
            json!("a \"quoted\" \\ é (x) [y]")
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let a = || cmp("a", CompareOp::Eq, json!(1));
        let b = || cmp("b", CompareOp::Eq, json!(2));
        let c = || cmp("c", CompareOp::Eq, json!(3));
        let bx = Box::new;
        assert_eq!(
            parse_filter("a eq 1 or b eq 2 and c eq 3").unwrap(),
            Filter::Or(bx(a()), bx(Filter::And(bx(b()), bx(c()))))
        );
        assert_eq!(
            parse_filter("a eq 1 and b eq 2 or c eq 3").unwrap(),
            Filter::Or(bx(Filter::And(bx(a()), bx(b()))), bx(c()))
        );
        assert_eq!(
            parse_filter("(a eq 1 or b eq 2) and c eq 3").unwrap(),
            Filter::And(bx(Filter::Or(bx(a()), bx(b()))), bx(c()))
        );
        assert_eq!(
            parse_filter("not (a eq 1) and b eq 2").unwrap(),
            Filter::And(bx(Filter::Not(bx(a()))), bx(b()))
        );
        assert_eq!(
            parse_filter("NOT(a eq 1 or b eq 2)").unwrap(),
            Filter::Not(bx(Filter::Or(bx(a()), bx(b()))))
        );
        // Left-associative chains.
        assert_eq!(
            parse_filter("a eq 1 or b eq 2 or c eq 3").unwrap(),
            Filter::Or(bx(Filter::Or(bx(a()), bx(b()))), bx(c()))
        );
    }

    #[test]
    fn parses_urn_and_sub_attribute_paths() {
        let f = parse_filter(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m1\"",
        )
        .unwrap();
        let Filter::Compare { path, .. } = f else { panic!() };
        assert_eq!(
            path,
            AttrPath {
                uri: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
                attr: "manager".into(),
                sub_attr: Some("value".into()),
            }
        );
        assert_eq!(
            parse_filter("name.givenName sw \"B\"").unwrap(),
            cmp("name.givenName", CompareOp::Sw, json!("B"))
        );
        assert_eq!(p("manager.$ref").sub_attr.as_deref(), Some("$ref"));
    }

    #[test]
    fn parses_value_paths() {
        let f =
            parse_filter("emails[type eq \"work\" and value co \"@x\"] or userName pr").unwrap();
        let Filter::Or(left, right) = f else { panic!() };
        assert_eq!(*right, Filter::Present(p("userName")));
        assert_eq!(
            *left,
            Filter::ValuePath {
                path: p("emails"),
                filter: Box::new(Filter::And(
                    Box::new(cmp("type", CompareOp::Eq, json!("work"))),
                    Box::new(cmp("value", CompareOp::Co, json!("@x")))
                ))
            }
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(err(""), "expected an attribute path, found the end at position 1");
        assert_eq!(
            err("userName zz \"x\""),
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'userName', found 'zz' at position 10"
        );
        assert_eq!(err("userName eq \"x"), "unterminated string at position 13");
        assert_eq!(
            err("userName eq bob"),
            "expected a value (a quoted string, a number, true, false or null) at position 13"
        );
        assert_eq!(err("(a pr"), "expected ')', found the end at position 6");
        assert_eq!(err("a pr b pr"), "unexpected 'b' at position 6");
        assert_eq!(err("a pr)"), "unexpected ')' at position 5");
        assert_eq!(err("1a pr"), "'1a' is not a valid attribute path at position 1");
        assert_eq!(err("a.b.c pr"), "'a.b.c' is not a valid attribute path at position 1");
        assert!(err("emails[type[value eq 1] pr]").contains("cannot be nested"));
        assert!(err(r#"a eq "\q""#).starts_with("invalid string"));
        assert!(err("not (a pr) and").contains("found the end"));
    }

    #[test]
    fn nesting_and_length_are_limited() {
        let ok = format!("{}a pr{}", "(".repeat(64), ")".repeat(64));
        assert!(parse_filter(&ok).is_ok());
        let deep = format!("{}a pr{}", "(".repeat(65), ")".repeat(65));
        assert!(err(&deep).contains("nested more than 64 levels"));
        let nots = format!("{}a pr{}", "not (".repeat(100), ")".repeat(100));
        assert!(err(&nots).contains("nested more than 64 levels"));
        let hostile = "(".repeat(100_000);
        assert!(err(&hostile).contains("longer than 4096"));
    }

    #[test]
    fn parses_patch_paths() {
        assert_eq!(
            parse_path("members[value eq \"2819c223\"]").unwrap(),
            PatchPath {
                attr: p("members"),
                value_filter: Some(cmp("value", CompareOp::Eq, json!("2819c223"))),
                sub_attr: None,
            }
        );
        let path = parse_path("emails[type eq \"work\"].value").unwrap();
        assert_eq!(path.sub_attr.as_deref(), Some("value"));
        assert_eq!(parse_path(" name.familyName ").unwrap().attr, p("name.familyName"));
        let urn = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
            .unwrap();
        assert_eq!(urn.attr.attr, "manager");
        for bad in ["", "members[", "members[value eq 1", "a.b[c pr]", "emails[type pr].", "a b"] {
            assert_eq!(
                parse_path(bad).unwrap_err().scim_type,
                Some(ScimType::InvalidPath),
                "{bad}"
            );
        }
    }

    fn user() -> Value {
        json!({
            "id": "2819c223",
            "userName": "BJensen",
            "externalId": "Ext-1",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "active": true,
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "manager": {"value": "26118915"}
            }
        })
    }

    fn m(f: &str) -> bool {
        matches(&parse_filter(f).unwrap(), &user(), &USER)
    }

    #[test]
    fn matches_strings_case_insensitively_unless_case_exact() {
        assert!(m("userName eq \"bjensen\""));
        assert!(m("USERNAME EQ \"BJENSEN\""));
        assert!(m("externalId eq \"Ext-1\""));
        assert!(!m("externalId eq \"ext-1\""));
        assert!(m("id eq \"2819c223\""));
        assert!(m("name.familyName co \"ENS\""));
        assert!(m("userName sw \"bj\" and userName ew \"sen\""));
        assert!(!m("userName sw \"jen\""));
        assert!(m("userName gt \"a\" and userName lt \"c\""));
        assert!(m("userName ge \"bjensen\" and userName le \"bjensen\""));
        assert!(m("userName ne \"other\""));
        assert!(!m("userName ne \"BJENSEN\""));
        assert!(m("nickName ne \"x\""));
    }

    #[test]
    fn matches_booleans_dates_numbers_and_null() {
        assert!(m("active eq true"));
        assert!(!m("active eq false"));
        assert!(!m("active gt false"));
        assert!(m("meta.lastModified gt \"2011-05-13T00:00:00Z\""));
        assert!(m("meta.lastModified lt \"2011-05-13T06:00:00+01:00\""));
        assert!(!m("meta.lastModified ge \"2012-01-01T00:00:00Z\""));
        assert!(m("nickName eq null"));
        assert!(!m("userName eq null"));
        let doc = json!({"n": 5});
        let f = parse_filter("n gt 4.5 and n le 5 and not (n eq \"5\")").unwrap();
        assert!(matches(&f, &doc, &USER));
    }

    #[test]
    fn matches_multi_valued_urn_and_value_paths() {
        assert!(m("emails co \"example.com\""));
        assert!(m("emails.type eq \"home\""));
        assert!(!m("emails.type eq \"other\""));
        assert!(m("emails[type eq \"work\" and value co \"@example\"]"));
        assert!(!m("emails[type eq \"home\" and value co \"@example\"]"));
        assert!(m("emails[primary eq true]"));
        assert!(m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\""
        ));
        assert!(m("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\""));
        assert!(m("employeeNumber eq \"701984\""));
        assert!(m("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"bjensen\""));
        assert!(!m("urn:x:userName eq \"bjensen\""));
        let group = json!({"displayName": "Admins", "members": [{"value": "a"}, {"value": "b"}]});
        let f = parse_filter("members[value eq \"b\"] and displayName eq \"admins\"").unwrap();
        assert!(matches(&f, &group, &GROUP));
        // Member ids are compared case-insensitively: `value` is not caseExact in the schema.
        let f = parse_filter("members.value eq \"A\"").unwrap();
        assert!(matches(&f, &group, &GROUP));
    }

    #[test]
    fn present_means_assigned_and_not_empty() {
        assert!(m("name pr"));
        assert!(m("emails pr"));
        assert!(m("emails.primary pr"));
        assert!(!m("nickName pr"));
        let doc = json!({"displayName": "", "emails": [], "name": {}, "title": null});
        for f in ["displayName pr", "emails pr", "name pr", "title pr"] {
            assert!(!matches(&parse_filter(f).unwrap(), &doc, &USER), "{f}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "[a-zA-Z()\\[\\]\" .:$\\\\0-9]{0,80}") {
            let _ = parse_filter(&s);
            let _ = parse_path(&s);
        }

        #[test]
        fn quoted_strings_round_trip(text in "\\PC{0,40}") {
            let quoted = serde_json::to_string(&text).unwrap();
            let f = parse_filter(&format!("userName eq {quoted}")).unwrap();
            prop_assert_eq!(f, cmp("userName", CompareOp::Eq, Value::String(text)));
        }
    }
}
