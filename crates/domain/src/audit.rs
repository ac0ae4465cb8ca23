use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who performed a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorRef {
    /// An organization API credential (id of the credential).
    Credential(Uuid),
    /// A user acting with their own token (id of the user).
    User(Uuid),
    /// The server itself (CLI bootstrap, background sweeps).
    System,
}

impl ActorRef {
    pub fn kind(self) -> &'static str {
        match self {
            ActorRef::Credential(_) => "credential",
            ActorRef::User(_) => "user",
            ActorRef::System => "system",
        }
    }
    pub fn id(self) -> Option<Uuid> {
        match self {
            ActorRef::Credential(id) | ActorRef::User(id) => Some(id),
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
}
