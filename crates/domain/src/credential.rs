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

/// An organization's SCIM bearer token: what its identity provider presents to sync the
/// directory. Only the secret's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
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

/// A signed-in web console session. The cookie holds a random session id; only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Hex SHA-256 of the session id in the cookie.
    pub id_hash: String,
    pub org_id: Uuid,
    pub user_id: Uuid,
    /// The personal token the person signed in with (revoking it ends the session); `None` for
    /// a sign-in through the identity provider.
    pub token_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Last time the session was used (refreshed at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end of the session, however active it is.
    pub expires_at: DateTime<Utc>,
}

impl ConsoleSession {
    /// Is the session still open at `now`: before its absolute end, and used within `idle`?
    pub fn is_open_at(&self, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        now < self.expires_at && now - self.last_seen_at < idle
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_session_closes_when_idle_or_at_its_absolute_end() {
        let t0 = DateTime::UNIX_EPOCH + Duration::days(20_000);
        let session = ConsoleSession {
            id_hash: "h".into(),
            org_id: Uuid::nil(),
            user_id: Uuid::nil(),
            token_id: Some(Uuid::nil()),
            created_at: t0,
            last_seen_at: t0 + Duration::hours(11),
            expires_at: t0 + Duration::hours(12),
        };
        let idle = Duration::minutes(30);
        assert!(session.is_open_at(t0 + Duration::hours(11), idle));
        assert!(session.is_open_at(t0 + Duration::hours(11) + Duration::minutes(29), idle));
        assert!(!session.is_open_at(t0 + Duration::hours(11) + Duration::minutes(30), idle));
        let busy = ConsoleSession { last_seen_at: t0 + Duration::hours(12), ..session };
        assert!(!busy.is_open_at(t0 + Duration::hours(12), idle), "the absolute end holds");
    }
}
