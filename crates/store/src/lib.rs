//! Storage: the [`Store`] trait and its implementations.
//!
//! The service layer only ever sees `dyn Store` / `dyn Tx`; each backend keeps its SQL and its
//! migrations in its own module.

mod access_reviews;
mod accesses;
mod audit;
mod console_sessions;
mod credentials;
mod custom_fields;
mod decode;
mod error;
mod group_commit;
mod groups;
mod lite;
mod migrations;
mod notifications;
mod oauth;
mod policies;
pub mod postgres;
mod requests;
mod scim;
mod session;
mod sql;
pub mod sqlite;
mod users;
mod webhooks;
mod work_apps;
mod workspaces;

pub use access_reviews::{AccessReviewReads, AccessReviewWrites};
pub use accesses::{AccessReads, AccessWrites};
pub use audit::{AuditReads, AuditWrites};
pub use console_sessions::{ConsoleSessionReads, ConsoleSessionWrites};
pub use credentials::{CredentialReads, CredentialWrites};
pub use custom_fields::{CustomFieldReads, CustomFieldWrites};
pub use group_commit::CommitStats;
pub use groups::{GroupReads, GroupWrites};
pub use notifications::{NotificationReads, NotificationWrites};
pub use oauth::{OAuthReads, OAuthWrites};
pub use policies::{PolicyReads, PolicyWrites};
pub use requests::{RequestReads, RequestWrites};
pub use scim::{ScimPage, ScimReads, ScimResource, ScimSqlFilter, ScimWrites};
pub use users::{UserReads, UserWrites};
pub use webhooks::{WebhookReads, WebhookWrites};
pub use work_apps::{WorkAppReads, WorkAppWrites};
pub use workspaces::{WorkspaceReads, WorkspaceWrites};

/// Every repository trait, for `use portcullis_store::prelude::*`.
pub mod prelude {
    pub use crate::{
        AccessReads, AccessReviewReads, AccessReviewWrites, AccessWrites, AuditReads, AuditWrites,
        ConsoleSessionReads, ConsoleSessionWrites, CredentialReads, CredentialWrites,
        CustomFieldReads, CustomFieldWrites, GroupReads, GroupWrites, NotificationReads,
        NotificationWrites, OAuthReads, OAuthWrites, PolicyReads, PolicyWrites, ReadTx,
        RequestReads, RequestWrites, ScimReads, ScimWrites, Store, UserReads, UserWrites,
        WebhookReads, WebhookWrites, WorkAppReads, WorkAppWrites, WorkspaceReads, WorkspaceWrites,
        WriteTx,
    };
}

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use portcullis_domain::{AccessReviewStatus, ReviewDecision};
use portcullis_domain::{Delivery, WebhookEvent};
use portcullis_domain::{RequestStatus, RequestType, TaskStatus};

/// The groups that list an app as default or hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppGroups {
    pub default_for: Vec<Uuid>,
    pub hidden_from: Vec<Uuid>,
}

/// Filters of the audit-log listing (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The credential or user that acted.
    pub actor_id: Option<Uuid>,
    /// The changed object.
    pub target_id: Option<Uuid>,
    /// An action (`user.created`) or a prefix of actions (`user`).
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// A leased delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    pub delivery: Delivery,
    /// The events the POST carries, in the order of its body.
    pub events: Vec<WebhookEvent>,
    /// The URL as stored: masked when `target_url_ciphertext` holds the real one.
    pub target_url: String,
    pub target_url_ciphertext: Option<Vec<u8>>,
    pub secret_ciphertext: Vec<u8>,
    pub subscription_failing_since: Option<DateTime<Utc>>,
}

/// Filters of the request listing (all optional, combined with AND).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub request_type: Option<RequestType>,
    pub target_user_id: Option<Uuid>,
    pub work_app_id: Option<Uuid>,
    /// Only requests last updated strictly after this time.
    pub updated_after: Option<DateTime<Utc>>,
}

/// Filters of the access review listing.
#[derive(Debug, Clone, Copy)]
pub struct AccessReviewFilter {
    /// The shown status: `Open` and `Overdue` are told apart by the due date at `now`.
    pub status: Option<AccessReviewStatus>,
    /// Only campaigns in which this user reviews items.
    pub reviewer_id: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Which decision an item has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionFilter {
    Undecided,
    /// Any decision.
    Decided,
    Is(ReviewDecision),
}

/// Filters of the access review item listing (all optional, combined with AND).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewItemFilter {
    /// Items this user reviews.
    pub reviewer_id: Option<Uuid>,
    pub decision: Option<DecisionFilter>,
    pub work_app_id: Option<Uuid>,
    /// Items about this user's access.
    pub user_id: Option<Uuid>,
    /// One item.
    pub item_id: Option<Uuid>,
}

/// Filters of the task listing (all optional, combined with AND).
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee_user_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
}
use uuid::Uuid;

pub use error::StoreError;

/// Opens the backend chosen by the URL (`sqlite:` or a plain file path).
pub async fn connect(database_url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if is_postgres(database_url) {
        return Ok(std::sync::Arc::new(postgres::PostgresStore::open(database_url, None).await?));
    }
    Ok(std::sync::Arc::new(sqlite::SqliteStore::open(database_url).await?))
}

/// Does the URL name a PostgreSQL database?
pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// A database: hands out read sessions and write transactions.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A session for reads that need no atomicity across statements.
    async fn read(&self) -> Result<Box<dyn ReadTx>, StoreError>;
    /// A write transaction. Nothing is visible to others until [`WriteTx::commit`]; dropping it
    /// rolls back.
    async fn write(&self) -> Result<Box<dyn WriteTx>, StoreError>;
    /// Is the database reachable?
    async fn ping(&self) -> Result<(), StoreError>;
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Writes made durable and the commits that did it, where writes share commits (SQLite).
    fn commit_stats(&self) -> Option<CommitStats> {
        None
    }
}

/// Everything a read session can do: the sum of the read traits.
///
/// Every method that reads tenant data takes the organization id: rows of another organization
/// are simply not found.
pub trait ReadTx:
    UserReads
    + CredentialReads
    + WorkAppReads
    + AccessReads
    + GroupReads
    + WorkspaceReads
    + PolicyReads
    + RequestReads
    + WebhookReads
    + AuditReads
    + CustomFieldReads
    + ConsoleSessionReads
    + AccessReviewReads
    + ScimReads
    + NotificationReads
    + OAuthReads
    + Send
{
}

/// A write transaction: every read, every write, commit and the organization lock.
#[async_trait]
pub trait WriteTx:
    ReadTx
    + UserWrites
    + CredentialWrites
    + WorkAppWrites
    + AccessWrites
    + GroupWrites
    + WorkspaceWrites
    + PolicyWrites
    + RequestWrites
    + WebhookWrites
    + AuditWrites
    + CustomFieldWrites
    + ConsoleSessionWrites
    + AccessReviewWrites
    + ScimWrites
    + NotificationWrites
    + OAuthWrites
{
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Serializes this write transaction with every other one of the organization (PostgreSQL:
    /// a transaction-scoped advisory lock; SQLite already has a single writer). Taken first, it
    /// makes read-check-write rules (last owner, last workspace admin, open requests) race-free
    /// across server processes.
    async fn lock_org(&mut self, org_id: Uuid) -> Result<(), StoreError>;
}
