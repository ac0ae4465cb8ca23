//! Discovery (RFC 7644 §4): what this service provider supports, and the schemas it publishes —
//! rendered from the domain's attribute definitions, the same ones that validate requests.
use axum::extract::Path;
use portcullis_domain::scim::schema::{ENTERPRISE_USER, GROUP_CORE, USER_CORE};
use portcullis_domain::scim::{AttrDef, SchemaDef};
use serde_json::{json, Value};

use super::{BaseUrl, ScimJson};
use crate::error::ApiError;
use portcullis_service::scim::MAX_PAGE;

const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const SCHEMAS: [&SchemaDef; 3] = [&USER_CORE, &ENTERPRISE_USER, &GROUP_CORE];

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub async fn service_provider_config(BaseUrl(base): BaseUrl) -> ScimJson {
    ScimJson::ok(json!({
        "schemas": [CONFIG_URN],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_PAGE },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM bearer token",
            "description": "The organization's SCIM token (POST /api/v1/ScimTokens or \
                            `portcullis scim-token create`) in Authorization: Bearer.",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    }))
}

fn resource_type_view(base: &str, name: &str) -> Option<Value> {
    let (endpoint, schema, extensions) = match name.to_ascii_lowercase().as_str() {
        "user" => (
            "/Users",
            USER_CORE.id,
            vec![json!({ "schema": ENTERPRISE_USER.id, "required": false })],
        ),
        "group" => ("/Groups", GROUP_CORE.id, vec![]),
        _ => return None,
    };
    let name = if endpoint == "/Users" { "User" } else { "Group" };
    Some(json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": format!("{name}s of the organization"),
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}") },
    }))
}

pub async fn resource_types(BaseUrl(base): BaseUrl) -> ScimJson {
    let types = ["User", "Group"].iter().filter_map(|n| resource_type_view(&base, n)).collect();
    ScimJson::ok(list(types))
}

pub async fn resource_type(
    BaseUrl(base): BaseUrl,
    Path(name): Path<String>,
) -> Result<ScimJson, ApiError> {
    resource_type_view(&base, &name)
        .map(ScimJson::ok)
        .ok_or_else(|| not_found(format!("Resource type {name} not found")))
}

fn attribute_view(attr: &AttrDef) -> Value {
    let mut view = json!({
        "name": attr.name,
        "type": attr.kind.as_str(),
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability.as_str(),
        "returned": attr.returned,
        "uniqueness": attr.uniqueness,
    });
    if !attr.canonical_values.is_empty() {
        view["canonicalValues"] = json!(attr.canonical_values);
    }
    if !attr.reference_types.is_empty() {
        view["referenceTypes"] = json!(attr.reference_types);
    }
    if !attr.sub_attributes.is_empty() {
        view["subAttributes"] =
            Value::Array(attr.sub_attributes.iter().map(attribute_view).collect());
    }
    view
}

fn schema_view(base: &str, schema: &SchemaDef) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_view).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{}", schema.id) },
    })
}

pub async fn schemas(BaseUrl(base): BaseUrl) -> ScimJson {
    ScimJson::ok(list(SCHEMAS.iter().map(|s| schema_view(&base, s)).collect()))
}

pub async fn schema(BaseUrl(base): BaseUrl, Path(id): Path<String>) -> Result<ScimJson, ApiError> {
    SCHEMAS
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(&id))
        .map(|s| ScimJson::ok(schema_view(&base, s)))
        .ok_or_else(|| not_found(format!("Schema {id} not found")))
}

fn not_found(detail: String) -> ApiError {
    ApiError::not_found(detail)
}
