use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who performed a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorRef {
    /// An organization API credential (id of the credential).
    Credential(Uuid),
    /// A user acting with their own token (id of the user).
    User(Uuid),
    /// An identity provider pushing the directory over SCIM (id of its SCIM token).
    ScimToken(Uuid),
    /// The server itself (CLI bootstrap, background sweeps).
    System,
}

impl ActorRef {
    pub fn kind(self) -> &'static str {
        match self {
            ActorRef::Credential(_) => "credential",
            ActorRef::User(_) => "user",
            ActorRef::ScimToken(_) => "scim_token",
            ActorRef::System => "system",
        }
    }
    pub fn id(self) -> Option<Uuid> {
        match self {
            ActorRef::Credential(id) | ActorRef::User(id) | ActorRef::ScimToken(id) => Some(id),
            ActorRef::System => None,
        }
    }
}

/// One row of the append-only audit log. `before`/`after` are JSON snapshots (never secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub org_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: ActorRef,
    /// Dotted verb, e.g. `user.created`.
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    /// The user the actor named as acting for (`userId`, `createdByUserId`,
    /// `triggeredByUserId`), when that is not the actor itself.
    pub on_behalf_of: Option<Uuid>,
    /// The channel the call came through, when it is not the API or the console itself (an AI
    /// assistant over MCP).
    pub source: Option<CallSource>,
}

/// A channel calls can come through besides the API and the console, and the client that used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSource {
    /// `mcp`.
    pub source: String,
    /// The client's name as it registered or introduced itself (`Claude`, `python-httpx/0.28`).
    pub client_name: String,
}

impl CallSource {
    /// A call made by an MCP client.
    pub fn mcp(client_name: impl Into<String>) -> Self {
        CallSource { source: "mcp".into(), client_name: client_name.into() }
    }
}

crate::wire_enum! {
    /// What an audit row says happened (`<target>.<verb>`).
    pub enum AuditAction: "audit action", exact {
        AccessBulkGranted = 1 => "access.bulk_granted",
        AccessChanged = 2 => "access.changed",
        AccessExpired = 3 => "access.expired",
        AccessGranted = 4 => "access.granted",
        AccessRemoved = 5 => "access.removed",
        ActionTaskActionable = 6 => "action_task.actionable",
        ApiCredentialCreated = 7 => "api_credential.created",
        ApiCredentialRevoked = 8 => "api_credential.revoked",
        CustomFieldCreated = 53 => "custom_field.created",
        CustomFieldDeleted = 54 => "custom_field.deleted",
        CustomFieldUpdated = 55 => "custom_field.updated",
        GroupCreated = 9 => "group.created",
        GroupDefaultAppsSet = 10 => "group.default_apps_set",
        GroupDeleted = 11 => "group.deleted",
        GroupHiddenAppsSet = 12 => "group.hidden_apps_set",
        GroupMemberAdded = 13 => "group.member_added",
        GroupMemberRemoved = 14 => "group.member_removed",
        GroupUpdated = 15 => "group.updated",
        OrganizationCreated = 16 => "organization.created",
        OrganizationUpdated = 17 => "organization.updated",
        PermissionLevelCreated = 18 => "permission_level.created",
        PermissionLevelPolicySet = 19 => "permission_level.policy_set",
        PolicyCreated = 20 => "policy.created",
        PolicyUpdated = 21 => "policy.updated",
        RequestApproved = 22 => "request.approved",
        RequestCancelled = 23 => "request.cancelled",
        RequestCompleted = 24 => "request.completed",
        RequestCreated = 25 => "request.created",
        RequestDeclined = 26 => "request.declined",
        RequestFailed = 27 => "request.failed",
        RequestPending = 28 => "request.pending",
        TaskApproved = 29 => "task.approved",
        TaskCompleted = 30 => "task.completed",
        TaskCreated = 31 => "task.created",
        TaskDeclined = 32 => "task.declined",
        UserCreated = 33 => "user.created",
        UserUpdated = 34 => "user.updated",
        UserTokenCreated = 35 => "user_token.created",
        UserTokenRevoked = 36 => "user_token.revoked",
        WebhookCreated = 37 => "webhook.created",
        WebhookDeleted = 38 => "webhook.deleted",
        WebhookDeliveryRetried = 39 => "webhook.delivery_retried",
        WebhookDisabled = 40 => "webhook.disabled",
        WebhookTested = 41 => "webhook.tested",
        WorkAppArchived = 42 => "work_app.archived",
        WorkAppCreated = 43 => "work_app.created",
        WorkAppCustomFieldsChanged = 56 => "work_app.custom_fields_changed",
        WorkAppManaged = 44 => "work_app.managed",
        WorkAppPolicySet = 45 => "work_app.policy_set",
        WorkAppUpdated = 46 => "work_app.updated",
        WorkspaceCreated = 47 => "workspace.created",
        WorkspaceDeleted = 48 => "workspace.deleted",
        WorkspaceMemberAdded = 49 => "workspace.member_added",
        WorkspaceMemberRemoved = 50 => "workspace.member_removed",
        WorkspaceMemberRoleChanged = 51 => "workspace.member_role_changed",
        WorkspaceUpdated = 52 => "workspace.updated",
        UserInvited = 57 => "user.invited",
        UserDeleted = 58 => "user.deleted",
        UserRestored = 59 => "user.restored",
        OrganizationSettingsUpdated = 60 => "organization.settings_updated",
        TaskReassigned = 61 => "task.reassigned",
        AccessReviewCreated = 62 => "access_review.created",
        AccessReviewUpdated = 63 => "access_review.updated",
        AccessReviewItemDecided = 64 => "access_review.item_decided",
        AccessReviewClosed = 65 => "access_review.closed",
        AccessReviewCancelled = 66 => "access_review.cancelled",
        AccessReviewOverdue = 67 => "access_review.overdue",
        UserOffboarded = 68 => "user.offboarded",
        AccessReviewItemReassigned = 69 => "access_review.item_reassigned",
        ScimTokenCreated = 70 => "scim_token.created",
        ScimTokenRevoked = 71 => "scim_token.revoked",
        SsoSettingsUpdated = 72 => "sso_settings.updated",
        OAuthGrantCreated = 73 => "oauth_grant.created",
        OAuthGrantRevoked = 74 => "oauth_grant.revoked",
        NotificationSettingsUpdated = 75 => "notification_settings.updated",
        NotificationPreferencesUpdated = 76 => "notification_preferences.updated",
        McpToolCalled = 77 => "mcp.tool_called",
    }
}

impl AuditAction {
    /// The webhook event this change also publishes, if it is one.
    pub fn event_type(self) -> Option<crate::webhook::EventType> {
        crate::webhook::EventType::from_name(self.name())
    }
}
