//! The OAuth authorization server's clients, grants, codes and tokens.
//!
//! Codes and refresh tokens work once. Several server processes may see the same one at the
//! same moment, so using one is a conditional update (`… WHERE used_at IS NULL`) whose row count
//! says who won: exactly one caller gets `true`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::mcp::McpScopes;
use portcullis_domain::oauth::{
    AuthorizationCode, ConnectedAssistant, GrantType, OAuthClient, OAuthGrant, OAuthToken,
    TokenEndpointAuthMethod, TokenKind,
};
use portcullis_domain::user::join_name;
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, opt_ts, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, Row};
use crate::StoreError;

const CLIENT_COLUMNS: &str =
    "id, name, redirect_uris, grant_types, token_endpoint_auth_method, secret_hash, created_at";
const GRANT_COLUMNS: &str =
    "id, org_id, user_id, client_id, scopes, created_at, last_used_at, revoked_at";
const CODE_COLUMNS: &str =
    "code_hash, grant_id, redirect_uri, code_challenge, scopes, expires_at, used_at";
const TOKEN_COLUMNS: &str = "token_hash, grant_id, kind, scopes, created_at, expires_at, used_at";

/// The most grants one listing shows (a person connects a handful of assistants).
const MAX_LISTED_GRANTS: i64 = 500;

/// Reading OAuth clients, grants, codes and tokens.
#[async_trait]
pub trait OAuthReads: Send {
    async fn get_oauth_client(&mut self, id: Uuid) -> Result<Option<OAuthClient>, StoreError>;
    /// How many clients registered at or after `since` (the server-wide registration cap).
    async fn count_oauth_clients_since(&mut self, since: DateTime<Utc>) -> Result<i64, StoreError>;
    /// A grant by id (any organization: a token is all the caller has).
    async fn get_oauth_grant(&mut self, id: Uuid) -> Result<Option<OAuthGrant>, StoreError>;
    /// The organization's grants that are not revoked, newest first; only `user_id`'s when
    /// given.
    async fn list_oauth_grants(
        &mut self,
        org_id: Uuid,
        user_id: Option<Uuid>,
    ) -> Result<Vec<ConnectedAssistant>, StoreError>;
    async fn get_oauth_code(
        &mut self,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCode>, StoreError>;
    async fn get_oauth_token(&mut self, token_hash: &str)
        -> Result<Option<OAuthToken>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> OAuthReads for S {
    async fn get_oauth_client(&mut self, id: Uuid) -> Result<Option<OAuthClient>, StoreError> {
        let db = self.db();
        query(format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1"))
            .bind(self::id(id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_client)
            .transpose()
    }

    async fn count_oauth_clients_since(&mut self, since: DateTime<Utc>) -> Result<i64, StoreError> {
        let db = self.db();
        let row = query("SELECT COUNT(*) AS n FROM oauth_clients WHERE created_at >= $1")
            .bind(ts(since))
            .fetch_one(db)
            .await?;
        Ok(row.try_get("n")?)
    }

    async fn get_oauth_grant(&mut self, id: Uuid) -> Result<Option<OAuthGrant>, StoreError> {
        let db = self.db();
        query(format!("SELECT {GRANT_COLUMNS} FROM oauth_grants WHERE id = $1"))
            .bind(self::id(id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_grant)
            .transpose()
    }

    async fn list_oauth_grants(
        &mut self,
        org_id: Uuid,
        user_id: Option<Uuid>,
    ) -> Result<Vec<ConnectedAssistant>, StoreError> {
        let db = self.db();
        let columns: Vec<String> = GRANT_COLUMNS.split(", ").map(|c| format!("g.{c}")).collect();
        let only_user = if user_id.is_some() { "AND g.user_id = $2" } else { "" };
        let sql = format!(
            "SELECT {}, c.name AS client_name, u.first_name, u.last_name
             FROM oauth_grants g
             JOIN oauth_clients c ON c.id = g.client_id
             JOIN users u ON u.id = g.user_id
             WHERE g.org_id = $1 AND g.revoked_at IS NULL {only_user}
             ORDER BY g.created_at DESC, g.id DESC LIMIT {MAX_LISTED_GRANTS}",
            columns.join(", ")
        );
        let mut q = query(sql).bind(id(org_id));
        if let Some(user_id) = user_id {
            q = q.bind(id(user_id));
        }
        q.fetch_all(db)
            .await?
            .iter()
            .map(|row| {
                Ok(ConnectedAssistant {
                    grant: decode_grant(row)?,
                    client_name: row.try_get("client_name")?,
                    user_name: join_name(
                        &row.try_get::<String>("first_name")?,
                        &row.try_get::<String>("last_name")?,
                    ),
                })
            })
            .collect()
    }

    async fn get_oauth_code(
        &mut self,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        let db = self.db();
        query(format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE code_hash = $1"))
            .bind(code_hash)
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_code)
            .transpose()
    }

    async fn get_oauth_token(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<OAuthToken>, StoreError> {
        let db = self.db();
        query(format!("SELECT {TOKEN_COLUMNS} FROM oauth_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_token)
            .transpose()
    }
}

/// Registering clients, recording consent, issuing and using codes and tokens.
#[async_trait]
pub trait OAuthWrites: Send {
    async fn insert_oauth_client(&mut self, client: &OAuthClient) -> Result<(), StoreError>;
    /// Removes clients registered before `before` that nobody ever consented to (registration
    /// is anonymous: abandoned registrations do not pile up); returns how many.
    async fn delete_unused_oauth_clients(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    async fn insert_oauth_grant(&mut self, grant: &OAuthGrant) -> Result<(), StoreError>;
    /// Revokes a grant of the organization (its tokens stop working with it); false when it
    /// was already revoked or is not the organization's.
    async fn revoke_oauth_grant(
        &mut self,
        org_id: Uuid,
        grant_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records that the grant's tokens were used at `at`.
    async fn touch_oauth_grant(
        &mut self,
        grant_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn insert_oauth_code(&mut self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// Marks a code used at `at`; true only for the one caller that used it first.
    async fn consume_oauth_code(
        &mut self,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn insert_oauth_token(&mut self, token: &OAuthToken) -> Result<(), StoreError>;
    /// Marks a token used (a refresh token rotated) at `at`; true only for the one caller that
    /// used it first.
    async fn use_oauth_token(
        &mut self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Removes codes and tokens whose end is at or before `now`; returns how many.
    async fn delete_expired_oauth_codes_and_tokens(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> OAuthWrites for S {
    async fn insert_oauth_client(&mut self, client: &OAuthClient) -> Result<(), StoreError> {
        let db = self.db();
        let uris = serde_json::to_string(&client.redirect_uris)
            .map_err(|e| StoreError::Corrupt(format!("redirect_uris: {e}")))?;
        let grant_types: Vec<&str> = client.grant_types.iter().map(|g| g.name()).collect();
        query(format!(
            "INSERT INTO oauth_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(id(client.id))
        .bind(&client.name)
        .bind(uris)
        .bind(grant_types.join(" "))
        .bind(client.auth_method.name())
        .bind(client.secret_hash.as_deref())
        .bind(ts(client.created_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_unused_oauth_clients(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let done = query(
            "DELETE FROM oauth_clients WHERE created_at < $1
             AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)",
        )
        .bind(ts(before))
        .execute(db)
        .await?;
        Ok(done.rows_affected())
    }

    async fn insert_oauth_grant(&mut self, grant: &OAuthGrant) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO oauth_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(id(grant.id))
        .bind(id(grant.org_id))
        .bind(id(grant.user_id))
        .bind(id(grant.client_id))
        .bind(grant.scopes.to_text())
        .bind(ts(grant.created_at))
        .bind(opt_ts(grant.last_used_at))
        .bind(opt_ts(grant.revoked_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn revoke_oauth_grant(
        &mut self,
        org_id: Uuid,
        grant_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE oauth_grants SET revoked_at = $1
             WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(grant_id))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_oauth_grant(
        &mut self,
        grant_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2")
            .bind(ts(at))
            .bind(id(grant_id))
            .execute(db)
            .await?;
        Ok(())
    }

    async fn insert_oauth_code(&mut self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO oauth_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&code.code_hash)
        .bind(id(code.grant_id))
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(code.scopes.to_text())
        .bind(ts(code.expires_at))
        .bind(opt_ts(code.used_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn consume_oauth_code(
        &mut self,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done =
            query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
                .bind(ts(at))
                .bind(code_hash)
                .execute(db)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_oauth_token(&mut self, token: &OAuthToken) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO oauth_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&token.token_hash)
        .bind(id(token.grant_id))
        .bind(token.kind.name())
        .bind(token.scopes.to_text())
        .bind(ts(token.created_at))
        .bind(ts(token.expires_at))
        .bind(opt_ts(token.used_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn use_oauth_token(
        &mut self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done =
            query("UPDATE oauth_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
                .bind(ts(at))
                .bind(token_hash)
                .execute(db)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_expired_oauth_codes_and_tokens(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        let codes = query("DELETE FROM oauth_codes WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(db)
            .await?
            .rows_affected();
        let db = self.db();
        let tokens = query("DELETE FROM oauth_tokens WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(db)
            .await?
            .rows_affected();
        Ok(codes + tokens)
    }
}

fn scopes(row: &Row, col: &str) -> Result<McpScopes, StoreError> {
    let text: String = row.try_get(col)?;
    McpScopes::parse(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn decode_client(row: &Row) -> Result<OAuthClient, StoreError> {
    let uris: String = row.try_get("redirect_uris")?;
    let redirect_uris = serde_json::from_str(&uris)
        .map_err(|e| StoreError::Corrupt(format!("redirect_uris: {e}")))?;
    let grant_types: String = row.try_get("grant_types")?;
    let grant_types = grant_types
        .split(' ')
        .filter(|g| !g.is_empty())
        .map(|g| stored_name::<GrantType>("grant_types", g))
        .collect::<Result<_, _>>()?;
    let method: String = row.try_get("token_endpoint_auth_method")?;
    Ok(OAuthClient {
        id: get_id(row, "id")?,
        name: row.try_get("name")?,
        redirect_uris,
        grant_types,
        auth_method: stored_name::<TokenEndpointAuthMethod>("token_endpoint_auth_method", &method)?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: get_ts(row, "created_at")?,
    })
}

fn decode_grant(row: &Row) -> Result<OAuthGrant, StoreError> {
    Ok(OAuthGrant {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        client_id: get_id(row, "client_id")?,
        scopes: scopes(row, "scopes")?,
        created_at: get_ts(row, "created_at")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

fn decode_code(row: &Row) -> Result<AuthorizationCode, StoreError> {
    Ok(AuthorizationCode {
        code_hash: row.try_get("code_hash")?,
        grant_id: get_id(row, "grant_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        scopes: scopes(row, "scopes")?,
        expires_at: get_ts(row, "expires_at")?,
        used_at: get_opt_ts(row, "used_at")?,
    })
}

fn decode_token(row: &Row) -> Result<OAuthToken, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(OAuthToken {
        token_hash: row.try_get("token_hash")?,
        grant_id: get_id(row, "grant_id")?,
        kind: TokenKind::from_name(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("kind: token kind {kind}")))?,
        scopes: scopes(row, "scopes")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_ts(row, "expires_at")?,
        used_at: get_opt_ts(row, "used_at")?,
    })
}
