use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::ConsoleSession;
use uuid::Uuid;

use crate::decode::{get_id, get_ts, id, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, Row};
use crate::StoreError;

const COLUMNS: &str = "id_hash, org_id, user_id, token_id, created_at, last_seen_at, expires_at";

/// Reading web console sessions.
#[async_trait]
pub trait ConsoleSessionReads: Send {
    /// The session whose id hashes to `id_hash` (any organization: the cookie is all we have).
    async fn get_console_session(
        &mut self,
        id_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> ConsoleSessionReads for S {
    async fn get_console_session(
        &mut self,
        id_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let db = self.db();
        query(format!("SELECT {COLUMNS} FROM console_sessions WHERE id_hash = $1"))
            .bind(id_hash)
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_console_session)
            .transpose()
    }
}

/// Opening, refreshing and ending web console sessions.
#[async_trait]
pub trait ConsoleSessionWrites: Send {
    async fn insert_console_session(&mut self, session: &ConsoleSession) -> Result<(), StoreError>;
    /// Records that the session was used at `at`; false when it no longer exists.
    async fn touch_console_session(
        &mut self,
        id_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Ends one session (sign-out, expiry); false when it did not exist.
    async fn delete_console_session(&mut self, id_hash: &str) -> Result<bool, StoreError>;
    /// Ends every session of a user; returns how many there were.
    async fn delete_user_console_sessions(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<u64, StoreError>;
    /// Removes the sessions whose absolute end is at or before `now` (idle ones are removed when
    /// next presented); returns how many.
    async fn delete_expired_console_sessions(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> ConsoleSessionWrites for S {
    async fn insert_console_session(&mut self, session: &ConsoleSession) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO console_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&session.id_hash)
        .bind(id(session.org_id))
        .bind(id(session.user_id))
        .bind(id(session.token_id))
        .bind(ts(session.created_at))
        .bind(ts(session.last_seen_at))
        .bind(ts(session.expires_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn touch_console_session(
        &mut self,
        id_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(ts(at))
            .bind(id_hash)
            .execute(db)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_console_session(&mut self, id_hash: &str) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(db)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_console_sessions(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let done = query("DELETE FROM console_sessions WHERE org_id = $1 AND user_id = $2")
            .bind(id(org_id))
            .bind(id(user_id))
            .execute(db)
            .await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_console_sessions(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let done = query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(db)
            .await?;
        Ok(done.rows_affected())
    }
}

fn decode_console_session(row: &Row) -> Result<ConsoleSession, StoreError> {
    Ok(ConsoleSession {
        id_hash: row.try_get("id_hash")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        token_id: get_id(row, "token_id")?,
        created_at: get_ts(row, "created_at")?,
        last_seen_at: get_ts(row, "last_seen_at")?,
        expires_at: get_ts(row, "expires_at")?,
    })
}
