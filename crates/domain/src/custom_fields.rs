//! Custom fields: an organization's field definitions (a `Select` field with its options), and
//! the rules for a work app's value of a field, by the field's type.
//!
//! Values are stored as Cakewalk shows them (`WorkAppCustomFieldViewModelV1`): text for `Text`,
//! `Number`, `Date`, `Boolean` and `Url`; an id (`guidValue`) for `Select` (the option) and
//! `Person` (the user), whose readable `value` is resolved when read (the option's current label,
//! the user's current e-mail), so renaming an option shows at once on every app.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{validate, DomainError};

/// Most custom fields an organization may define: one page, so a work app's fields always fit in
/// one answer.
pub const MAX_CUSTOM_FIELDS: usize = crate::page::PAGE_SIZE as usize;

/// Most options a `Select` field may offer.
pub const MAX_SELECT_OPTIONS: usize = 100;

crate::wire_enum! {
    /// The kind of value a custom field holds.
    pub enum CustomFieldType: "custom field type", case_insensitive {
        /// Free text (up to 2,000 characters).
        Text = 1 => "Text",
        /// A decimal number, kept as written (`-12.50`, `1e3`).
        Number = 2 => "Number",
        /// An ISO 8601 date (`2026-01-31`) or an RFC 3339 date-time.
        Date = 3 => "Date",
        /// `true` or `false`.
        Boolean = 4 => "Boolean",
        /// An absolute http(s) URL.
        Url = 5 => "Url",
        /// One of the field's options.
        Select = 6 => "Select",
        /// A user of the organization.
        Person = 7 => "Person",
    }
}

/// One choice of a `Select` field; the id is stable across renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectOption {
    pub id: Uuid,
    pub label: String,
}

/// A custom field definition of an organization. Names are unique per organization,
/// case-insensitively; only `Select` fields have options (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub field_type: CustomFieldType,
    /// A work app's value of a required field cannot be removed.
    pub required: bool,
    /// In the order given.
    pub options: Vec<SelectOption>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The key under which option labels are unique within a field (case-insensitive).
pub fn label_key(label: &str) -> String {
    label.trim().to_lowercase()
}

/// A field to create.
#[derive(Debug, Clone)]
pub struct NewCustomField {
    pub name: String,
    pub field_type: CustomFieldType,
    pub required: bool,
    /// Option labels: required (and non-empty) for `Select`, refused for the other types.
    pub options: Option<Vec<String>>,
}

impl NewCustomField {
    /// The field, validated; `new_id` names each option.
    pub fn build(
        &self,
        id: Uuid,
        org_id: Uuid,
        now: DateTime<Utc>,
        new_id: impl FnMut() -> Uuid,
    ) -> Result<CustomField, DomainError> {
        let edits: Option<Vec<OptionEdit>> = self
            .options
            .as_ref()
            .map(|labels| labels.iter().cloned().map(OptionEdit::Label).collect());
        Ok(CustomField {
            id,
            org_id,
            name: validate::name("name", &self.name)?,
            field_type: self.field_type,
            required: self.required,
            options: plan_options(self.field_type, edits.as_deref(), &[], new_id)?,
            created_at: now,
            updated_at: now,
        })
    }
}

/// One entry of a `Select` field's new option list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionEdit {
    /// Keeps the option with this label (compared case-insensitively; the new spelling wins), or
    /// adds a new option.
    Label(String),
    /// Keeps the option with this id, under this (possibly new) label.
    Existing { id: Uuid, label: String },
}

/// What the stored values of one field use: how many work apps have a value, and which options
/// they chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldUsage {
    pub values: i64,
    pub options_in_use: HashSet<Uuid>,
}

/// Changes to a field; `None` leaves a property alone.
///
/// - `name`: renames (unique per organization).
/// - `required`: applies to later writes; work apps without a value keep none.
/// - `field_type`: only while no work app has a value for the field (else a conflict). Changing
///   to `Select` needs `options`; changing away drops the options.
/// - `options` (`Select` only): the complete new list, in order. An entry keeps an option (by id,
///   or by its label) or adds one; an option left out is removed, unless a work app has chosen it
///   (a conflict).
#[derive(Debug, Clone, Default)]
pub struct CustomFieldPatch {
    pub name: Option<String>,
    pub field_type: Option<CustomFieldType>,
    pub required: Option<bool>,
    pub options: Option<Vec<OptionEdit>>,
}

impl CustomFieldPatch {
    /// Validates and applies the patch (all of it, or nothing); `usage` is what the field's
    /// stored values use.
    pub fn apply(
        &self,
        field: &mut CustomField,
        usage: &FieldUsage,
        new_id: impl FnMut() -> Uuid,
    ) -> Result<(), DomainError> {
        let mut next = field.clone();
        if let Some(name) = &self.name {
            next.name = validate::name("name", name)?;
        }
        if let Some(required) = self.required {
            next.required = required;
        }
        if let Some(field_type) = self.field_type.filter(|t| *t != field.field_type) {
            if usage.values > 0 {
                return Err(DomainError::Conflict(format!(
                    "custom field '{}' has a value on {} work app(s): its type ({}) cannot \
                     change until those values are removed",
                    field.name, usage.values, field.field_type
                )));
            }
            next.field_type = field_type;
        }
        next.options =
            plan_options(next.field_type, self.options.as_deref(), &field.options, new_id)?;
        let kept: HashSet<Uuid> = next.options.iter().map(|o| o.id).collect();
        let removed_in_use = field
            .options
            .iter()
            .find(|o| !kept.contains(&o.id) && usage.options_in_use.contains(&o.id));
        if let Some(gone) = removed_in_use {
            return Err(DomainError::Conflict(format!(
                "option '{}' of custom field '{}' is the value of a work app: remove those values \
                 before removing the option",
                gone.label, field.name
            )));
        }
        *field = next;
        Ok(())
    }
}

/// The options of a field of `field_type` after `edits` (`None`: unchanged) of `current`.
fn plan_options(
    field_type: CustomFieldType,
    edits: Option<&[OptionEdit]>,
    current: &[SelectOption],
    mut new_id: impl FnMut() -> Uuid,
) -> Result<Vec<SelectOption>, DomainError> {
    if field_type != CustomFieldType::Select {
        return match edits {
            Some(_) => Err(DomainError::invalid(format!(
                "options are only allowed on Select fields, not on {field_type} fields"
            ))),
            None => Ok(Vec::new()),
        };
    }
    let Some(edits) = edits else {
        if current.is_empty() {
            return Err(DomainError::invalid("a Select field needs options (at least one)"));
        }
        return Ok(current.to_vec());
    };
    if edits.is_empty() {
        return Err(DomainError::invalid("a Select field needs options (at least one)"));
    }
    if edits.len() > MAX_SELECT_OPTIONS {
        return Err(DomainError::invalid(format!(
            "a Select field may have at most {MAX_SELECT_OPTIONS} options (got {})",
            edits.len()
        )));
    }
    let by_key: HashMap<String, Uuid> =
        current.iter().map(|o| (label_key(&o.label), o.id)).collect();
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    let mut out = Vec::with_capacity(edits.len());
    for (i, edit) in edits.iter().enumerate() {
        let field = format!("options[{i}]");
        let (id, label) = match edit {
            OptionEdit::Existing { id, label } => {
                if !current.iter().any(|o| o.id == *id) {
                    return Err(DomainError::invalid(format!(
                        "{field}: the field has no option {id}"
                    )));
                }
                (*id, validate::name(&field, label)?)
            }
            OptionEdit::Label(label) => {
                let label = validate::name(&field, label)?;
                (by_key.get(&label_key(&label)).copied().unwrap_or_else(&mut new_id), label)
            }
        };
        if !keys.insert(label_key(&label)) {
            return Err(DomainError::invalid(format!("{field}: option '{label}' is listed twice")));
        }
        if !ids.insert(id) {
            return Err(DomainError::invalid(format!("{field}: option {id} is listed twice")));
        }
        out.push(SelectOption { id, label });
    }
    Ok(out)
}

/// A work app's value of a field, as stored: `value` for the text types, `guid_value` for
/// `Select` (the option's id) and `Person` (the user's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldValue {
    pub org_id: Uuid,
    pub work_app_id: Uuid,
    pub field_id: Uuid,
    pub value: Option<String>,
    pub guid_value: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A user named by a `Person` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    Id(Uuid),
    Email(String),
}

/// A value checked against its field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedValue {
    /// The text to store (`Text`, `Number`, `Date`, `Boolean` in its canonical spelling, `Url`).
    Text(String),
    /// The chosen option of a `Select` field.
    Option(Uuid),
    /// The user of a `Person` field, still to be found in the organization's directory.
    Person(PersonRef),
}

/// Checks a client's value for `field`. Surrounding whitespace is ignored; an empty value is
/// refused (a value is removed with `null`, not with `""`).
pub fn check_value(field: &CustomField, raw: &str) -> Result<CheckedValue, DomainError> {
    let what = format!("the value of '{}' ({})", field.name, field.field_type);
    let text = validate::text(&what, Some(raw))?;
    if text.is_empty() {
        return Err(DomainError::invalid(format!(
            "{what} must not be empty; send null to remove the value"
        )));
    }
    let refuse =
        |expected: &str| DomainError::invalid(format!("{what} must be {expected}, got '{text}'"));
    Ok(match field.field_type {
        CustomFieldType::Text => CheckedValue::Text(text),
        CustomFieldType::Number if is_number(&text) => CheckedValue::Text(text),
        CustomFieldType::Number => return Err(refuse("a number (e.g. 42, -3.5, 1e6)")),
        CustomFieldType::Date if is_date(&text) => CheckedValue::Text(text),
        CustomFieldType::Date => {
            return Err(refuse("an ISO date (2026-01-31) or an RFC 3339 date-time"))
        }
        CustomFieldType::Boolean => match text.to_ascii_lowercase().as_str() {
            canonical @ ("true" | "false") => CheckedValue::Text(canonical.to_string()),
            _ => return Err(refuse("true or false")),
        },
        CustomFieldType::Url => CheckedValue::Text(validate::http_url(&what, &text)?),
        CustomFieldType::Select => {
            let by_id = Uuid::parse_str(&text).ok();
            let key = label_key(&text);
            let option = field
                .options
                .iter()
                .find(|o| Some(o.id) == by_id || label_key(&o.label) == key)
                .ok_or_else(|| {
                    let labels: Vec<&str> =
                        field.options.iter().map(|o| o.label.as_str()).collect();
                    refuse(&format!(
                        "one of the options ({}) or an option id",
                        crate::wire::one_of(&labels)
                    ))
                })?;
            CheckedValue::Option(option.id)
        }
        CustomFieldType::Person => match Uuid::parse_str(&text) {
            Ok(id) => CheckedValue::Person(PersonRef::Id(id)),
            Err(_) => match validate::email(&text) {
                Ok(email) => CheckedValue::Person(PersonRef::Email(email)),
                Err(_) => {
                    return Err(refuse("a user id or the e-mail of a user of the organization"))
                }
            },
        },
    })
}

/// A decimal number: `-?digits(.digits)?([eE][+-]?digits)?`, finite. No `NaN`, `inf`, hex or
/// thousands separators: what every client parses the same way.
pub fn is_number(text: &str) -> bool {
    fn digits(s: &str) -> (usize, &str) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n, &s[n..])
    }
    let rest = text.strip_prefix('-').unwrap_or(text);
    let (n, mut rest) = digits(rest);
    if n == 0 {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let (n, after) = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = after;
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let (n, after) = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = after;
    }
    rest.is_empty() && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// An ISO 8601 calendar date (`YYYY-MM-DD`) or an RFC 3339 date-time (`2026-01-31T09:30:00Z`,
/// `…+02:00`).
pub fn is_date(text: &str) -> bool {
    let plain_date = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if plain_date {
        return chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    }
    DateTime::parse_from_rfc3339(text).is_ok()
}

/// What a work app shows for a stored value: `(value, guidValue)`. `Select` shows the option's
/// current label; `Person` the user's current e-mail (from `person_email`).
pub fn shown_value(
    field: &CustomField,
    stored: &CustomFieldValue,
    person_email: impl Fn(Uuid) -> Option<String>,
) -> (Option<String>, Option<Uuid>) {
    let value = match (field.field_type, stored.guid_value) {
        (CustomFieldType::Select, Some(option)) => {
            field.options.iter().find(|o| o.id == option).map(|o| o.label.clone())
        }
        (CustomFieldType::Person, Some(user)) => person_email(user),
        _ => stored.value.clone(),
    };
    (value, stored.guid_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field(field_type: CustomFieldType, options: &[&str]) -> CustomField {
        let new = NewCustomField {
            name: "Field".into(),
            field_type,
            required: false,
            options: (field_type == CustomFieldType::Select)
                .then(|| options.iter().map(|o| o.to_string()).collect()),
        };
        new.build(Uuid::from_u128(1), Uuid::from_u128(2), Utc::now(), crate::new_id).unwrap()
    }

    fn accepts(t: CustomFieldType, raw: &str) -> CheckedValue {
        check_value(&field(t, &["Low", "High"]), raw)
            .unwrap_or_else(|e| panic!("{t} should accept {raw:?}: {e}"))
    }

    fn refuses(t: CustomFieldType, raw: &str) {
        let result = check_value(&field(t, &["Low", "High"]), raw);
        assert!(
            matches!(result, Err(DomainError::Invalid(_))),
            "{t} should refuse {raw:?}: {result:?}"
        );
    }

    #[test]
    fn types_parse_case_insensitively() {
        assert_eq!(CustomFieldType::parse("select"), Ok(CustomFieldType::Select));
        assert_eq!(CustomFieldType::parse(" URL "), Ok(CustomFieldType::Url));
        assert!(CustomFieldType::parse("Money").is_err());
        assert_eq!(CustomFieldType::ALL.len(), 7);
    }

    #[test]
    fn every_type_refuses_empty_and_blank_values() {
        for t in CustomFieldType::ALL {
            refuses(t, "");
            refuses(t, "   ");
        }
    }

    #[test]
    fn text_accepts_any_text_up_to_the_limit() {
        assert_eq!(
            accepts(CustomFieldType::Text, "  Cost centre 42 "),
            CheckedValue::Text("Cost centre 42".into())
        );
        assert_eq!(
            accepts(CustomFieldType::Text, "line 1\nline 2"),
            CheckedValue::Text("line 1\nline 2".into())
        );
        accepts(CustomFieldType::Text, &"x".repeat(validate::MAX_TEXT_LEN));
        refuses(CustomFieldType::Text, &"x".repeat(validate::MAX_TEXT_LEN + 1));
        refuses(CustomFieldType::Text, "a\0b");
    }

    #[test]
    fn numbers_are_decimal_and_kept_as_written() {
        for ok in ["0", "42", "-3.5", "12.50", "1e6", "6.02E+23", "-1e-9", "007"] {
            assert_eq!(accepts(CustomFieldType::Number, ok), CheckedValue::Text(ok.into()));
        }
        for bad in [
            "abc", "1,5", "1.", ".5", "+1", "--1", "1e", "1e+", "NaN", "inf", "-inf", "0x10",
            "1 000", "1e999", "12abc",
        ] {
            refuses(CustomFieldType::Number, bad);
        }
    }

    #[test]
    fn dates_are_iso_dates_or_rfc3339_date_times() {
        for ok in
            ["2026-01-31", "2024-02-29", "2026-01-31T09:30:00Z", "2026-01-31T09:30:00.123+02:00"]
        {
            assert_eq!(accepts(CustomFieldType::Date, ok), CheckedValue::Text(ok.into()));
        }
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "31.01.2026",
            "2026/01/31",
            "2026-1-31",
            "tomorrow",
            "2026-01-31T09:30:00",
            "+2026-01-31",
        ] {
            refuses(CustomFieldType::Date, bad);
        }
    }

    #[test]
    fn booleans_are_true_or_false_in_any_case() {
        assert_eq!(accepts(CustomFieldType::Boolean, "TRUE"), CheckedValue::Text("true".into()));
        assert_eq!(accepts(CustomFieldType::Boolean, "False"), CheckedValue::Text("false".into()));
        for bad in ["yes", "1", "0", "t", "truee"] {
            refuses(CustomFieldType::Boolean, bad);
        }
    }

    #[test]
    fn urls_are_absolute_http_or_https() {
        assert_eq!(
            accepts(CustomFieldType::Url, " https://example.com/app?x=1 "),
            CheckedValue::Text("https://example.com/app?x=1".into())
        );
        accepts(CustomFieldType::Url, "http://10.0.0.1:8080");
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://",
            "javascript:alert(1)",
            "/relative",
            "https://exa mple.com",
        ] {
            refuses(CustomFieldType::Url, bad);
        }
    }

    #[test]
    fn select_accepts_a_label_in_any_case_or_an_option_id() {
        let f = field(CustomFieldType::Select, &["Low", "High"]);
        let high = f.options[1].id;
        assert_eq!(check_value(&f, "high"), Ok(CheckedValue::Option(high)));
        assert_eq!(check_value(&f, " High "), Ok(CheckedValue::Option(high)));
        assert_eq!(check_value(&f, &high.to_string()), Ok(CheckedValue::Option(high)));
        refuses(CustomFieldType::Select, "Medium");
        refuses(CustomFieldType::Select, &Uuid::from_u128(77).to_string());
        let err = check_value(&f, "Medium").unwrap_err().to_string();
        assert!(err.contains("Low or High"), "{err}");
    }

    #[test]
    fn person_accepts_a_user_id_or_an_email() {
        let id = Uuid::from_u128(5);
        assert_eq!(
            accepts(CustomFieldType::Person, &id.to_string()),
            CheckedValue::Person(PersonRef::Id(id))
        );
        assert_eq!(
            accepts(CustomFieldType::Person, " ada@acme.example "),
            CheckedValue::Person(PersonRef::Email("ada@acme.example".into()))
        );
        for bad in ["Ada Lovelace", "ada@", "12345"] {
            refuses(CustomFieldType::Person, bad);
        }
    }

    #[test]
    fn new_fields_need_options_exactly_when_they_are_select() {
        let build = |t, options: Option<Vec<&str>>| {
            NewCustomField {
                name: "F".into(),
                field_type: t,
                required: true,
                options: options.map(|o| o.into_iter().map(String::from).collect()),
            }
            .build(Uuid::from_u128(1), Uuid::from_u128(2), Utc::now(), crate::new_id)
        };
        let select = build(CustomFieldType::Select, Some(vec!["A", "B"])).unwrap();
        assert_eq!(select.options.iter().map(|o| o.label.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_ne!(select.options[0].id, select.options[1].id);
        assert!(build(CustomFieldType::Select, None).is_err());
        assert!(build(CustomFieldType::Select, Some(vec![])).is_err());
        assert!(
            build(CustomFieldType::Select, Some(vec!["A", "a"])).is_err(),
            "labels are unique, case-insensitively"
        );
        assert!(build(CustomFieldType::Select, Some(vec!["A", " "])).is_err());
        let too_many: Vec<String> = (0..=MAX_SELECT_OPTIONS).map(|i| format!("o{i}")).collect();
        assert!(build(
            CustomFieldType::Select,
            Some(too_many.iter().map(String::as_str).collect())
        )
        .is_err());
        for t in CustomFieldType::ALL.into_iter().filter(|t| *t != CustomFieldType::Select) {
            assert!(build(t, Some(vec!["A"])).is_err(), "{t} takes no options");
            assert!(build(t, Some(vec![])).is_err(), "{t} takes no options, not even none");
            assert!(build(t, None).unwrap().options.is_empty());
        }
        let nameless = NewCustomField {
            name: "  ".into(),
            field_type: CustomFieldType::Text,
            required: false,
            options: None,
        };
        assert!(nameless
            .build(Uuid::from_u128(1), Uuid::from_u128(2), Utc::now(), crate::new_id)
            .is_err());
    }

    #[test]
    fn patches_rename_and_add_options_keeping_ids() {
        let mut f = field(CustomFieldType::Select, &["Low", "High"]);
        let (low, high) = (f.options[0].id, f.options[1].id);
        let patch = CustomFieldPatch {
            name: Some(" Priority ".into()),
            required: Some(true),
            options: Some(vec![
                OptionEdit::Label("HIGH".into()),
                OptionEdit::Existing { id: low, label: "Minor".into() },
                OptionEdit::Label("Urgent".into()),
            ]),
            ..Default::default()
        };
        patch
            .apply(
                &mut f,
                &FieldUsage { values: 2, options_in_use: [low, high].into() },
                crate::new_id,
            )
            .unwrap();
        assert_eq!(f.name, "Priority");
        assert!(f.required);
        let shown: Vec<(Uuid, &str)> = f.options.iter().map(|o| (o.id, o.label.as_str())).collect();
        assert_eq!(shown[..2], [(high, "HIGH"), (low, "Minor")]);
        assert_eq!(shown[2].1, "Urgent");
        assert!(![low, high].contains(&shown[2].0));
    }

    #[test]
    fn patches_refuse_removing_used_options_and_retyping_used_fields() {
        let base = field(CustomFieldType::Select, &["Low", "High"]);
        let (low, high) = (base.options[0].id, base.options[1].id);
        let only_low = CustomFieldPatch {
            options: Some(vec![OptionEdit::Label("Low".into())]),
            ..Default::default()
        };
        let used_high = FieldUsage { values: 1, options_in_use: [high].into() };
        let mut f = base.clone();
        assert!(matches!(
            only_low.apply(&mut f, &used_high, crate::new_id),
            Err(DomainError::Conflict(_))
        ));
        assert_eq!(f, base, "a refused patch changes nothing");
        let used_low = FieldUsage { values: 1, options_in_use: [low].into() };
        only_low.apply(&mut f, &used_low, crate::new_id).unwrap();
        assert_eq!(f.options, vec![SelectOption { id: low, label: "Low".into() }]);

        let to_text =
            CustomFieldPatch { field_type: Some(CustomFieldType::Text), ..Default::default() };
        let mut f = base.clone();
        assert!(matches!(
            to_text.apply(&mut f, &used_low, crate::new_id),
            Err(DomainError::Conflict(_))
        ));
        to_text.apply(&mut f, &FieldUsage::default(), crate::new_id).unwrap();
        assert_eq!(f.field_type, CustomFieldType::Text);
        assert!(f.options.is_empty(), "leaving Select drops the options");
        // The same type again is no change, even with values.
        let same =
            CustomFieldPatch { field_type: Some(CustomFieldType::Text), ..Default::default() };
        same.apply(&mut f, &FieldUsage { values: 3, ..Default::default() }, crate::new_id).unwrap();
    }

    #[test]
    fn patches_check_options_against_the_resulting_type() {
        let mut text = field(CustomFieldType::Text, &[]);
        let to_select =
            CustomFieldPatch { field_type: Some(CustomFieldType::Select), ..Default::default() };
        assert!(matches!(
            to_select.apply(&mut text.clone(), &FieldUsage::default(), crate::new_id),
            Err(DomainError::Invalid(_))
        ));
        let with_options =
            CustomFieldPatch { options: Some(vec![OptionEdit::Label("A".into())]), ..to_select };
        with_options.apply(&mut text, &FieldUsage::default(), crate::new_id).unwrap();
        assert_eq!(text.field_type, CustomFieldType::Select);
        assert_eq!(text.options.len(), 1);

        let mut number = field(CustomFieldType::Number, &[]);
        let options_on_number = CustomFieldPatch {
            options: Some(vec![OptionEdit::Label("A".into())]),
            ..Default::default()
        };
        assert!(options_on_number
            .apply(&mut number, &FieldUsage::default(), crate::new_id)
            .is_err());

        let mut select = field(CustomFieldType::Select, &["Low"]);
        let low = select.options[0].id;
        for bad in [
            vec![],
            vec![OptionEdit::Existing { id: Uuid::from_u128(99), label: "X".into() }],
            vec![
                OptionEdit::Existing { id: low, label: "A".into() },
                OptionEdit::Existing { id: low, label: "B".into() },
            ],
            vec![
                OptionEdit::Existing { id: low, label: "Renamed".into() },
                OptionEdit::Label("low".into()),
            ],
        ] {
            let patch = CustomFieldPatch { options: Some(bad.clone()), ..Default::default() };
            assert!(
                matches!(
                    patch.apply(&mut select, &FieldUsage::default(), crate::new_id),
                    Err(DomainError::Invalid(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn shown_values_resolve_options_and_people() {
        let f = field(CustomFieldType::Select, &["Low", "High"]);
        let stored = CustomFieldValue {
            org_id: f.org_id,
            work_app_id: Uuid::from_u128(9),
            field_id: f.id,
            value: None,
            guid_value: Some(f.options[1].id),
            updated_at: Utc::now(),
        };
        assert_eq!(
            shown_value(&f, &stored, |_| None),
            (Some("High".into()), Some(f.options[1].id))
        );
        let person = field(CustomFieldType::Person, &[]);
        let user = Uuid::from_u128(42);
        let stored = CustomFieldValue { guid_value: Some(user), ..stored };
        assert_eq!(
            shown_value(&person, &stored, |id| (id == user).then(|| "ada@acme.example".into())),
            (Some("ada@acme.example".into()), Some(user))
        );
        let text = field(CustomFieldType::Text, &[]);
        let stored = CustomFieldValue { value: Some("hello".into()), guid_value: None, ..stored };
        assert_eq!(shown_value(&text, &stored, |_| None), (Some("hello".into()), None));
    }

    proptest! {
        #[test]
        fn checking_never_panics(raw in ".{0,64}", t in 0usize..7) {
            let _ = check_value(&field(CustomFieldType::ALL[t], &["A", "B"]), &raw);
        }

        #[test]
        fn finite_numbers_in_rust_notation_are_accepted(x in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let text = format!("{x}");
            prop_assert_eq!(accepts(CustomFieldType::Number, &text), CheckedValue::Text(text.clone()));
            let text = format!("{x:e}");
            prop_assert!(is_number(&text), "{}", text);
        }

        #[test]
        fn every_calendar_day_is_a_date(days in 0i64..200_000) {
            let day = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            prop_assert!(is_date(&day.format("%Y-%m-%d").to_string()));
            let at = day.and_hms_opt(12, 0, 0).unwrap().and_utc();
            prop_assert!(is_date(&at.to_rfc3339()));
        }

        #[test]
        fn a_select_value_resolves_to_the_same_option_by_label_or_by_id(pick in 0usize..5) {
            let f = field(CustomFieldType::Select, &["One", "Two", "Three", "Four", "Five"]);
            let option = &f.options[pick];
            let by_label = check_value(&f, &option.label.to_uppercase());
            prop_assert_eq!(&by_label, &Ok(CheckedValue::Option(option.id)));
            prop_assert_eq!(check_value(&f, &option.id.to_string()), by_label);
        }
    }
}
