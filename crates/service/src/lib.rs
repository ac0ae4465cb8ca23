//! Use cases: one function per operation. Each checks authorisation, applies the domain rules and
//! writes its change together with its audit event in one store transaction.

mod auth;
mod context;
mod credentials;
mod error;
mod groups;
mod organizations;
mod policies;
mod requests;
pub mod secrets;
mod users;
mod work_apps;
pub mod workspaces;

use std::sync::Arc;

use portcullis_domain::{AuditEvent, Clock};
use portcullis_store::{Store, Tx};

pub use context::{Actor, ActorKind, Ctx};
pub use credentials::{IssuedCredential, IssuedToken};
pub use error::ServiceError;
pub use groups::{AddMembersOutcome, GroupPatch};
pub use organizations::InitOutput;
pub use policies::{NewPolicy, PolicyPatch};
pub use portcullis_store::{RequestFilter, TaskFilter};
pub use requests::{NewRequest, RequestDetails, TaskDetails};
pub use users::{NewUser, UserPatch};
pub use work_apps::{
    GrantOutcome, NewPermissionLevel, NewWorkApp, WorkAppDetails, WorkAppPatch, DEFAULT_CATEGORY,
};

/// The application: every operation Portcullis offers, over one store.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Is the database reachable?
    pub async fn ready(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    /// Appends an audit row inside the caller's transaction (so no change lands without its row).
    async fn audit(&self, tx: &mut dyn Tx, ctx: &Ctx, change: Change) -> Result<(), ServiceError> {
        let event = AuditEvent {
            id: portcullis_domain::new_id(),
            org_id: ctx.actor.org_id,
            occurred_at: self.clock.now(),
            actor: ctx.actor.audit_ref(),
            action: change.action.to_string(),
            target_type: change.target_type.to_string(),
            target_id: change.target_id,
            before: change.before.map(|v| v.to_string()),
            after: change.after.map(|v| v.to_string()),
            request_id: ctx.request_id.clone(),
        };
        tx.insert_audit_event(&event).await?;
        Ok(())
    }
}

/// What an audit row records about one change.
struct Change {
    action: &'static str,
    target_type: &'static str,
    target_id: Option<uuid::Uuid>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

impl Change {
    fn new(action: &'static str, target_type: &'static str, target_id: uuid::Uuid) -> Self {
        Self { action, target_type, target_id: Some(target_id), before: None, after: None }
    }
    fn before(mut self, snapshot: serde_json::Value) -> Self {
        self.before = Some(snapshot);
        self
    }
    fn after(mut self, snapshot: serde_json::Value) -> Self {
        self.after = Some(snapshot);
        self
    }
}
