//! Turning presented credentials into an [`Actor`].
use std::sync::Arc;

use chrono::Duration;
use portcullis_domain::{UserStatus, UserToken};

use crate::secrets::{parse_api_key, parse_bearer_token, verify_secret};
use crate::{Actor, ActorKind, Service, ServiceError};

/// `lastLogin` is refreshed at most this often, so authentication stays a read on the hot path.
const LAST_LOGIN_GRANULARITY: Duration = Duration::minutes(5);

fn invalid_api() -> ServiceError {
    ServiceError::Unauthenticated("The API key or secret is missing or invalid.".into())
}

fn invalid_token() -> ServiceError {
    ServiceError::Unauthenticated("Invalid or expired token".into())
}

impl Service {
    /// Checks an `X-API-KEY` / `X-API-SECRET` pair.
    pub async fn authenticate_api(&self, key: &str, secret: &str) -> Result<Actor, ServiceError> {
        let id = parse_api_key(key).ok_or_else(invalid_api)?;
        let cred = match self.credentials.get(id) {
            Some(cred) => cred,
            None => {
                let mut tx = self.store.read().await?;
                let cred = Arc::new(tx.get_api_credential(id).await?.ok_or_else(invalid_api)?);
                self.credentials.put(cred.clone());
                cred
            }
        };
        if cred.revoked_at.is_some() || !verify_secret(secret, &cred.secret_hash) {
            return Err(invalid_api());
        }
        Ok(Actor {
            org_id: cred.org_id,
            kind: ActorKind::Credential { id: cred.id, access: cred.access_level },
        })
    }

    /// Checks an `Authorization: Bearer` token. Deactivated users' tokens stop working.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Actor, ServiceError> {
        let (id, secret) = parse_bearer_token(token).ok_or_else(invalid_token)?;
        let token = {
            let mut tx = self.store.read().await?;
            tx.get_user_token(id).await?.ok_or_else(invalid_token)?
        };
        if !verify_secret(secret, &token.secret_hash) {
            return Err(invalid_token());
        }
        self.token_holder(&token).await
    }

    /// The actor of a verified token: refused when the token is revoked or expired, or its user
    /// is deactivated. Refreshes the user's `lastLogin`.
    pub(crate) async fn token_holder(&self, token: &UserToken) -> Result<Actor, ServiceError> {
        let now = self.clock.now();
        if !token.is_usable_at(now) {
            return Err(invalid_token());
        }
        self.user_actor(token.org_id, token.user_id).await
    }

    /// The person `user_id` as an actor, if they may act (not deactivated); records the sign-in
    /// time (at most once per granularity).
    pub(crate) async fn user_actor(
        &self,
        org_id: uuid::Uuid,
        user_id: uuid::Uuid,
    ) -> Result<Actor, ServiceError> {
        let now = self.clock.now();
        let user = {
            let mut tx = self.store.read().await?;
            tx.get_user(org_id, user_id).await?.ok_or_else(invalid_token)?
        };
        if user.status() == UserStatus::Deactivated {
            return Err(invalid_token());
        }
        if user.last_login.is_none_or(|at| now - at > LAST_LOGIN_GRANULARITY) {
            let mut tx = self.write_tx(user.org_id).await?;
            tx.set_last_login(user.org_id, user.id, now).await?;
            tx.commit().await?;
        }
        Ok(Actor {
            org_id: user.org_id,
            kind: ActorKind::User { id: user.id, role: user.role, validated: user.is_validated() },
        })
    }
}
