//! Custom fields: the organization's definitions, and the values work apps hold (set all at once
//! or not at all).
use std::collections::{HashMap, HashSet};

use portcullis_domain::custom_fields::{
    check_value, shown_value, CheckedValue, PersonRef, MAX_CUSTOM_FIELDS,
};
use portcullis_domain::{
    new_id, AuditAction, CustomField, CustomFieldId, CustomFieldPatch, CustomFieldType,
    CustomFieldValue, NewCustomField, Page, PageRequest, WorkAppId,
};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use crate::{Change, Ctx, Service, ServiceError};

/// A field with one work app's value, as Cakewalk's `WorkAppCustomFieldViewModelV1` shows it:
/// `value` is readable text (a `Select` option's label, a `Person`'s e-mail), `guid_value` the
/// option's or the user's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFieldValue {
    pub field: CustomField,
    pub value: Option<String>,
    pub guid_value: Option<Uuid>,
}

/// One entry of `PATCH /WorkApps/{id}/CustomFields`: a field and its new value (`None` removes
/// the app's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValueChange {
    pub field_id: Uuid,
    pub value: Option<String>,
}

fn snapshot(field: &CustomField) -> serde_json::Value {
    serde_json::json!({
        "name": field.name,
        "type": field.field_type.name(),
        "required": field.required,
        "options": field.options.iter()
            .map(|o| serde_json::json!({ "id": o.id, "label": o.label }))
            .collect::<Vec<_>>(),
    })
}

fn value_snapshot(value: Option<&CustomFieldValue>) -> serde_json::Value {
    match value {
        Some(v) => serde_json::json!({ "value": v.value, "guidValue": v.guid_value }),
        None => serde_json::Value::Null,
    }
}

fn name_taken(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("a custom field named '{name}' already exists"))
}

/// The e-mails of the users that `Person` values among `values` name, by user id.
async fn person_emails(
    tx: &mut dyn ReadTx,
    org_id: Uuid,
    fields: &[CustomField],
    values: &[CustomFieldValue],
) -> Result<HashMap<Uuid, String>, ServiceError> {
    let person_fields: HashSet<Uuid> =
        fields.iter().filter(|f| f.field_type == CustomFieldType::Person).map(|f| f.id).collect();
    let people: Vec<Uuid> = values
        .iter()
        .filter(|v| person_fields.contains(&v.field_id))
        .filter_map(|v| v.guid_value)
        .collect();
    if people.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tx.get_users(org_id, &people).await?.into_iter().map(|u| (u.id, u.email)).collect())
}

/// Every field of `fields` with the value one app holds for it among `values` (`None` when it
/// holds none).
fn with_values(
    fields: Vec<CustomField>,
    values: &[CustomFieldValue],
    emails: &HashMap<Uuid, String>,
) -> Vec<AppFieldValue> {
    let stored: HashMap<Uuid, &CustomFieldValue> = values.iter().map(|v| (v.field_id, v)).collect();
    fields
        .into_iter()
        .map(|field| {
            let (value, guid_value) = match stored.get(&field.id) {
                Some(v) => shown_value(&field, v, |user| emails.get(&user).cloned()),
                None => (None, None),
            };
            AppFieldValue { field, value, guid_value }
        })
        .collect()
}

impl Service {
    async fn custom_field_in_org(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        field_id: Uuid,
    ) -> Result<CustomField, ServiceError> {
        tx.get_custom_fields(ctx.org_id(), &[field_id])
            .await?
            .pop()
            .ok_or_else(|| ServiceError::not_found("custom field", field_id))
    }

    /// The organization's custom fields, oldest first.
    pub async fn list_custom_fields(
        &self,
        ctx: &Ctx,
        page: PageRequest,
    ) -> Result<Page<CustomField>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_custom_fields(ctx.org_id(), page).await?)
    }

    pub async fn get_custom_field(
        &self,
        ctx: &Ctx,
        field_id: Uuid,
    ) -> Result<CustomField, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.custom_field_in_org(&mut *tx, ctx, field_id).await
    }

    /// Defines a field (at most [`MAX_CUSTOM_FIELDS`] per organization).
    pub async fn create_custom_field(
        &self,
        ctx: &Ctx,
        new: NewCustomField,
    ) -> Result<CustomField, ServiceError> {
        ctx.actor.require_org_admin()?;
        let field = new.build(new_id(), ctx.org_id(), self.clock.now(), new_id)?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        if tx.count_custom_fields(ctx.org_id()).await? >= MAX_CUSTOM_FIELDS as i64 {
            return Err(ServiceError::Conflict(format!(
                "an organization may define at most {MAX_CUSTOM_FIELDS} custom fields; delete \
                 one first"
            )));
        }
        match tx.insert_custom_field(&field).await {
            Err(StoreError::Conflict(_)) => return Err(name_taken(&field.name)),
            other => other?,
        }
        let change = Change::new(AuditAction::CustomFieldCreated, "custom_field", field.id)
            .after(snapshot(&field));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(field)
    }

    /// Renames, (un)requires, retypes (only while no app has a value) or edits the options of a
    /// field; see [`CustomFieldPatch`].
    pub async fn update_custom_field(
        &self,
        ctx: &Ctx,
        field_id: Uuid,
        patch: CustomFieldPatch,
    ) -> Result<CustomField, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = self.custom_field_in_org(&mut *tx, ctx, field_id).await?;
        let usage = tx.custom_field_usage(ctx.org_id(), CustomFieldId(field_id)).await?;
        let mut field = before.clone();
        patch.apply(&mut field, &usage, new_id)?;
        if field != before {
            field.updated_at = self.clock.now();
            match tx.update_custom_field(&field).await {
                Err(StoreError::Conflict(_)) => return Err(name_taken(&field.name)),
                other => other?,
            }
            let change = Change::new(AuditAction::CustomFieldUpdated, "custom_field", field.id)
                .before(snapshot(&before))
                .after(snapshot(&field));
            self.audit(&mut *tx, ctx, change).await?;
        }
        tx.commit().await?;
        Ok(field)
    }

    /// Deletes a field with every work app's value of it, in one transaction.
    pub async fn delete_custom_field(&self, ctx: &Ctx, field_id: Uuid) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let field = self.custom_field_in_org(&mut *tx, ctx, field_id).await?;
        let removed = tx
            .delete_custom_field(ctx.org_id(), CustomFieldId(field_id))
            .await?
            .ok_or_else(|| ServiceError::not_found("custom field", field_id))?;
        let mut before = snapshot(&field);
        before["valuesRemoved"] = serde_json::json!(removed);
        let change =
            Change::new(AuditAction::CustomFieldDeleted, "custom_field", field.id).before(before);
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of the organization's fields, each with the app's value (or none).
    async fn app_field_page(
        &self,
        tx: &mut dyn ReadTx,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<AppFieldValue>, ServiceError> {
        let fields = tx.list_custom_fields(org_id, page).await?;
        let values = tx.custom_field_values(org_id, &[app_id]).await?;
        let emails = person_emails(tx, org_id, &fields.items, &values).await?;
        let items = with_values(fields.items, &values, &emails);
        Ok(Page { items, next_after: fields.next_after })
    }

    /// `GET /api/v1/WorkApps/{id}/CustomFields`: every field of the organization, with the app's
    /// value where it has one.
    pub async fn list_app_custom_fields(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<AppFieldValue>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.app_in_org(&mut *tx, ctx, app_id).await?;
        self.app_field_page(&mut *tx, ctx.org_id(), app_id, page).await
    }

    /// The fields the apps have a value for, by app (for the work app views).
    pub(crate) async fn apps_custom_fields(
        &self,
        tx: &mut dyn ReadTx,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<AppFieldValue>>, ServiceError> {
        let values = tx.custom_field_values(org_id, app_ids).await?;
        if values.is_empty() {
            return Ok(HashMap::new());
        }
        let field_ids: HashSet<Uuid> = values.iter().map(|v| v.field_id).collect();
        let field_ids: Vec<Uuid> = field_ids.into_iter().collect();
        let fields = tx.get_custom_fields(org_id, &field_ids).await?;
        let emails = person_emails(tx, org_id, &fields, &values).await?;
        let mut by_app: HashMap<Uuid, Vec<CustomFieldValue>> = HashMap::new();
        for value in values {
            by_app.entry(value.work_app_id).or_default().push(value);
        }
        Ok(by_app
            .into_iter()
            .map(|(app_id, values)| {
                let held: HashSet<Uuid> = values.iter().map(|v| v.field_id).collect();
                let mine: Vec<CustomField> =
                    fields.iter().filter(|f| held.contains(&f.id)).cloned().collect();
                (app_id, with_values(mine, &values, &emails))
            })
            .collect())
    }

    /// `PATCH /api/v1/WorkApps/{id}/CustomFields`: sets (or, with `None`, removes) the app's
    /// values of the named fields. Every entry is checked before anything is written, and all are
    /// written in one transaction: one bad entry changes nothing. Answers every field of the
    /// organization with the app's values after the change.
    pub async fn set_app_custom_fields(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        changes: &[FieldValueChange],
    ) -> Result<Page<AppFieldValue>, ServiceError> {
        ctx.actor.require_org_admin()?;
        if changes.len() > MAX_CUSTOM_FIELDS {
            return Err(ServiceError::Invalid(format!(
                "customFields may name at most {MAX_CUSTOM_FIELDS} fields (got {})",
                changes.len()
            )));
        }
        let now = self.clock.now();
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        self.app_in_org(&mut *tx, ctx, app_id).await?;
        let ids: Vec<Uuid> = changes.iter().map(|c| c.field_id).collect();
        let fields: HashMap<Uuid, CustomField> =
            tx.get_custom_fields(org_id, &ids).await?.into_iter().map(|f| (f.id, f)).collect();

        // 1. Each entry on its own: a known field, no repeats, a value of the field's type.
        let mut seen = HashSet::with_capacity(changes.len());
        let mut checked: Vec<(usize, &CustomField, Option<CheckedValue>)> = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            let at = |msg: String| format!("customFields[{i}]: {msg}");
            if !seen.insert(change.field_id) {
                return Err(ServiceError::Invalid(at(format!(
                    "custom field {} is listed twice",
                    change.field_id
                ))));
            }
            let field = fields.get(&change.field_id).ok_or_else(|| {
                ServiceError::NotFound(at(format!("custom field {} not found", change.field_id)))
            })?;
            let value = match &change.value {
                None if field.required => {
                    return Err(ServiceError::Invalid(at(format!(
                        "custom field '{}' is required: its value cannot be removed",
                        field.name
                    ))))
                }
                None => None,
                Some(raw) => Some(
                    check_value(field, raw)
                        .map_err(|e| ServiceError::Invalid(at(e.to_string())))?,
                ),
            };
            checked.push((i, field, value));
        }

        // 2. People named by id or e-mail must be users of the organization.
        let person_ids: Vec<Uuid> = checked
            .iter()
            .filter_map(|(_, _, v)| match v {
                Some(CheckedValue::Person(PersonRef::Id(id))) => Some(*id),
                _ => None,
            })
            .collect();
        let known_ids: HashSet<Uuid> = if person_ids.is_empty() {
            HashSet::new()
        } else {
            tx.get_users(org_id, &person_ids).await?.into_iter().map(|u| u.id).collect()
        };
        let mut wanted: Vec<CustomFieldValue> = Vec::new();
        let mut removed: Vec<Uuid> = Vec::new();
        for (i, field, value) in checked {
            let (text, guid) = match value {
                None => {
                    removed.push(field.id);
                    continue;
                }
                Some(CheckedValue::Text(text)) => (Some(text), None),
                Some(CheckedValue::Option(option)) => (None, Some(option)),
                Some(CheckedValue::Person(person)) => {
                    let user = match &person {
                        PersonRef::Id(id) => known_ids.contains(id).then_some(*id),
                        PersonRef::Email(email) => tx
                            .find_users_by_email(email)
                            .await?
                            .into_iter()
                            .find(|u| u.org_id == org_id)
                            .map(|u| u.id),
                    };
                    let user = user.ok_or_else(|| {
                        let named = match person {
                            PersonRef::Id(id) => id.to_string(),
                            PersonRef::Email(email) => email,
                        };
                        ServiceError::Invalid(format!(
                            "customFields[{i}]: the value of '{}' must be a user of the \
                             organization; there is no user {named}",
                            field.name
                        ))
                    })?;
                    (None, Some(user))
                }
            };
            wanted.push(CustomFieldValue {
                org_id,
                work_app_id: app_id,
                field_id: field.id,
                value: text,
                guid_value: guid,
                updated_at: now,
            });
        }

        // 3. Write what differs from the stored values, with one audit row for the call.
        let current: HashMap<Uuid, CustomFieldValue> = tx
            .custom_field_values(org_id, &[app_id])
            .await?
            .into_iter()
            .map(|v| (v.field_id, v))
            .collect();
        let upserts: Vec<CustomFieldValue> = wanted
            .into_iter()
            .filter(|v| {
                current
                    .get(&v.field_id)
                    .is_none_or(|c| (&c.value, c.guid_value) != (&v.value, v.guid_value))
            })
            .collect();
        removed.retain(|field_id| current.contains_key(field_id));
        if !upserts.is_empty() || !removed.is_empty() {
            tx.upsert_custom_field_values(&upserts).await?;
            tx.delete_custom_field_values(org_id, WorkAppId(app_id), &removed).await?;
            let touched = upserts.iter().map(|v| v.field_id).chain(removed.iter().copied());
            let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
            for field_id in touched {
                let key = field_id.to_string();
                before.insert(key.clone(), value_snapshot(current.get(&field_id)));
                after.insert(key, value_snapshot(upserts.iter().find(|v| v.field_id == field_id)));
            }
            let change = Change::new(AuditAction::WorkAppCustomFieldsChanged, "work_app", app_id)
                .before(serde_json::Value::Object(before))
                .after(serde_json::Value::Object(after));
            self.audit(&mut *tx, ctx, change).await?;
        }
        let page = self.app_field_page(&mut *tx, org_id, app_id, PageRequest::first()).await?;
        tx.commit().await?;
        Ok(page)
    }
}
