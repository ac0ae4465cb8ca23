//! `/scim/v2/Users` and `/scim/v2/Groups`: list (filter, paging, attribute selection), create,
//! read, replace, patch and delete.
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use portcullis_domain::directory::ENTERPRISE_USER;
use portcullis_domain::scim::{
    normalize_resource, parse_attribute_list, parse_filter, parse_patch_request,
    project_attributes, AttrPath, ResourceSchema, GROUP, USER,
};
use portcullis_domain::{ScimGroup, ScimUser};
use portcullis_service::scim::{group_document, user_document};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{scim_error, BaseUrl, ScimBody, ScimCaller, ScimJson};
use crate::error::ApiError;
use crate::AppState;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The query parameters of a list (RFC 7644 §3.4.2); any other parameter is refused, so a
/// misspelt filter never silently lists everyone.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// `attributes` / `excludedAttributes` of a read (RFC 7644 §3.9).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadQuery {
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

fn parse_query<T: Default + serde::de::DeserializeOwned>(
    raw: Option<String>,
) -> Result<T, ApiError> {
    match raw.filter(|q| !q.is_empty()) {
        None => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(&q).map_err(|e| {
            scim_error(
                StatusCode::BAD_REQUEST,
                "invalidValue",
                format!("Bad query parameters: {e}"),
            )
        }),
    }
}

fn integer(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                scim_error(
                    StatusCode::BAD_REQUEST,
                    "invalidValue",
                    format!("{name} must be an integer"),
                )
            })
        })
        .transpose()
}

/// Attribute selection, parsed once.
struct Selection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Selection {
    fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self {
            attributes: attributes.map(parse_attribute_list).transpose()?.unwrap_or_default(),
            excluded: excluded.map(parse_attribute_list).transpose()?.unwrap_or_default(),
        })
    }

    fn apply(&self, resource: Value, schema: &ResourceSchema) -> Value {
        if self.attributes.is_empty() && self.excluded.is_empty() {
            return resource;
        }
        project_attributes(&resource, &self.attributes, &self.excluded, schema)
    }

    /// Are a group's members wanted? Entra ID asks for groups with `excludedAttributes=members`
    /// precisely so that large groups are cheap to read.
    fn wants_members(&self) -> bool {
        let named = |list: &[AttrPath]| list.iter().any(|p| p.attr.eq_ignore_ascii_case("members"));
        if !self.attributes.is_empty() {
            return named(&self.attributes);
        }
        !named(&self.excluded)
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn render_user(base: &str, su: &ScimUser) -> Value {
    let mut doc = user_document(su);
    let mut schemas = vec![json!(USER_URN)];
    if doc.contains_key(ENTERPRISE_USER) {
        schemas.push(json!(ENTERPRISE_USER));
    }
    let id = su.user.id.to_string();
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(id));
    out.append(&mut doc);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": timestamp(su.user.created_at),
            "lastModified": timestamp(su.user.updated_at),
            "location": format!("{base}/Users/{id}"),
        }),
    );
    Value::Object(out)
}

fn render_group(base: &str, sg: &ScimGroup) -> Value {
    let mut doc = group_document(sg);
    if let Some(members) = doc.get_mut("members").and_then(Value::as_array_mut) {
        for member in members.iter_mut() {
            let reference = member["value"].as_str().map(|id| format!("{base}/Users/{id}"));
            if let (Some(m), Some(reference)) = (member.as_object_mut(), reference) {
                m.insert("$ref".into(), json!(reference));
            }
        }
    }
    let id = sg.group.id.to_string();
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_URN]));
    out.insert("id".into(), json!(id));
    out.append(&mut doc);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": timestamp(sg.group.created_at),
            "lastModified": timestamp(sg.group.updated_at),
            "location": format!("{base}/Groups/{id}"),
        }),
    );
    Value::Object(out)
}

fn list_response(total: i64, start: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The filter, page and selection of a list request.
struct ListRequest {
    filter: Option<portcullis_domain::scim::Filter>,
    start_index: Option<i64>,
    count: Option<i64>,
    selection: Selection,
}

fn list_request(raw: Option<String>) -> Result<ListRequest, ApiError> {
    let q: ListQuery = parse_query(raw)?;
    Ok(ListRequest {
        filter: q.filter.as_deref().map(parse_filter).transpose()?,
        start_index: integer("startIndex", q.start_index.as_deref())?,
        count: integer("count", q.count.as_deref())?,
        selection: Selection::parse(q.attributes.as_deref(), q.excluded_attributes.as_deref())?,
    })
}

const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The body of `POST /Users/.search` (RFC 7644 §3.4.3): the list parameters, in JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchRequest {
    schemas: Vec<String>,
    attributes: Option<Vec<String>>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<Vec<String>>,
    filter: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<i64>,
    count: Option<i64>,
}

fn search_request(body: Value) -> Result<ListRequest, ApiError> {
    let search: SearchRequest = serde_json::from_value(body).map_err(|e| {
        scim_error(StatusCode::BAD_REQUEST, "invalidSyntax", format!("Bad SearchRequest: {e}"))
    })?;
    if !search.schemas.iter().any(|s| s == SEARCH_URN) {
        return Err(scim_error(
            StatusCode::BAD_REQUEST,
            "invalidSyntax",
            format!("schemas must include {SEARCH_URN}"),
        ));
    }
    let joined = |list: Option<Vec<String>>| list.map(|l| l.join(","));
    Ok(ListRequest {
        filter: search.filter.as_deref().map(parse_filter).transpose()?,
        start_index: search.start_index,
        count: search.count,
        selection: Selection::parse(
            joined(search.attributes).as_deref(),
            joined(search.excluded_attributes).as_deref(),
        )?,
    })
}

fn read_selection(raw: Option<String>) -> Result<Selection, ApiError> {
    let q: ReadQuery = parse_query(raw)?;
    Selection::parse(q.attributes.as_deref(), q.excluded_attributes.as_deref())
}

fn resource_body(body: &Value, schema: &ResourceSchema) -> Result<Map<String, Value>, ApiError> {
    Ok(normalize_resource(body, schema)?)
}

// ---- users ------------------------------------------------------------------------------

pub async fn list_users(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<ScimJson, ApiError> {
    users_page(&state, &ctx, &base, list_request(raw)?).await
}

pub async fn search_users(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    users_page(&state, &ctx, &base, search_request(body)?).await
}

async fn users_page(
    state: &AppState,
    ctx: &portcullis_service::Ctx,
    base: &str,
    req: ListRequest,
) -> Result<ScimJson, ApiError> {
    let page =
        state.service.scim_users(ctx, req.filter.as_ref(), req.start_index, req.count).await?;
    let resources =
        page.resources.iter().map(|u| req.selection.apply(render_user(base, u), &USER)).collect();
    Ok(ScimJson::ok(list_response(page.total, req.start_index.unwrap_or(1).max(1), resources)))
}

pub async fn get_user(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<ScimJson, ApiError> {
    let selection = read_selection(raw)?;
    let user = state.service.scim_user(&ctx, &id).await?;
    Ok(ScimJson::ok(selection.apply(render_user(&base, &user), &USER)))
}

pub async fn create_user(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let doc = resource_body(&body, &USER)?;
    let user = state.service.scim_create_user(&ctx, doc).await?;
    Ok(ScimJson { status: StatusCode::CREATED, body: render_user(&base, &user) })
}

pub async fn replace_user(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let doc = resource_body(&body, &USER)?;
    let user = state.service.scim_replace_user(&ctx, &id, doc).await?;
    Ok(ScimJson::ok(render_user(&base, &user)))
}

pub async fn patch_user(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let ops = parse_patch_request(&body)?;
    let user = state.service.scim_patch_user(&ctx, &id, &ops).await?;
    Ok(ScimJson::ok(render_user(&base, &user)))
}

pub async fn delete_user(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.scim_delete_user(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- groups -----------------------------------------------------------------------------

pub async fn list_groups(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<ScimJson, ApiError> {
    groups_page(&state, &ctx, &base, list_request(raw)?).await
}

pub async fn search_groups(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    groups_page(&state, &ctx, &base, search_request(body)?).await
}

async fn groups_page(
    state: &AppState,
    ctx: &portcullis_service::Ctx,
    base: &str,
    req: ListRequest,
) -> Result<ScimJson, ApiError> {
    let members = req.selection.wants_members();
    let page = state
        .service
        .scim_groups(ctx, req.filter.as_ref(), req.start_index, req.count, members)
        .await?;
    let resources =
        page.resources.iter().map(|g| req.selection.apply(render_group(base, g), &GROUP)).collect();
    Ok(ScimJson::ok(list_response(page.total, req.start_index.unwrap_or(1).max(1), resources)))
}

pub async fn get_group(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<ScimJson, ApiError> {
    let selection = read_selection(raw)?;
    let group = state.service.scim_group(&ctx, &id, selection.wants_members()).await?;
    Ok(ScimJson::ok(selection.apply(render_group(&base, &group), &GROUP)))
}

pub async fn create_group(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let doc = resource_body(&body, &GROUP)?;
    let group = state.service.scim_create_group(&ctx, doc).await?;
    Ok(ScimJson { status: StatusCode::CREATED, body: render_group(&base, &group) })
}

pub async fn replace_group(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let doc = resource_body(&body, &GROUP)?;
    let group = state.service.scim_replace_group(&ctx, &id, doc).await?;
    Ok(ScimJson::ok(render_group(&base, &group)))
}

pub async fn patch_group(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let ops = parse_patch_request(&body)?;
    let group = state.service.scim_patch_group(&ctx, &id, &ops).await?;
    Ok(ScimJson::ok(render_group(&base, &group)))
}

pub async fn delete_group(
    State(state): State<AppState>,
    ScimCaller(ctx): ScimCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.scim_delete_group(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /.search` across resource types is not offered (RFC 7644 §3.4.3 makes it optional):
/// search one type with `POST /Users/.search` or `POST /Groups/.search`.
pub async fn search_all(ScimCaller(_ctx): ScimCaller) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "Searching several resource types at once is not supported: use POST /Users/.search or \
         POST /Groups/.search",
    );
    error.scim_type = None;
    error
}
