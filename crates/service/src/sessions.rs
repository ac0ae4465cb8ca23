//! Web console sessions, kept server-side.
//!
//! Signing in with a personal token, or through the identity provider (`sso`), opens a session: the cookie carries a random 256-bit session
//! id, the database only its SHA-256 (a copy of the table opens no session). A session ends
//! - when it has not been used for [`SessionConfig::idle`],
//! - at its absolute end, [`SessionConfig::absolute`] after sign-in, however busy it is,
//! - at sign-out (the row is deleted, so a copied cookie stops working too),
//! - when the token it was opened with is revoked or expires, and when its user is deactivated
//!   (which also revokes all of the user's tokens and deletes their sessions).
use chrono::Duration;
use portcullis_domain::ConsoleSession;

use crate::secrets::{hash_secret, new_session_id, parse_bearer_token};
use crate::{Actor, Ctx, Service, ServiceError};

/// `last_seen_at` is refreshed at most this often, so using a session stays (mostly) a read.
const TOUCH_GRANULARITY: Duration = Duration::minutes(1);

/// How long console sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

fn session_ended() -> ServiceError {
    ServiceError::Unauthenticated("Your session has ended; sign in again.".into())
}

impl Service {
    /// The same service with other session lifetimes.
    pub fn with_session_config(mut self, config: SessionConfig) -> Self {
        self.sessions = config;
        self
    }

    pub fn session_config(&self) -> SessionConfig {
        self.sessions
    }

    /// Signs in with a personal token: opens a session and returns its id (for the cookie; shown
    /// only here) and the person. Signing in for the first time validates an invited account.
    pub async fn open_console_session(&self, token: &str) -> Result<(String, Actor), ServiceError> {
        let actor = self.authenticate_bearer(token).await?;
        let (token_id, _) = parse_bearer_token(token).ok_or_else(session_ended)?;
        let user_id = actor.user_id().ok_or_else(session_ended)?;
        self.record_sign_in(&Ctx::new(actor, None)).await?;
        let id = self.start_console_session(actor, user_id, Some(token_id)).await?;
        Ok((id, actor))
    }

    /// Opens a session for a person who proved who they are (with a personal token, or through
    /// the identity provider: `token_id` is `None`); returns its id.
    pub(crate) async fn start_console_session(
        &self,
        actor: Actor,
        user_id: uuid::Uuid,
        token_id: Option<uuid::Uuid>,
    ) -> Result<String, ServiceError> {
        let now = self.clock.now();
        let id = new_session_id();
        let session = ConsoleSession {
            id_hash: hash_secret(&id),
            org_id: actor.org_id,
            user_id,
            token_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.sessions.absolute,
        };
        let mut tx = self.store.write().await?;
        tx.delete_expired_console_sessions(now).await?;
        tx.insert_console_session(&session).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The person behind a session id, if the session is still open (and its token, when it
    /// was opened with one, and its user still valid); records the use.
    pub async fn console_session(&self, id: &str) -> Result<Actor, ServiceError> {
        let now = self.clock.now();
        let id_hash = hash_secret(id);
        let (session, token) = {
            let mut tx = self.store.read().await?;
            let session = tx.get_console_session(&id_hash).await?.ok_or_else(session_ended)?;
            let token = match session.token_id {
                Some(token_id) => {
                    Some(tx.get_user_token(token_id).await?.ok_or_else(session_ended)?)
                }
                None => None,
            };
            (session, token)
        };
        if !session.is_open_at(now, self.sessions.idle) {
            let mut tx = self.store.write().await?;
            tx.delete_console_session(&id_hash).await?;
            tx.commit().await?;
            return Err(session_ended());
        }
        let actor = match token {
            Some(token) => self.token_holder(&token).await?,
            None => {
                self.user_actor(session.org_id, session.user_id).await.map_err(|e| match e {
                    ServiceError::Unauthenticated(_) => session_ended(),
                    other => other,
                })?
            }
        };
        if now - session.last_seen_at >= TOUCH_GRANULARITY {
            let mut tx = self.store.write().await?;
            tx.touch_console_session(&id_hash, now).await?;
            tx.commit().await?;
        }
        Ok(actor)
    }

    /// Signs out: the session is deleted, so its cookie opens nothing any more.
    pub async fn close_console_session(&self, id: &str) -> Result<(), ServiceError> {
        let mut tx = self.store.write().await?;
        tx.delete_console_session(&hash_secret(id)).await?;
        tx.commit().await?;
        Ok(())
    }
}
