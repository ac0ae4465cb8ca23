//! API credentials and personal bearer tokens: issue (secret shown once), list, revoke.
use chrono::{DateTime, Utc};
use portcullis_domain::AuditAction;
use portcullis_domain::{new_id, validate, AccessLevel, ApiCredential, UserStatus, UserToken};
use portcullis_domain::{TokenId, UserId};
use uuid::Uuid;

use crate::secrets::{api_key, hash_secret, new_api_secret, new_bearer_token};
use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// A credential just created: the only time its secret is available.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    pub credential: ApiCredential,
    pub api_key: String,
    pub api_secret: String,
}

/// A token just created: the only time its value is available.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: UserToken,
    pub value: String,
}

fn credential_snapshot(c: &ApiCredential) -> serde_json::Value {
    serde_json::json!({ "name": c.name, "accessLevel": c.access_level.name() })
}

impl Service {
    /// `portcullis credential create`: an API credential for an organization, by the server
    /// itself.
    pub async fn issue_api_credential_for_org(
        &self,
        org_id: Uuid,
        name: &str,
        access_level: AccessLevel,
    ) -> Result<IssuedCredential, ServiceError> {
        let ctx = Ctx::new(crate::Actor { org_id, kind: ActorKind::System }, None);
        self.get_organization(&ctx, org_id).await?;
        self.create_api_credential(&ctx, name, access_level).await
    }

    /// Creates an organization API credential (org administrators only).
    pub async fn create_api_credential(
        &self,
        ctx: &Ctx,
        name: &str,
        access_level: AccessLevel,
    ) -> Result<IssuedCredential, ServiceError> {
        ctx.actor.require_org_admin()?;
        let name = validate::name("name", name)?;
        let api_secret = new_api_secret();
        let credential = ApiCredential {
            id: new_id(),
            org_id: ctx.org_id(),
            name,
            secret_hash: hash_secret(&api_secret),
            access_level,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.insert_api_credential(&credential).await?;
        let change =
            Change::new(AuditAction::ApiCredentialCreated, "api_credential", credential.id)
                .after(credential_snapshot(&credential));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(IssuedCredential { api_key: api_key(credential.id), credential, api_secret })
    }

    pub async fn list_api_credentials(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<ApiCredential>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_api_credentials(ctx.org_id()).await?)
    }

    /// Revokes a credential at once (org administrators only).
    pub async fn revoke_api_credential(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        if !tx.revoke_api_credential(ctx.org_id(), id, self.clock.now()).await? {
            return Err(ServiceError::not_found("API credential", id));
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::ApiCredentialRevoked, "api_credential", id),
        )
        .await?;
        tx.commit().await?;
        // After the commit, so that no concurrent request can re-cache the pre-revocation row.
        self.credentials.forget(id);
        Ok(())
    }

    /// Issues a personal bearer token to a user: by an org administrator, or by the user themselves.
    pub async fn create_user_token(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedToken, ServiceError> {
        require_self_or_admin(ctx, user_id)?;
        let name = validate::name("name", name)?;
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(ServiceError::Invalid("expiresAt must be in the future".into()));
        }
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let user = tx
            .get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        if user.status() == UserStatus::Deactivated {
            return Err(ServiceError::Conflict(
                "A deactivated user cannot be given a token".into(),
            ));
        }
        let token_id = new_id();
        let (value, secret) = new_bearer_token(token_id);
        let token = UserToken {
            id: token_id,
            org_id: ctx.org_id(),
            user_id,
            name,
            secret_hash: hash_secret(&secret),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        tx.insert_user_token(&token).await?;
        let change = Change::new(AuditAction::UserTokenCreated, "user_token", token.id).after(
            serde_json::json!({ "userId": user_id, "name": token.name, "expiresAt": expires_at }),
        );
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(IssuedToken { token, value })
    }

    /// A user's personal tokens (never their values): for an org administrator, or the user.
    pub async fn list_user_tokens(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
    ) -> Result<Vec<UserToken>, ServiceError> {
        ctx.actor.require_validated()?;
        match ctx.actor.kind {
            ActorKind::User { id, .. } if id == user_id => {}
            _ => ctx.actor.require_org_admin()?,
        }
        let mut tx = self.store.read().await?;
        tx.get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        Ok(tx.list_user_tokens(ctx.org_id(), UserId(user_id)).await?)
    }

    /// Revokes one of a user's tokens: by an org administrator, or by the user themselves.
    pub async fn revoke_user_token(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        token_id: Uuid,
    ) -> Result<(), ServiceError> {
        require_self_or_admin(ctx, user_id)?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        if !tx
            .revoke_user_token(ctx.org_id(), UserId(user_id), TokenId(token_id), self.clock.now())
            .await?
        {
            return Err(ServiceError::not_found("token", token_id));
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::UserTokenRevoked, "user_token", token_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Service {
    /// CLI: issues a token to the user with this e-mail (in `org_id`, required when the address
    /// exists in several organizations).
    pub async fn issue_token_for_email(
        &self,
        email: &str,
        org_id: Option<Uuid>,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(portcullis_domain::User, IssuedToken), ServiceError> {
        let candidates = {
            let mut tx = self.store.read().await?;
            tx.find_users_by_email(email).await?
        };
        let matching: Vec<_> =
            candidates.into_iter().filter(|u| org_id.is_none_or(|o| u.org_id == o)).collect();
        let user = match matching.as_slice() {
            [] => return Err(ServiceError::NotFound(format!("no user with e-mail {email}"))),
            [user] => user.clone(),
            _ => {
                return Err(ServiceError::Invalid(format!(
                    "{email} exists in several organizations; pass --org-id"
                )))
            }
        };
        let ctx = Ctx::new(crate::Actor { org_id: user.org_id, kind: ActorKind::System }, None);
        let issued = self.create_user_token(&ctx, user.id, name, expires_at).await?;
        Ok((user, issued))
    }
}

fn require_self_or_admin(ctx: &Ctx, user_id: Uuid) -> Result<(), ServiceError> {
    match ctx.actor.kind {
        ActorKind::User { id, .. } if id == user_id => ctx.actor.require_write(),
        _ => ctx.actor.require_org_admin(),
    }
}
