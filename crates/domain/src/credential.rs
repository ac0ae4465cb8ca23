use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::AccessLevel;

/// An organization-level API credential (`X-API-KEY` + `X-API-SECRET`). Only the secret's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCredential {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// Hex SHA-256 of the secret. The secret has 256 bits of entropy, so a fast hash is enough.
    pub secret_hash: String,
    pub access_level: AccessLevel,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A user's personal bearer token. Only the secret's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    pub id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl UserToken {
    /// A token is usable until it is revoked or its expiry passes.
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|exp| now < exp)
    }
}
