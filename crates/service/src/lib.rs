//! Use cases: one function per operation. Each checks authorisation, applies the domain rules and
//! writes its change together with its audit event in one store transaction.

mod access_reviews;
mod assistant;
mod auth;
mod cache;
mod console;
mod context;
mod credentials;
mod crypto;
mod custom_fields;
mod error;
mod groups;
mod jml;
mod notifications;
mod oauth;
mod organizations;
mod policies;
mod requests;
pub mod scim;
pub mod secrets;
mod sessions;
mod sso;
mod users;
mod webhooks;
mod work_apps;
pub mod workspaces;

use std::sync::Arc;

use portcullis_domain::{AuditAction, AuditEvent, Clock};
use portcullis_store::prelude::*;

pub use access_reviews::AccessReviewDetails;
pub use assistant::{AppHolders, MyReviewItem, UserWithAccesses, MAX_ASSISTANT_ITEMS};
pub use context::{Actor, ActorKind, Ctx};
pub use credentials::{IssuedCredential, IssuedToken};
pub use crypto::SecretBox;
pub use custom_fields::{AppFieldValue, FieldValueChange};
pub use error::ServiceError;
pub use groups::{AddMembersOutcome, GroupPatch, RemoveMembersOutcome};
pub use notifications::{
    NotificationConfig, NotificationJob, NotificationSettingsView, PreferenceView,
};
pub use oauth::{
    AuthorizationView, AuthorizeError, ClientCredentials, IssuedTokens, OAuthCaller,
    RegisteredClient, MAX_REGISTRATIONS_PER_HOUR,
};
pub use organizations::InitOutput;
pub use policies::{NewPolicy, PolicyPatch};
pub use portcullis_domain::workapp::{NewWorkApp, WorkAppPatch, DEFAULT_CATEGORY};
pub use portcullis_store::{AccessReviewFilter, DecisionFilter, ReviewItemFilter};
pub use portcullis_store::{AuditFilter, CommitStats, DeliveryJob};
pub use portcullis_store::{RequestFilter, TaskFilter};
pub use requests::{NewRequest, RequestDetails, TaskDetails};
pub use sessions::SessionConfig;
pub use sso::{ServerProvider, SsoChange, SsoSettings, SsoSignIn, SsoStart, SsoView};
pub use users::{NewUser, UserPatch};
pub use webhooks::{
    AttemptOutcome, CreatedSubscription, SendJob, WebhookSettings, WorkerStep,
    DEFAULT_MAX_WEBHOOKS_PER_ORG,
};
pub use work_apps::{GrantOutcome, NewPermissionLevel, WorkAppDetails};

/// The application: every operation Portcullis offers, over one store.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    secrets: SecretBox,
    credentials: cache::CredentialCache,
    sessions: SessionConfig,
    webhooks: Arc<WebhookSettings>,
    sso: Arc<sso::SsoRuntime>,
    notifications: Arc<NotificationConfig>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, secrets: SecretBox) -> Self {
        Self {
            store,
            clock,
            secrets,
            credentials: cache::CredentialCache::default(),
            sessions: SessionConfig::default(),
            webhooks: Arc::new(WebhookSettings::default()),
            sso: Arc::default(),
            notifications: Arc::new(NotificationConfig::default()),
        }
    }

    /// The same service with other webhook settings (egress policy, limits).
    pub fn with_webhook_settings(mut self, settings: WebhookSettings) -> Self {
        self.webhooks = Arc::new(settings);
        self
    }

    pub fn webhook_settings(&self) -> &WebhookSettings {
        &self.webhooks
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A write transaction holding the organization's lock: changes of one organization are
    /// serialized even across server processes (see `Tx::lock_org`).
    async fn write_tx(&self, org_id: uuid::Uuid) -> Result<Box<dyn WriteTx>, ServiceError> {
        let mut tx = self.store.write().await?;
        tx.lock_org(org_id).await?;
        Ok(tx)
    }

    /// Is the database reachable?
    pub async fn ready(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping().await?)
    }

    /// Appends an audit row inside the caller's transaction (so no change lands without its row),
    /// and, when the action is a webhook event type, the event into the outbox: the transactional
    /// outbox: no change without its events, no event without its change.
    async fn audit(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        change: Change,
    ) -> Result<(), ServiceError> {
        self.audit_many(tx, ctx, vec![change]).await
    }

    /// [`Service::audit`] for many changes at once: their audit rows, and the webhook events of
    /// those that are events, each written with one statement (bulk decisions, closing a
    /// campaign).
    async fn audit_many(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        changes: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut events = Vec::new();
        let mut rows = Vec::with_capacity(changes.len());
        for change in changes {
            if let Some(event_type) = change.action.event_type() {
                events.push(portcullis_domain::WebhookEvent {
                    id: portcullis_domain::new_id(),
                    org_id: ctx.actor.org_id,
                    event_type: event_type.name().to_string(),
                    occurred_at: now,
                    data: change.event_data().to_string(),
                });
            }
            rows.push(AuditEvent {
                id: portcullis_domain::new_id(),
                org_id: ctx.actor.org_id,
                occurred_at: now,
                actor: ctx.actor.audit_ref(),
                action: change.action.name().to_string(),
                target_type: change.target_type.to_string(),
                target_id: change.target_id,
                before: change.before.map(|v| v.to_string()),
                after: change.after.map(|v| v.to_string()),
                request_id: ctx.request_id.clone(),
                on_behalf_of: ctx.on_behalf_of,
                source: ctx.source.clone(),
            });
        }
        tx.insert_webhook_events(&events).await?;
        tx.insert_audit_events(&rows).await?;
        Ok(())
    }
}

/// What an audit row (and its webhook event, if any) records about one change.
struct Change {
    action: AuditAction,
    target_type: &'static str,
    target_id: Option<uuid::Uuid>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    /// The webhook event's `data`, when it is not derived from the snapshots.
    event: Option<serde_json::Value>,
}

impl Change {
    fn new(action: AuditAction, target_type: &'static str, target_id: uuid::Uuid) -> Self {
        Self {
            action,
            target_type,
            target_id: Some(target_id),
            before: None,
            after: None,
            event: None,
        }
    }

    fn event(mut self, data: serde_json::Value) -> Self {
        self.event = Some(data);
        self
    }

    /// The event's `data`: given explicitly, or the after (else before) snapshot with the target's
    /// id under `<targetType>Id` (e.g. `workAppId`, `requestId`).
    fn event_data(&self) -> serde_json::Value {
        if let Some(data) = &self.event {
            return data.clone();
        }
        let mut data = match self.after.as_ref().or(self.before.as_ref()) {
            Some(serde_json::Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        if let Some(id) = self.target_id {
            let key = match self.target_type {
                "work_app" => "workAppId",
                "request" => "requestId",
                "task" => "taskId",
                "users_group" => "usersGroupId",
                "workspace" => "workspaceId",
                "user" => "userId",
                "access_review" => "accessReviewId",
                _ => "targetId",
            };
            data.entry(key).or_insert_with(|| serde_json::json!(id));
        }
        serde_json::Value::Object(data)
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
