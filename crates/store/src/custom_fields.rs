//! Custom fields: an organization's definitions (with the options of `Select` fields) and the
//! values work apps hold.
use std::collections::HashMap;

use async_trait::async_trait;
use portcullis_domain::custom_fields::FieldUsage;
use portcullis_domain::{
    CustomField, CustomFieldId, CustomFieldType, CustomFieldValue, Page, PageRequest, SelectOption,
    WorkAppId,
};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_id, get_ts, id, id_array, opt_id, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, query_scalar, Db, Row};
use crate::StoreError;

const COLUMNS: &str = "id, org_id, name, field_type, required, created_at, updated_at";

const VALUE_COLUMNS: &str = "org_id, work_app_id, field_id, value, guid_value, updated_at";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Fills `options` of the fields with one query.
async fn attach_options(db: &mut Db, fields: &mut [CustomField]) -> Result<(), StoreError> {
    if fields.is_empty() {
        return Ok(());
    }
    let ids_1 = db.dialect().in_json_texts("$1");
    let rows = query(format!(
        "SELECT id, field_id, label FROM custom_field_options
         WHERE field_id IN {ids_1} ORDER BY field_id, position"
    ))
    .bind(id_array(fields.iter().map(|f| f.id)))
    .fetch_all(db)
    .await?;
    let mut options: HashMap<Uuid, Vec<SelectOption>> = HashMap::new();
    for row in &rows {
        options
            .entry(get_id(row, "field_id")?)
            .or_default()
            .push(SelectOption { id: get_id(row, "id")?, label: row.try_get("label")? });
    }
    for field in fields {
        field.options = options.remove(&field.id).unwrap_or_default();
    }
    Ok(())
}

/// Inserts the field, or updates the one with its id (never its organization or creation time),
/// and replaces its options (same ids, new labels and order): one statement for both.
async fn save_custom_field(db: &mut Db, field: &CustomField) -> Result<(), StoreError> {
    query(
        "INSERT INTO custom_fields (id, org_id, name, name_key, field_type, required, created_at,
                                    updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, name_key = excluded.name_key,
             field_type = excluded.field_type, required = excluded.required,
             updated_at = excluded.updated_at
         WHERE custom_fields.org_id = excluded.org_id",
    )
    .bind(field.id)
    .bind(field.org_id)
    .bind(&field.name)
    .bind(name_key(&field.name))
    .bind(field.field_type.name())
    .bind(field.required)
    .bind(field.created_at)
    .bind(field.updated_at)
    .execute(&mut *db)
    .await?;
    query("DELETE FROM custom_field_options WHERE org_id = $1 AND field_id = $2")
        .bind(field.org_id)
        .bind(field.id)
        .execute(&mut *db)
        .await?;
    let rows: Vec<(String, &str, usize)> =
        field.options.iter().enumerate().map(|(i, o)| (id(o.id), o.label.as_str(), i)).collect();
    query(format!(
        "INSERT INTO custom_field_options (id, org_id, field_id, label, position)
         SELECT value ->> 0, $1, $2, value ->> 1, CAST(value ->> 2 AS INTEGER) FROM {}",
        db.dialect().json_rows("$3")
    ))
    .bind(field.org_id)
    .bind(field.id)
    .bind(serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .execute(db)
    .await?;
    Ok(())
}

/// Reading custom fields and work apps' values.
#[async_trait]
pub trait CustomFieldReads: Send {
    /// The organization's fields, oldest first, with their options.
    async fn list_custom_fields(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<CustomField>, StoreError>;
    /// The fields of the organization among `ids`, by id.
    async fn get_custom_fields(
        &mut self,
        org_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<CustomField>, StoreError>;
    async fn count_custom_fields(&mut self, org_id: Uuid) -> Result<i64, StoreError>;
    /// How many work apps have a value for the field, and which options they chose.
    async fn custom_field_usage(
        &mut self,
        org_id: Uuid,
        field_id: CustomFieldId,
    ) -> Result<FieldUsage, StoreError>;
    /// Every value held by the given work apps, by app then field.
    async fn custom_field_values(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<Vec<CustomFieldValue>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> CustomFieldReads for S {
    async fn list_custom_fields(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<CustomField>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} FROM custom_fields
             WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(org_id)
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *db)
        .await?;
        let fields = rows.iter().map(decode_custom_field).collect::<Result<Vec<_>, _>>()?;
        let mut page = Page::from_overfetch(fields, page.limit, |f| f.id);
        attach_options(db, &mut page.items).await?;
        Ok(page)
    }

    async fn get_custom_fields(
        &mut self,
        org_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<CustomField>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let rows = query(format!(
            "SELECT {COLUMNS} FROM custom_fields WHERE org_id = $1 AND id IN {ids_2} ORDER BY id"
        ))
        .bind(org_id)
        .bind(id_array(ids.iter().copied()))
        .fetch_all(&mut *db)
        .await?;
        let mut fields = rows.iter().map(decode_custom_field).collect::<Result<Vec<_>, _>>()?;
        attach_options(db, &mut fields).await?;
        Ok(fields)
    }

    async fn count_custom_fields(&mut self, org_id: Uuid) -> Result<i64, StoreError> {
        query_scalar::<i64>("SELECT COUNT(*) FROM custom_fields WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(self.db())
            .await
    }

    async fn custom_field_usage(
        &mut self,
        org_id: Uuid,
        field_id: CustomFieldId,
    ) -> Result<FieldUsage, StoreError> {
        let rows = query(
            "SELECT guid_value, COUNT(*) AS n FROM custom_field_values
             WHERE org_id = $1 AND field_id = $2 GROUP BY guid_value",
        )
        .bind(org_id)
        .bind(field_id)
        .fetch_all(self.db())
        .await?;
        let mut usage = FieldUsage::default();
        for row in &rows {
            usage.values += row.try_get::<i64>("n")?;
            usage.options_in_use.extend(get_opt_id(row, "guid_value")?);
        }
        Ok(usage)
    }

    async fn custom_field_values(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<Vec<CustomFieldValue>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        query(format!(
            "SELECT {VALUE_COLUMNS} FROM custom_field_values
             WHERE org_id = $1 AND work_app_id IN {ids_2} ORDER BY work_app_id, field_id"
        ))
        .bind(org_id)
        .bind(id_array(app_ids.iter().copied()))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_custom_field_value)
        .collect()
    }
}

/// Changing custom fields and work apps' values.
#[async_trait]
pub trait CustomFieldWrites: Send {
    /// Inserts the field and its options. [`StoreError::Conflict`] when the name is taken.
    async fn insert_custom_field(&mut self, field: &CustomField) -> Result<(), StoreError>;
    /// Updates the field and replaces its options. [`StoreError::Conflict`] when the name is
    /// taken.
    async fn update_custom_field(&mut self, field: &CustomField) -> Result<(), StoreError>;
    /// Deletes the field, its options and every work app's value of it; returns how many values
    /// went (`None` when the organization has no such field).
    async fn delete_custom_field(
        &mut self,
        org_id: Uuid,
        field_id: CustomFieldId,
    ) -> Result<Option<u64>, StoreError>;
    /// Sets values (one per work app and field; an existing value is replaced).
    async fn upsert_custom_field_values(
        &mut self,
        values: &[CustomFieldValue],
    ) -> Result<(), StoreError>;
    /// Removes a work app's values of the given fields; returns how many there were.
    async fn delete_custom_field_values(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        field_ids: &[Uuid],
    ) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> CustomFieldWrites for S {
    async fn insert_custom_field(&mut self, field: &CustomField) -> Result<(), StoreError> {
        save_custom_field(self.db(), field).await
    }

    async fn update_custom_field(&mut self, field: &CustomField) -> Result<(), StoreError> {
        save_custom_field(self.db(), field).await
    }

    async fn delete_custom_field(
        &mut self,
        org_id: Uuid,
        field_id: CustomFieldId,
    ) -> Result<Option<u64>, StoreError> {
        let db = self.db();
        let values = query("DELETE FROM custom_field_values WHERE org_id = $1 AND field_id = $2")
            .bind(org_id)
            .bind(field_id)
            .execute(&mut *db)
            .await?
            .rows_affected();
        query("DELETE FROM custom_field_options WHERE org_id = $1 AND field_id = $2")
            .bind(org_id)
            .bind(field_id)
            .execute(&mut *db)
            .await?;
        let fields = query("DELETE FROM custom_fields WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(field_id)
            .execute(db)
            .await?
            .rows_affected();
        Ok((fields > 0).then_some(values))
    }

    async fn upsert_custom_field_values(
        &mut self,
        values: &[CustomFieldValue],
    ) -> Result<(), StoreError> {
        if values.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let rows: Vec<(String, String, String, &Option<String>, Option<String>, String)> = values
            .iter()
            .map(|v| {
                (
                    id(v.org_id),
                    id(v.work_app_id),
                    id(v.field_id),
                    &v.value,
                    opt_id(v.guid_value),
                    ts(v.updated_at),
                )
            })
            .collect();
        // `WHERE true` disambiguates SQLite's INSERT ... SELECT ... ON CONFLICT grammar.
        query(format!(
            "INSERT INTO custom_field_values ({VALUE_COLUMNS})
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5
             FROM {} AS t WHERE true
             ON CONFLICT (work_app_id, field_id) DO UPDATE SET
                 value = excluded.value, guid_value = excluded.guid_value,
                 updated_at = excluded.updated_at",
            db.dialect().json_rows("$1")
        ))
        .bind(serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_custom_field_values(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        field_ids: &[Uuid],
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        Ok(query(format!(
            "DELETE FROM custom_field_values
             WHERE org_id = $1 AND work_app_id = $2 AND field_id IN {ids_3}"
        ))
        .bind(org_id)
        .bind(app_id)
        .bind(id_array(field_ids.iter().copied()))
        .execute(db)
        .await?
        .rows_affected())
    }
}

pub(crate) fn decode_custom_field(row: &Row) -> Result<CustomField, StoreError> {
    let field_type: String = row.try_get("field_type")?;
    Ok(CustomField {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        field_type: stored_name::<CustomFieldType>("field_type", &field_type)?,
        required: row.try_get("required")?,
        options: Vec::new(),
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub(crate) fn decode_custom_field_value(row: &Row) -> Result<CustomFieldValue, StoreError> {
    Ok(CustomFieldValue {
        org_id: get_id(row, "org_id")?,
        work_app_id: get_id(row, "work_app_id")?,
        field_id: get_id(row, "field_id")?,
        value: row.try_get("value")?,
        guid_value: get_opt_id(row, "guid_value")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}
