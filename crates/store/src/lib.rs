//! Storage: the [`Store`] trait and its implementations.
//!
//! The service layer only ever sees `dyn Store` / `dyn Tx`; each backend keeps its SQL and its
//! migrations in its own module.

#[macro_use]
mod delegate;
mod decode;
mod embedded;
mod error;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use portcullis_domain::workapp::{GrantEntry, GrantFacts};
use portcullis_domain::{
    Access, AccessDetail, AccessSource, ApiCredential, AuditEvent, DefaultWorkApp, OrgRole,
    Organization, Page, PageRequest, PermissionLevel, Policy, PolicyStep, Request, RequestStatus,
    RequestType, Task, TaskStatus, User, UserToken, UsersGroup, WorkApp, Workspace,
    WorkspaceMember,
};
use portcullis_domain::{
    Delivery, DeliveryAttempt, DeliveryStatus, WebhookEvent, WebhookSubscription,
};

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
    pub event: WebhookEvent,
    pub target_url: String,
    pub secret_ciphertext: Vec<u8>,
    pub subscription_failing_since: Option<DateTime<Utc>>,
}

/// Filters of the request listing (all optional, combined with AND).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub target_user_id: Option<Uuid>,
    pub work_app_id: Option<Uuid>,
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

/// A database: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A session for reads that need no atomicity across statements.
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// A write transaction. Nothing is visible to others until [`Tx::commit`]; dropping it rolls back.
    async fn write(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// Is the database reachable?
    async fn ping(&self) -> Result<(), StoreError>;
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
}

/// Repository methods, all scoped to one transaction (or read session).
///
/// Every method that reads tenant data takes the organization id: rows of another organization
/// are simply not found.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Serializes this write transaction with every other one of the organization (PostgreSQL:
    /// a transaction-scoped advisory lock; SQLite already has a single writer). Taken first, it
    /// makes read-check-write rules (last owner, last workspace admin, open requests) race-free
    /// across server processes.
    async fn lock_org(&mut self, org_id: Uuid) -> Result<(), StoreError>;

    // Organizations
    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError>;
    async fn get_organization(&mut self, id: Uuid) -> Result<Option<Organization>, StoreError>;
    async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError>;

    // Users
    /// Fails with [`StoreError::Conflict`] when the e-mail is taken in the organization.
    async fn insert_user(&mut self, user: &User) -> Result<(), StoreError>;
    /// Fails with [`StoreError::Conflict`] when the e-mail is taken in the organization.
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError>;
    async fn get_user(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<User>, StoreError>;
    async fn list_users(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Users with this e-mail (case-insensitive) in any organization; for CLI tooling only.
    async fn find_users_by_email(&mut self, email: &str) -> Result<Vec<User>, StoreError>;
    /// The manager chain above `user_id` (its manager, that one's manager, …), at most `max` long.
    async fn manager_chain(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        max: usize,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Number of active users holding `role`.
    async fn count_active_with_role(
        &mut self,
        org_id: Uuid,
        role: OrgRole,
    ) -> Result<i64, StoreError>;
    async fn set_last_login(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    // Credentials
    async fn insert_api_credential(&mut self, cred: &ApiCredential) -> Result<(), StoreError>;
    async fn get_api_credential(&mut self, id: Uuid) -> Result<Option<ApiCredential>, StoreError>;
    async fn list_api_credentials(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<ApiCredential>, StoreError>;
    /// Marks the credential revoked; false when it does not exist in the organization.
    async fn revoke_api_credential(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;
    async fn insert_user_token(&mut self, token: &UserToken) -> Result<(), StoreError>;
    async fn get_user_token(&mut self, id: Uuid) -> Result<Option<UserToken>, StoreError>;
    /// Marks the user's token revoked; false when no such token of that user exists.
    async fn revoke_user_token(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError>;

    /// The users among `ids` that exist in the organization.
    async fn get_users(&mut self, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<User>, StoreError>;

    // Work apps
    /// Inserts the app and its owners. [`StoreError::Conflict`] when the name is taken.
    async fn insert_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError>;
    /// Updates the app and replaces its owners. [`StoreError::Conflict`] when the name is taken.
    async fn update_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError>;
    async fn get_work_app(&mut self, org_id: Uuid, id: Uuid)
        -> Result<Option<WorkApp>, StoreError>;
    async fn list_work_apps(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError>;
    /// Number of live (unexpired) accesses of each of the apps.
    async fn count_live_accesses(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, i64>, StoreError>;

    // Permission levels
    /// [`StoreError::Conflict`] when the app already has a level of that name.
    async fn insert_permission_level(&mut self, level: &PermissionLevel) -> Result<(), StoreError>;
    async fn get_permission_level(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<PermissionLevel>, StoreError>;
    async fn list_permission_levels(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<PermissionLevel>, StoreError>;

    // Accesses
    /// Looks up, in a few set-based queries, every app, user and level the entries mention.
    async fn grant_facts(
        &mut self,
        org_id: Uuid,
        entries: &[GrantEntry],
    ) -> Result<GrantFacts, StoreError>;
    /// Creates or updates one access per row, in one statement; returns the accesses as they
    /// were before (only those that existed).
    async fn upsert_accesses(
        &mut self,
        org_id: Uuid,
        rows: &[GrantEntry],
        source: AccessSource,
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError>;
    /// The user's live accesses with app and level names, by app name.
    async fn accesses_of_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<portcullis_domain::workapp::UserAccess>, StoreError>;
    /// Apps hidden from the user by any of the user's groups.
    async fn hidden_app_ids_for_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn get_access(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Access>, StoreError>;
    /// Live accesses of an app, by user id, with their users and levels.
    async fn list_accesses(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<AccessDetail>, StoreError>;
    /// Removes an access; returns it, or `None` if there was none.
    async fn delete_access(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Access>, StoreError>;
    /// Removes up to `limit` accesses (of any organization) that expired at or before `now`.
    async fn delete_expired_accesses(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Access>, StoreError>;

    // Groups
    /// [`StoreError::Conflict`] when the name is taken.
    async fn insert_group(&mut self, group: &UsersGroup) -> Result<(), StoreError>;
    /// [`StoreError::Conflict`] when the name is taken.
    async fn update_group(&mut self, group: &UsersGroup) -> Result<(), StoreError>;
    /// Deletes the group with its memberships and app lists; false if it did not exist.
    async fn delete_group(&mut self, org_id: Uuid, id: Uuid) -> Result<bool, StoreError>;
    async fn get_group(&mut self, org_id: Uuid, id: Uuid)
        -> Result<Option<UsersGroup>, StoreError>;
    async fn list_groups(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError>;
    async fn list_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Which of `user_ids` are already members.
    async fn existing_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn insert_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_ids: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn delete_group_member(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError>;
    async fn set_group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        apps: &[DefaultWorkApp],
    ) -> Result<(), StoreError>;
    async fn group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<DefaultWorkApp>, StoreError>;
    async fn set_group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<(), StoreError>;
    async fn group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// For each app: the groups it is a default app of, and the groups it is hidden from.
    async fn groups_of_apps(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, AppGroups>, StoreError>;
    /// (user, app) pairs among those given that hold a live access or have an open request.
    async fn covered_pairs(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError>;

    // Workspaces
    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError>;
    /// Saves name, updated_at and deleted_at (soft delete).
    async fn update_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError>;
    /// A live (not deleted) workspace.
    async fn get_workspace(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Workspace>, StoreError>;
    /// Live workspaces; only those `member_id` belongs to, if given.
    async fn list_workspaces(
        &mut self,
        org_id: Uuid,
        member_id: Option<Uuid>,
    ) -> Result<Vec<Workspace>, StoreError>;
    async fn get_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<WorkspaceMember>, StoreError>;
    async fn list_workspace_members(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Vec<WorkspaceMember>, StoreError>;
    /// Adds the member, or updates the role of an existing one.
    async fn upsert_workspace_member(
        &mut self,
        org_id: Uuid,
        member: &WorkspaceMember,
    ) -> Result<(), StoreError>;
    async fn delete_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError>;
    async fn count_workspace_admins(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<i64, StoreError>;

    // Groups (as far as policies need them)
    async fn group_exists(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError>;
    async fn group_member_ids(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Active ADMINISTRATOR and OWNER users: the fallback approvers.
    async fn active_admin_ids(&mut self, org_id: Uuid) -> Result<Vec<Uuid>, StoreError>;

    // Policies
    /// Inserts the policy and its version row.
    async fn insert_policy(&mut self, policy: &Policy) -> Result<(), StoreError>;
    /// Saves name and steps; `new_version` adds a version row instead of rewriting the current one.
    async fn update_policy(&mut self, policy: &Policy, new_version: bool)
        -> Result<(), StoreError>;
    async fn get_policy(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Policy>, StoreError>;
    /// The steps of one version of a policy.
    async fn get_policy_steps(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<Option<Vec<PolicyStep>>, StoreError>;
    async fn list_policies(
        &mut self,
        org_id: Uuid,
        request_type: Option<RequestType>,
        page: PageRequest,
    ) -> Result<Page<Policy>, StoreError>;
    /// Has any request followed this version?
    async fn policy_version_in_use(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<bool, StoreError>;
    async fn default_policy(
        &mut self,
        org_id: Uuid,
        request_type: RequestType,
    ) -> Result<Option<Policy>, StoreError>;
    async fn set_work_app_policy(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), StoreError>;
    async fn set_permission_level_policy(
        &mut self,
        org_id: Uuid,
        level_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), StoreError>;
    /// The policies assigned to (the level, the app) for a request type.
    async fn assigned_policies(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        level_id: Option<Uuid>,
        request_type: RequestType,
    ) -> Result<(Option<Uuid>, Option<Uuid>), StoreError>;

    // Requests and tasks
    /// [`StoreError::Conflict`] when the (app, user) already has an open request.
    async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError>;
    async fn update_request(&mut self, request: &Request) -> Result<(), StoreError>;
    async fn get_request(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Request>, StoreError>;
    async fn list_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<Request>, StoreError>;
    async fn insert_task(&mut self, task: &Task) -> Result<(), StoreError>;
    async fn get_task(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Task>, StoreError>;
    /// Records a decision only if the task is still Open; false if someone decided first.
    async fn decide_task(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        status: TaskStatus,
        decided_by_user_id: Option<Uuid>,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn list_tasks(
        &mut self,
        org_id: Uuid,
        filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError>;
    async fn request_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<Task>, StoreError>;
    /// Cancels every open task of the request; returns how many.
    async fn cancel_open_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    // Webhooks
    /// Writes an event into the outbox; `dispatched` for events whose deliveries the caller
    /// creates itself (the `test` event).
    async fn insert_webhook_event(
        &mut self,
        event: &WebhookEvent,
        dispatched: bool,
    ) -> Result<(), StoreError>;
    /// Writes many events into the outbox in one statement (bulk operations).
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError>;
    async fn insert_subscription(&mut self, sub: &WebhookSubscription) -> Result<(), StoreError>;
    async fn list_subscriptions(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<WebhookSubscription>, StoreError>;
    async fn get_subscription(
        &mut self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<Option<WebhookSubscription>, StoreError>;
    async fn delete_subscription(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn set_subscription_health(
        &mut self,
        id: Uuid,
        enabled: bool,
        failing_since: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// Fans up to `limit` undispatched events out into deliveries; returns how many events.
    async fn dispatch_events(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;
    /// Leases due deliveries of enabled subscriptions (one worker at a time per delivery).
    async fn lease_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>, StoreError>;
    /// Records an attempt and the delivery's new state; releases the lease.
    async fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    async fn list_deliveries(
        &mut self,
        org_id: Uuid,
        subscription_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError>;
    async fn retry_delivery(
        &mut self,
        org_id: Uuid,
        subscription_id: Uuid,
        delivery_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The organization's RSA key: (encrypted private key, public key PEM).
    async fn get_signing_key(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError>;
    async fn insert_signing_key(
        &mut self,
        org_id: Uuid,
        private_key_ciphertext: &[u8],
        public_key_pem: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn list_audit_events(
        &mut self,
        org_id: Uuid,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError>;

    // Audit log (append-only: there is deliberately no update or delete)
    async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError>;
}
