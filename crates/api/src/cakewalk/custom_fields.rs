//! Custom fields: `/api/v1/CustomFields` (the organization's definitions, an extension in the
//! Cakewalk style) and Cakewalk's `/api/v1/WorkApps/{workAppId}/CustomFields` (a work app's
//! values).
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_domain::custom_fields::OptionEdit;
use portcullis_domain::{CustomField, CustomFieldPatch, CustomFieldType, NewCustomField};
use portcullis_service::{AppFieldValue, FieldValueChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{CursorQuery, List, Record};
use crate::bounded::BoundedVec;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::{ApiCaller, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use portcullis_domain::custom_fields::{MAX_CUSTOM_FIELDS, MAX_SELECT_OPTIONS};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_custom_fields, create_custom_field))
        .routes(routes!(get_custom_field, update_custom_field, delete_custom_field))
        .routes(routes!(list_work_app_custom_fields, update_work_app_custom_fields))
}

const CUSTOM_FIELDS: &str = "/api/v1/CustomFields";

fn app_fields_path(app_id: Uuid) -> String {
    format!("/api/v1/WorkApps/{app_id}/CustomFields")
}

/// One option of a `Select` field.
#[derive(Debug, Serialize, ToSchema)]
pub struct SelectOptionView {
    /// Stable across renames; a work app's `guidValue` for this option.
    pub id: Uuid,
    pub label: String,
}

/// A custom field definition (extension).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldView {
    pub id: Uuid,
    pub name: String,
    /// `Text`, `Number`, `Date`, `Boolean`, `Url`, `Select` or `Person`.
    #[serde(rename = "type")]
    pub field_type: &'static str,
    /// A work app's value of a required field cannot be removed.
    pub required: bool,
    /// The choices of a `Select` field, in order; empty for the other types.
    pub options: Vec<SelectOptionView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CustomField> for CustomFieldView {
    fn from(f: CustomField) -> Self {
        Self {
            id: f.id,
            name: f.name,
            field_type: f.field_type.name(),
            required: f.required,
            options: f
                .options
                .into_iter()
                .map(|o| SelectOptionView { id: o.id, label: o.label })
                .collect(),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// `WorkAppCustomFieldViewModelV1`: information about a custom field of a work app, including
/// its value. Closed: exactly these properties.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkAppCustomFieldView {
    /// Id of the custom field.
    pub id: Uuid,
    /// Name defined by the user for the custom field.
    #[schema(min_length = 1)]
    pub name: String,
    /// Custom field type: `Text`, `Number`, `Date`, `Boolean`, `Url`, `Select` or `Person`.
    #[serde(rename = "type")]
    #[schema(min_length = 1)]
    pub field_type: &'static str,
    /// Custom field is required to have a value.
    pub required: bool,
    /// Value for the work app's custom field: the text, the chosen option's label, or the
    /// person's e-mail; null when the app has none.
    pub value: Option<String>,
    /// The Guid the value resolves to: the chosen option's id (`Select`) or the person's user id
    /// (`Person`); null otherwise.
    pub guid_value: Option<Uuid>,
}

impl From<AppFieldValue> for WorkAppCustomFieldView {
    fn from(v: AppFieldValue) -> Self {
        Self {
            id: v.field.id,
            name: v.field.name,
            field_type: v.field.field_type.name(),
            required: v.field.required,
            value: v.value,
            guid_value: v.guid_value,
        }
    }
}

/// The `customFields` map of `WorkAppDetailedViewModelV1` (an object of objects of strings):
/// keyed by custom field id, for each field the app has a value for, `name`, `type`, `value` and,
/// for `Select` and `Person`, `guidValue`.
pub fn work_app_custom_fields(
    values: Vec<AppFieldValue>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    values
        .into_iter()
        .map(|v| {
            let mut entry = BTreeMap::from([
                ("name".to_string(), v.field.name),
                ("type".to_string(), v.field.field_type.name().to_string()),
            ]);
            if let Some(value) = v.value {
                entry.insert("value".into(), value);
            }
            if let Some(guid) = v.guid_value {
                entry.insert("guidValue".into(), guid.to_string());
            }
            (v.field.id.to_string(), entry)
        })
        .collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCustomFieldBody {
    /// 1–200 characters; unique per organization, case-insensitively.
    pub name: String,
    /// `Text`, `Number`, `Date`, `Boolean`, `Url`, `Select` or `Person` (case-insensitive).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Defaults to false.
    #[serde(default)]
    pub required: bool,
    /// Option labels, in order: required (1–100, unique case-insensitively) for `Select`, not
    /// allowed for the other types.
    #[schema(value_type = Option<Vec<String>>, max_items = 100)]
    pub options: Option<BoundedVec<String, MAX_SELECT_OPTIONS>>,
}

/// An entry of a `Select` field's new option list: a label (keeps the option with that label, or
/// adds one), or `{id, label}` (keeps that option under this label).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OptionEditBody {
    Label(String),
    Existing(ExistingOptionBody),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExistingOptionBody {
    pub id: Uuid,
    pub label: String,
}

/// Absent properties are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomFieldBody {
    pub name: Option<String>,
    /// Only while no work app has a value for the field (else 409). Changing to `Select` needs
    /// `options`; changing away drops them.
    #[serde(rename = "type")]
    pub field_type: Option<String>,
    /// Applies to later writes: apps without a value keep none.
    pub required: Option<bool>,
    /// `Select` only: the complete new option list, in order. An option left out is removed
    /// (409 while a work app has chosen it).
    #[schema(value_type = Option<Vec<OptionEditBody>>, max_items = 100)]
    pub options: Option<BoundedVec<OptionEditBody, MAX_SELECT_OPTIONS>>,
}

/// `UpdateCustomFieldForWorkAppRequestModelV1`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomFieldForWorkAppBody {
    /// Identifier of the custom field to update.
    pub id: Uuid,
    /// Value to update the custom field. A null (or absent) value removes the custom field value
    /// from the work app.
    #[serde(default)]
    pub value: Option<String>,
}

/// `UpdateCustomFieldsForWorkAppRequestModelV1`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomFieldsForWorkAppBody {
    /// List of custom field new values.
    #[schema(value_type = Vec<UpdateCustomFieldForWorkAppBody>, max_items = 100)]
    pub custom_fields: BoundedVec<UpdateCustomFieldForWorkAppBody, MAX_CUSTOM_FIELDS>,
}

fn parse_type(text: &str) -> Result<CustomFieldType, ApiError> {
    CustomFieldType::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Lists the organization's custom fields (extension), oldest first, 100 per page.
#[utoipa::path(
    get,
    path = "/api/v1/CustomFields",
    tag = "CustomFields",
    params(CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<CustomFieldView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
    )
)]
pub async fn list_custom_fields(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<CustomFieldView>>, ApiError> {
    let page = state.service.list_custom_fields(&ctx, query.page()?).await?;
    Ok(Json(List::from_page(page, CUSTOM_FIELDS, &query, CustomFieldView::from)))
}

/// Defines a custom field for the organization's work apps (extension); at most 100.
#[utoipa::path(
    post,
    path = "/api/v1/CustomFields",
    tag = "CustomFields",
    request_body = CreateCustomFieldBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 201, body = Record<CustomFieldView>),
        (status = 400, description = "Bad name or type; options missing on a Select field or given on another type", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 409, description = "The name is taken, or the organization has 100 fields", body = ProblemDetails),
    )
)]
pub async fn create_custom_field(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiJson(body): ApiJson<CreateCustomFieldBody>,
) -> Result<(StatusCode, Json<Record<CustomFieldView>>), ApiError> {
    let new = NewCustomField {
        name: body.name,
        field_type: parse_type(&body.field_type)?,
        required: body.required,
        options: body.options.map(BoundedVec::into_inner),
    };
    let field = state.service.create_custom_field(&ctx, new).await?;
    let link = format!("{CUSTOM_FIELDS}/{}", field.id);
    Ok((StatusCode::CREATED, Json(Record::new(field.into(), link))))
}

/// One custom field definition (extension).
#[utoipa::path(
    get,
    path = "/api/v1/CustomFields/{customFieldId}",
    tag = "CustomFields",
    params(("customFieldId" = Uuid, Path, description = "The custom field's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<CustomFieldView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn get_custom_field(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(field_id): ApiPath<Uuid>,
) -> Result<Json<Record<CustomFieldView>>, ApiError> {
    let field = state.service.get_custom_field(&ctx, field_id).await?;
    Ok(Json(Record::new(field.into(), format!("{CUSTOM_FIELDS}/{field_id}"))))
}

/// Changes a custom field (extension): rename, `required`, `options` of a Select field (kept by
/// id or label, added, renamed, removed), or `type` while no work app has a value for it.
#[utoipa::path(
    patch,
    path = "/api/v1/CustomFields/{customFieldId}",
    tag = "CustomFields",
    params(("customFieldId" = Uuid, Path, description = "The custom field's id")),
    request_body = UpdateCustomFieldBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = Record<CustomFieldView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
        (status = 409, description = "The name is taken; the type changes while work apps have values; a removed option is a work app's value", body = ProblemDetails),
    )
)]
pub async fn update_custom_field(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(field_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateCustomFieldBody>,
) -> Result<Json<Record<CustomFieldView>>, ApiError> {
    let patch = CustomFieldPatch {
        name: body.name,
        field_type: body.field_type.as_deref().map(parse_type).transpose()?,
        required: body.required,
        options: body.options.map(|edits| {
            edits
                .into_iter()
                .map(|edit| match edit {
                    OptionEditBody::Label(label) => OptionEdit::Label(label),
                    OptionEditBody::Existing(o) => {
                        OptionEdit::Existing { id: o.id, label: o.label }
                    }
                })
                .collect()
        }),
    };
    let field = state.service.update_custom_field(&ctx, field_id, patch).await?;
    Ok(Json(Record::new(field.into(), format!("{CUSTOM_FIELDS}/{field_id}"))))
}

/// Deletes a custom field (extension) and, in the same transaction, every work app's value of it.
#[utoipa::path(
    delete,
    path = "/api/v1/CustomFields/{customFieldId}",
    tag = "CustomFields",
    params(("customFieldId" = Uuid, Path, description = "The custom field's id")),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 204, description = "Deleted, with its values"),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn delete_custom_field(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(field_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_custom_field(&ctx, field_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Returns a paginated list of available Custom Fields for a specific Work App.
///
/// Every custom field of the organization, oldest first, with the app's value (null when unset).
#[utoipa::path(
    get,
    path = "/api/v1/WorkApps/{workAppId}/CustomFields",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The Work App's unique identifier."), CursorQuery),
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<WorkAppCustomFieldView>),
        (status = 400, body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    )
)]
pub async fn list_work_app_custom_fields(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<List<WorkAppCustomFieldView>>, ApiError> {
    let page = state.service.list_app_custom_fields(&ctx, app_id, query.page()?).await?;
    let path = app_fields_path(app_id);
    Ok(Json(List::from_page(page, &path, &query, WorkAppCustomFieldView::from)))
}

/// Updates the custom field values associated to a WorkApp. A null value removes the field.
///
/// Values are checked by the field's type (Number: a decimal number; Date: an ISO date or RFC
/// 3339 date-time; Boolean: true or false; Url: an absolute http(s) URL; Select: an option's
/// label or id; Person: a user id or e-mail of the organization). Every entry is checked first
/// and all are written in one transaction: one bad entry changes nothing. Answers 200 with every
/// custom field of the organization and the app's values after the change (the body `GET`
/// answers).
#[utoipa::path(
    patch,
    path = "/api/v1/WorkApps/{workAppId}/CustomFields",
    tag = "WorkApps",
    params(("workAppId" = Uuid, Path, description = "The Work App's unique identifier.")),
    request_body = UpdateCustomFieldsForWorkAppBody,
    security(("API Key" = [], "API Secret" = [])),
    responses(
        (status = 200, body = List<WorkAppCustomFieldView>),
        (status = 400, description = "A value that does not fit its field's type, null for a required field, a field listed twice, an unknown property", body = ProblemDetails),
        (status = 401, body = ProblemDetails),
        (status = 403, description = "Read-only API key", body = ProblemDetails),
        (status = 404, description = "Unknown work app or custom field", body = ProblemDetails),
    )
)]
pub async fn update_work_app_custom_fields(
    State(state): State<AppState>,
    ApiCaller(ctx): ApiCaller,
    ApiPath(app_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateCustomFieldsForWorkAppBody>,
) -> Result<Json<List<WorkAppCustomFieldView>>, ApiError> {
    let changes: Vec<FieldValueChange> = body
        .custom_fields
        .into_iter()
        .map(|e| FieldValueChange { field_id: e.id, value: e.value })
        .collect();
    let page = state.service.set_app_custom_fields(&ctx, app_id, &changes).await?;
    let path = app_fields_path(app_id);
    let query = CursorQuery { cursor: None };
    Ok(Json(List::from_page(page, &path, &query, WorkAppCustomFieldView::from)))
}
