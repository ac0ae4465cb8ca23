//! How the identity provider's view of a person or a group (a SCIM resource, already normalized
//! to canonical attribute names) maps onto ours.
use serde_json::{Map, Value};

use crate::validate;
use crate::DomainError;

/// The enterprise extension's URN, the key its attributes are kept under.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// What a SCIM User says about our user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The provider's `userName`, as sent (reads back as written).
    pub user_name: String,
    /// Our e-mail: the userName when it is an e-mail address, else the primary (or first) of
    /// `emails` — Entra ID's userName is a user principal name, which need not be a mailbox.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `active`, when the resource says.
    pub active: Option<bool>,
    pub external_id: Option<String>,
    /// `manager.value` of the enterprise extension: our user id or the manager's externalId.
    pub manager: Option<String>,
}

fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn object<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    object.get(key).and_then(Value::as_object)
}

/// The e-mail of a SCIM User: see [`DirectoryUser::email`].
fn email_of(doc: &Map<String, Value>, user_name: &str) -> Result<String, DomainError> {
    if let Ok(email) = validate::email(user_name) {
        return Ok(email);
    }
    let emails: Vec<&Map<String, Value>> = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let primary = emails.iter().find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
    let chosen = primary.or(emails.first()).and_then(|e| text(e, "value"));
    match chosen {
        Some(value) => validate::email(value),
        None => Err(DomainError::Invalid(format!(
            "userName '{user_name}' is not an e-mail address and emails holds none: Portcullis \
             identifies people by e-mail"
        ))),
    }
}

/// Reads our fields out of a normalized SCIM User.
pub fn directory_user(doc: &Map<String, Value>) -> Result<DirectoryUser, DomainError> {
    let user_name = text(doc, "userName")
        .ok_or_else(|| DomainError::Invalid("userName is required".into()))?
        .to_string();
    let email = email_of(doc, &user_name)?;
    let name = object(doc, "name");
    let display: Vec<&str> =
        text(doc, "displayName").map(|d| d.splitn(2, ' ').collect()).unwrap_or_default();
    let local_part = email.split('@').next().unwrap_or_default().to_string();
    let first_name = name
        .and_then(|n| text(n, "givenName"))
        .or(display.first().copied())
        .map(str::to_string)
        .unwrap_or(local_part);
    let last_name = name
        .and_then(|n| text(n, "familyName"))
        .or(if name.and_then(|n| text(n, "givenName")).is_none() {
            display.get(1).copied()
        } else {
            None
        })
        .unwrap_or_default()
        .to_string();
    let manager =
        object(doc, ENTERPRISE_USER).and_then(|ext| ext.get("manager")).and_then(|m| match m {
            Value::Object(m) => text(m, "value").map(str::to_string),
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        });
    Ok(DirectoryUser {
        user_name,
        email,
        first_name: validate::name("name.givenName", &first_name)?,
        last_name: if last_name.trim().is_empty() {
            String::new()
        } else {
            validate::name("name.familyName", &last_name)?
        },
        active: doc.get("active").and_then(Value::as_bool),
        external_id: text(doc, "externalId").map(str::to_string),
        manager,
    })
}

/// What a SCIM Group says about our group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub name: String,
    pub external_id: Option<String>,
    /// `members[].value`, in order, without repeats.
    pub member_values: Vec<String>,
}

/// Reads our fields out of a normalized SCIM Group.
pub fn directory_group(doc: &Map<String, Value>) -> Result<DirectoryGroup, DomainError> {
    let name = text(doc, "displayName")
        .ok_or_else(|| DomainError::Invalid("displayName is required".into()))?;
    let mut member_values: Vec<String> = Vec::new();
    for member in doc.get("members").and_then(Value::as_array).into_iter().flatten() {
        let value = member.as_object().and_then(|m| text(m, "value")).ok_or_else(|| {
            DomainError::Invalid("every member needs a value (the user's id)".into())
        })?;
        if let Some(kind) = member.as_object().and_then(|m| text(m, "type")) {
            if !kind.eq_ignore_ascii_case("User") {
                return Err(DomainError::Invalid(format!(
                    "members of type '{kind}' are not supported: groups hold users"
                )));
            }
        }
        if !member_values.iter().any(|v| v == value) {
            member_values.push(value.to_string());
        }
    }
    Ok(DirectoryGroup {
        name: validate::name("displayName", name)?,
        external_id: text(doc, "externalId").map(str::to_string),
        member_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_user_name_is_the_email_when_it_is_one() {
        let u = directory_user(&doc(json!({
            "userName": "Ada@Example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "active": true,
            "externalId": "00u1"
        })))
        .expect("valid");
        assert_eq!(u.email, "Ada@Example.com");
        assert_eq!((u.first_name.as_str(), u.last_name.as_str()), ("Ada", "Lovelace"));
        assert_eq!(u.active, Some(true));
        assert_eq!(u.external_id.as_deref(), Some("00u1"));
    }

    #[test]
    fn a_principal_name_takes_the_primary_email() {
        let u = directory_user(&doc(json!({
            "userName": "ada",
            "emails": [{"value": "other@example.com"}, {"value": "ada@example.com", "primary": true}]
        })))
        .expect("valid");
        assert_eq!(u.email, "ada@example.com");
        assert_eq!(u.first_name, "ada", "no name: the e-mail's local part");
        let err = directory_user(&doc(json!({"userName": "ada"}))).expect_err("no e-mail");
        assert!(err.to_string().contains("not an e-mail address"), "{err}");
    }

    #[test]
    fn names_fall_back_to_the_display_name() {
        let u = directory_user(&doc(
            json!({"userName": "a@x.io", "displayName": "Grace Brewster Hopper"}),
        ))
        .expect("valid");
        assert_eq!((u.first_name.as_str(), u.last_name.as_str()), ("Grace", "Brewster Hopper"));
    }

    #[test]
    fn the_manager_is_read_as_an_object_or_a_bare_string() {
        let m = |v: Value| {
            directory_user(&doc(json!({"userName": "a@x.io", ENTERPRISE_USER: v})))
                .map(|u| u.manager)
        };
        assert_eq!(m(json!({"manager": {"value": "42"}})).ok().flatten().as_deref(), Some("42"));
        assert_eq!(m(json!({"manager": "43"})).ok().flatten().as_deref(), Some("43"));
        assert_eq!(m(json!({"department": "R&D"})).ok().flatten(), None);
    }

    #[test]
    fn groups_hold_users_once_each() {
        let g = directory_group(&doc(json!({
            "displayName": "Engineering",
            "members": [{"value": "u1"}, {"value": "u2", "type": "User"}, {"value": "u1"}]
        })))
        .expect("valid");
        assert_eq!(g.member_values, vec!["u1", "u2"]);
        let nested = directory_group(&doc(json!({
            "displayName": "All", "members": [{"value": "g1", "type": "Group"}]
        })));
        assert!(nested.is_err(), "nested groups are refused");
        assert!(directory_group(&doc(json!({"members": []}))).is_err(), "displayName is required");
    }
}
