//! The Flashback-style API: `Authorization: Bearer <token>`, `{success, message?, ...}` bodies.

mod organization;
mod workspace;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(organization::routes()).merge(workspace::routes())
}
