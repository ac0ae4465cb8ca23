//! Discovery: what this service provider supports (RFC 7644 §4). Filled in from the domain's
//! schema definitions.
use axum::extract::Path;

use super::{BaseUrl, ScimJson};
use crate::error::ApiError;

pub async fn service_provider_config(BaseUrl(_base): BaseUrl) -> Result<ScimJson, ApiError> {
    Err(ApiError::not_found("todo"))
}
pub async fn resource_types(BaseUrl(_base): BaseUrl) -> Result<ScimJson, ApiError> {
    Err(ApiError::not_found("todo"))
}
pub async fn resource_type(
    BaseUrl(_base): BaseUrl,
    Path(_n): Path<String>,
) -> Result<ScimJson, ApiError> {
    Err(ApiError::not_found("todo"))
}
pub async fn schemas(BaseUrl(_base): BaseUrl) -> Result<ScimJson, ApiError> {
    Err(ApiError::not_found("todo"))
}
pub async fn schema(BaseUrl(_base): BaseUrl, Path(_n): Path<String>) -> Result<ScimJson, ApiError> {
    Err(ApiError::not_found("todo"))
}
