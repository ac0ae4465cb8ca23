//! The Flashback-style API: `Authorization: Bearer <token>`, `{success, message?, ...}` bodies.

mod organization;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(organization::routes())
}
