use chrono::{DateTime, Utc};
use portcullis_domain::{ApiCredential, UserToken};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::codec::{id, opt_ts, ts};
use crate::decode::api_credential as credential_from_row;
use crate::decode::user_token as token_from_row;
use crate::StoreError;

pub async fn insert_api_credential(
    conn: &mut SqliteConnection,
    cred: &ApiCredential,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_credentials (id, org_id, name, secret_hash, access_level, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(cred.id))
    .bind(id(cred.org_id))
    .bind(&cred.name)
    .bind(&cred.secret_hash)
    .bind(cred.access_level.as_str())
    .bind(ts(cred.created_at))
    .bind(opt_ts(cred.revoked_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_api_credential(
    conn: &mut SqliteConnection,
    cred_id: Uuid,
) -> Result<Option<ApiCredential>, StoreError> {
    sqlx::query(
        "SELECT id, org_id, name, secret_hash, access_level, created_at, revoked_at
         FROM api_credentials WHERE id = ?",
    )
    .bind(id(cred_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(credential_from_row)
    .transpose()
}

pub async fn list_api_credentials(
    conn: &mut SqliteConnection,
    org_id: Uuid,
) -> Result<Vec<ApiCredential>, StoreError> {
    sqlx::query(
        "SELECT id, org_id, name, secret_hash, access_level, created_at, revoked_at
         FROM api_credentials WHERE org_id = ? ORDER BY id",
    )
    .bind(id(org_id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(credential_from_row)
    .collect()
}

pub async fn revoke_api_credential(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    cred_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE api_credentials SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND id = ?",
    )
    .bind(ts(at))
    .bind(id(org_id))
    .bind(id(cred_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn insert_user_token(
    conn: &mut SqliteConnection,
    token: &UserToken,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_tokens (id, org_id, user_id, name, secret_hash, created_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(token.id))
    .bind(id(token.org_id))
    .bind(id(token.user_id))
    .bind(&token.name)
    .bind(&token.secret_hash)
    .bind(ts(token.created_at))
    .bind(opt_ts(token.expires_at))
    .bind(opt_ts(token.revoked_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_user_token(
    conn: &mut SqliteConnection,
    token_id: Uuid,
) -> Result<Option<UserToken>, StoreError> {
    sqlx::query(
        "SELECT id, org_id, user_id, name, secret_hash, created_at, expires_at, revoked_at
         FROM user_tokens WHERE id = ?",
    )
    .bind(id(token_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(token_from_row)
    .transpose()
}

pub async fn revoke_user_token(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_id: Uuid,
    token_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE user_tokens SET revoked_at = COALESCE(revoked_at, ?)
         WHERE org_id = ? AND user_id = ? AND id = ?",
    )
    .bind(ts(at))
    .bind(id(org_id))
    .bind(id(user_id))
    .bind(id(token_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
