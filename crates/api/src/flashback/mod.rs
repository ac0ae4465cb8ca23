//! The Flashback-style API: `Authorization: Bearer <token>`, `{success, message?, ...}` bodies.

mod organization;
mod user;
mod workspace;

use axum::Json;
use portcullis_domain::OrgRole;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(organization::routes())
        .merge(user::routes())
        .merge(workspace::routes())
}

/// `{success: true}`, with a message where the operation documents one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

impl Message {
    fn ok(message: &'static str) -> Json<Self> {
        Json(Self { success: true, message: Some(message) })
    }

    fn success() -> Json<Self> {
        Json(Self { success: true, message: None })
    }
}

/// Flashback ids are opaque strings: one that is not a uuid simply names nothing.
fn parse_id(raw: &str, not_found: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(not_found))
}

/// A numeric `orgRole` (0, 1, 2, 254, 255).
fn parse_org_role(number: i64) -> Result<OrgRole, ApiError> {
    OrgRole::from_flashback_number(number).ok_or_else(|| {
        ApiError::bad_request(format!(
            "orgRole {number} is not a role: expected 0 (USER), 1 (BILLING), 2 (WORKSPACES), \
             254 (ADMINISTRATORS) or 255 (OWNER)"
        ))
    })
}
