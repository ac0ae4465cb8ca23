use portcullis_domain::{AccessLevel, ActorRef, CallSource, OrgRole};
use uuid::Uuid;

use crate::ServiceError;

/// Who is calling, established by authentication. The organization always comes from here,
/// never from a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub org_id: Uuid,
    pub kind: ActorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// An organization API credential: acts for the organization as a whole.
    Credential { id: Uuid, access: AccessLevel },
    /// A user with a personal token: bound by their org role.
    User { id: Uuid, role: OrgRole, validated: bool },
    /// An identity provider with the organization's SCIM token: manages the directory (users,
    /// groups, memberships) and nothing else.
    Scim { token_id: Uuid },
    /// The server itself (CLI bootstrap).
    System,
}

impl Actor {
    pub fn audit_ref(&self) -> ActorRef {
        match self.kind {
            ActorKind::Credential { id, .. } => ActorRef::Credential(id),
            ActorKind::User { id, .. } => ActorRef::User(id),
            ActorKind::Scim { token_id } => ActorRef::ScimToken(token_id),
            ActorKind::System => ActorRef::System,
        }
    }

    /// Is this the identity provider syncing the directory over SCIM?
    pub fn is_scim(&self) -> bool {
        matches!(self.kind, ActorKind::Scim { .. })
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self.kind {
            ActorKind::User { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Read-only credentials may not change anything.
    pub fn require_write(&self) -> Result<(), ServiceError> {
        match self.kind {
            ActorKind::Credential { access: AccessLevel::ReadOnly, .. } => {
                Err(ServiceError::ReadOnlyCredential)
            }
            _ => Ok(()),
        }
    }

    /// A user acting through the Flashback API must have a validated (Active) account.
    pub fn require_validated(&self) -> Result<(), ServiceError> {
        match self.kind {
            ActorKind::User { validated: false, .. } => {
                Err(ServiceError::Invalid("User not found or account is not validated".into()))
            }
            _ => Ok(()),
        }
    }

    /// Organization-wide administration: a read-write credential, or an ADMINISTRATOR/OWNER.
    pub fn require_org_admin(&self) -> Result<(), ServiceError> {
        self.require_write()?;
        self.require_validated()?;
        match self.kind {
            ActorKind::User { role, .. } if !role.is_org_admin() => Err(ServiceError::Forbidden(
                "Only organization administrators and owners may do this".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// The context of one call: the actor, the request id and the user the actor named as acting
/// for (all recorded in the audit log).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The user an operation is carried out for (`userId`, `createdByUserId`,
    /// `triggeredByUserId`) when that is not the actor itself: audit rows keep the real actor and
    /// record this user beside it.
    pub on_behalf_of: Option<Uuid>,
    /// The channel the call came through, when it is not the API or the console (an AI
    /// assistant over MCP): recorded on every audit row the call writes.
    pub source: Option<CallSource>,
}

impl Ctx {
    pub fn new(actor: Actor, request_id: Option<String>) -> Self {
        Self { actor, request_id, on_behalf_of: None, source: None }
    }

    /// The same call, made through `source`.
    pub fn through(self, source: CallSource) -> Ctx {
        Ctx { source: Some(source), ..self }
    }

    /// The same call, carried out for `user` (nothing changes when `user` is the actor itself).
    pub fn acting_for(&self, user: Option<Uuid>) -> Ctx {
        let on_behalf_of = user.filter(|u| self.actor.user_id() != Some(*u));
        Ctx { on_behalf_of, ..self.clone() }
    }
    pub fn org_id(&self) -> Uuid {
        self.actor.org_id
    }
}
