//! Console sign-in: sessions, and each organization's single sign-on settings.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::sso::{OrganizationSso, SsoProvider};
use portcullis_domain::ConsoleSession;
use uuid::Uuid;

use crate::decode::{get_id, get_opt_id, get_ts, id, opt_id, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, Row};
use crate::StoreError;

const COLUMNS: &str = "id_hash, org_id, user_id, token_id, created_at, last_seen_at, expires_at";

const SSO_COLUMNS: &str =
    "org_id, issuer, client_id, client_secret_sealed, allow_just_in_time, updated_at";

/// Reading web console sessions and sign-in settings.
#[async_trait]
pub trait ConsoleSessionReads: Send {
    /// The session whose id hashes to `id_hash` (any organization: the cookie is all we have).
    async fn get_console_session(
        &mut self,
        id_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError>;
    /// The organization's single sign-on settings, if it saved any.
    async fn get_organization_sso(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<OrganizationSso>, StoreError>;
    /// The organization, when the server hosts exactly one.
    async fn sole_organization_id(&mut self) -> Result<Option<Uuid>, StoreError>;
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

    async fn get_organization_sso(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<OrganizationSso>, StoreError> {
        let db = self.db();
        query(format!("SELECT {SSO_COLUMNS} FROM organization_sso WHERE org_id = $1"))
            .bind(id(org_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_organization_sso)
            .transpose()
    }

    async fn sole_organization_id(&mut self) -> Result<Option<Uuid>, StoreError> {
        let db = self.db();
        let rows = query("SELECT id FROM organizations ORDER BY id LIMIT 2").fetch_all(db).await?;
        match rows.as_slice() {
            [only] => Ok(Some(get_id(only, "id")?)),
            _ => Ok(None),
        }
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
    /// Creates or replaces the organization's single sign-on settings.
    async fn save_organization_sso(&mut self, sso: &OrganizationSso) -> Result<(), StoreError>;
    /// Removes them (back to the server's provider, no just-in-time creation); false when there
    /// were none.
    async fn delete_organization_sso(&mut self, org_id: Uuid) -> Result<bool, StoreError>;
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
        .bind(opt_id(session.token_id))
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

    async fn save_organization_sso(&mut self, sso: &OrganizationSso) -> Result<(), StoreError> {
        let db = self.db();
        let provider = sso.provider.as_ref();
        query(format!(
            "INSERT INTO organization_sso ({SSO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer,
                 client_id = excluded.client_id,
                 client_secret_sealed = excluded.client_secret_sealed,
                 allow_just_in_time = excluded.allow_just_in_time,
                 updated_at = excluded.updated_at"
        ))
        .bind(id(sso.org_id))
        .bind(provider.map(|p| p.issuer.as_str()))
        .bind(provider.map(|p| p.client_id.as_str()))
        .bind(provider.map(|p| p.client_secret_sealed.as_slice()))
        .bind(sso.allow_just_in_time)
        .bind(ts(sso.updated_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_organization_sso(&mut self, org_id: Uuid) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query("DELETE FROM organization_sso WHERE org_id = $1")
            .bind(id(org_id))
            .execute(db)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn decode_organization_sso(row: &Row) -> Result<OrganizationSso, StoreError> {
    let issuer: Option<String> = row.try_get("issuer")?;
    let client_id: Option<String> = row.try_get("client_id")?;
    let sealed: Option<Vec<u8>> = row.try_get("client_secret_sealed")?;
    let provider = match (issuer, client_id, sealed) {
        (Some(issuer), Some(client_id), Some(client_secret_sealed)) => {
            Some(SsoProvider { issuer, client_id, client_secret_sealed })
        }
        _ => None,
    };
    Ok(OrganizationSso {
        org_id: get_id(row, "org_id")?,
        provider,
        allow_just_in_time: row.try_get("allow_just_in_time")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

fn decode_console_session(row: &Row) -> Result<ConsoleSession, StoreError> {
    Ok(ConsoleSession {
        id_hash: row.try_get("id_hash")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        token_id: get_opt_id(row, "token_id")?,
        created_at: get_ts(row, "created_at")?,
        last_seen_at: get_ts(row, "last_seen_at")?,
        expires_at: get_ts(row, "expires_at")?,
    })
}
