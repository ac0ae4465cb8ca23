use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::{AccessLevel, ApiCredential, UserToken};
use portcullis_domain::{TokenId, UserId};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, opt_ts, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, Row};
use crate::StoreError;

/// Reading credentials.
#[async_trait]
pub trait CredentialReads: Send {
    async fn get_api_credential(
        &mut self,
        cred_id: Uuid,
    ) -> Result<Option<ApiCredential>, StoreError>;
    async fn list_api_credentials(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<ApiCredential>, StoreError>;
    async fn get_user_token(&mut self, token_id: Uuid) -> Result<Option<UserToken>, StoreError>;
    /// A user's tokens (revoked and expired ones too), oldest first.
    async fn list_user_tokens(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
    ) -> Result<Vec<UserToken>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> CredentialReads for S {
    async fn get_api_credential(
        &mut self,
        cred_id: Uuid,
    ) -> Result<Option<ApiCredential>, StoreError> {
        let db = self.db();
        query(
            "SELECT id, org_id, name, secret_hash, access_level, created_at, revoked_at
             FROM api_credentials WHERE id = $1",
        )
        .bind(id(cred_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_api_credential)
        .transpose()
    }

    async fn list_api_credentials(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<ApiCredential>, StoreError> {
        let db = self.db();
        query(
            "SELECT id, org_id, name, secret_hash, access_level, created_at, revoked_at
             FROM api_credentials WHERE org_id = $1 ORDER BY id",
        )
        .bind(id(org_id))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_api_credential)
        .collect()
    }

    async fn get_user_token(&mut self, token_id: Uuid) -> Result<Option<UserToken>, StoreError> {
        let db = self.db();
        query(
            "SELECT id, org_id, user_id, name, secret_hash, created_at, expires_at, revoked_at
             FROM user_tokens WHERE id = $1",
        )
        .bind(id(token_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_user_token)
        .transpose()
    }

    async fn list_user_tokens(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
    ) -> Result<Vec<UserToken>, StoreError> {
        let db = self.db();
        query(
            "SELECT id, org_id, user_id, name, secret_hash, created_at, expires_at, revoked_at
             FROM user_tokens WHERE org_id = $1 AND user_id = $2 ORDER BY id",
        )
        .bind(id(org_id))
        .bind(user_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_user_token)
        .collect()
    }
}

/// Changing credentials.
#[async_trait]
pub trait CredentialWrites: Send {
    async fn insert_api_credential(&mut self, cred: &ApiCredential) -> Result<(), StoreError>;
    /// Marks the credential revoked; false when it does not exist in the organization.
    async fn revoke_api_credential(
        &mut self,
        org_id: Uuid,
        cred_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn insert_user_token(&mut self, token: &UserToken) -> Result<(), StoreError>;
    /// Marks the user's token revoked; false when no such token of that user exists.
    async fn revoke_user_token(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
        token_id: TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Marks every token of the user that is not revoked yet revoked at `at`; returns how many.
    async fn revoke_all_user_tokens(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> CredentialWrites for S {
    async fn insert_api_credential(&mut self, cred: &ApiCredential) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO api_credentials (id, org_id, name, secret_hash, access_level, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id(cred.id))
        .bind(id(cred.org_id))
        .bind(&cred.name)
        .bind(&cred.secret_hash)
        .bind(cred.access_level.name())
        .bind(ts(cred.created_at))
        .bind(opt_ts(cred.revoked_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn revoke_api_credential(
        &mut self,
        org_id: Uuid,
        cred_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE api_credentials SET revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND id = $3",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(cred_id))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_user_token(&mut self, token: &UserToken) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO user_tokens (id, org_id, user_id, name, secret_hash, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id(token.id))
        .bind(id(token.org_id))
        .bind(id(token.user_id))
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(ts(token.created_at))
        .bind(opt_ts(token.expires_at))
        .bind(opt_ts(token.revoked_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn revoke_user_token(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
        token_id: TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE user_tokens SET revoked_at = COALESCE(revoked_at, $1)
             WHERE org_id = $2 AND user_id = $3 AND id = $4",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(user_id)
        .bind(token_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_all_user_tokens(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE user_tokens SET revoked_at = $1
             WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(user_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected())
    }
}

pub(crate) fn decode_api_credential(row: &Row) -> Result<ApiCredential, StoreError> {
    let level: String = row.try_get("access_level")?;
    Ok(ApiCredential {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        access_level: stored_name::<AccessLevel>("access_level", &level)?,
        created_at: get_ts(row, "created_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

pub(crate) fn decode_user_token(row: &Row) -> Result<UserToken, StoreError> {
    Ok(UserToken {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}
