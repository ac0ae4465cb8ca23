//! Organizations: bootstrap (`portcullis init`), reading and renaming.
use portcullis_domain::user::split_name;
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, AccessLevel, ApiCredential, OrgRole, Organization, OrganizationPatch,
    OrganizationSettings, OrganizationSettingsPatch, User, UserToken,
};
use uuid::Uuid;

use crate::secrets::{api_key, hash_secret, new_api_secret, new_bearer_token};
use crate::{Actor, ActorKind, Change, Ctx, Service, ServiceError};

/// What `portcullis init --json` prints. The five keys are a contract with tooling.
#[derive(Debug, Clone)]
pub struct InitOutput {
    pub organization_id: Uuid,
    pub owner_user_id: Uuid,
    pub api_key: String,
    pub api_secret: String,
    pub owner_token: String,
}

fn snapshot(org: &Organization) -> serde_json::Value {
    serde_json::json!({
        "name": org.name,
        "domain": org.domain,
        "address1": org.address1,
        "address2": org.address2,
        "city": org.city,
        "zipcode": org.zipcode,
        "phone": org.phone,
        "state": org.state,
        "country": org.country,
        "website": org.website,
        "isBusiness": org.is_business,
        "mfaEnforced": org.mfa_enforced,
    })
}

fn settings_snapshot(s: &OrganizationSettings) -> serde_json::Value {
    serde_json::json!({
        "allowSameApproverForMultipleSteps": s.allow_same_approver_for_multiple_steps,
        "noTouchOnboarding": s.no_touch_onboarding,
        "joinerWindowHours": s.joiner_window_hours,
        "groupLeaveAction": s.group_leave_action.name(),
        "leaverAccessAction": s.leaver_access_action.name(),
    })
}

impl Service {
    /// Creates an organization with its OWNER, a read-write API credential and an owner token.
    pub async fn init_organization(
        &self,
        org_name: &str,
        owner_email: &str,
        owner_name: &str,
    ) -> Result<InitOutput, ServiceError> {
        self.create_organization(org_name, owner_email, owner_name, false).await
    }

    /// Is the database still empty (no organization yet)? The console's first-run page is open
    /// only then.
    pub async fn needs_setup(&self) -> Result<bool, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(!tx.any_organization().await?)
    }

    /// The console's first-run page: [`Service::init_organization`], but only while the database
    /// holds no organization — checked inside the creating transaction, under a lock every
    /// first-run creation takes, so that two concurrent submissions cannot both succeed (the
    /// second gets a conflict).
    pub async fn init_first_organization(
        &self,
        org_name: &str,
        owner_email: &str,
        owner_name: &str,
    ) -> Result<InitOutput, ServiceError> {
        self.create_organization(org_name, owner_email, owner_name, true).await
    }

    async fn create_organization(
        &self,
        org_name: &str,
        owner_email: &str,
        owner_name: &str,
        only_first: bool,
    ) -> Result<InitOutput, ServiceError> {
        let org_name = validate::name("org name", org_name)?;
        let owner_email = validate::email(owner_email)?;
        let owner_name = validate::name("owner name", owner_name)?;
        let now = self.clock.now();
        let domain =
            owner_email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
        let org = Organization {
            id: new_id(),
            name: org_name,
            domain,
            created_at: now,
            updated_at: now,
            ..Organization::default()
        };
        let (first_name, last_name) = split_name(&owner_name);
        let owner = User {
            id: new_id(),
            org_id: org.id,
            first_name,
            last_name,
            email: owner_email,
            role: OrgRole::Owner,
            validated: true,
            deleted_at: None,
            manager_id: None,
            last_login: None,
            created_at: now,
            updated_at: now,
        };
        let api_secret = new_api_secret();
        let credential = ApiCredential {
            id: new_id(),
            org_id: org.id,
            name: "init".into(),
            secret_hash: hash_secret(&api_secret),
            access_level: AccessLevel::ReadWrite,
            created_at: now,
            revoked_at: None,
        };
        let token_id = new_id();
        let (owner_token, token_secret) = new_bearer_token(token_id);
        let token = UserToken {
            id: token_id,
            org_id: org.id,
            user_id: owner.id,
            name: "init".into(),
            secret_hash: hash_secret(&token_secret),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        };
        let ctx = Ctx::new(Actor { org_id: org.id, kind: ActorKind::System }, None);

        let mut tx = self.write_tx(ctx.org_id()).await?;
        if only_first {
            // One lock for every first-run creation (SQLite has one writer at a time anyway).
            tx.lock_org(Uuid::nil()).await?;
            if tx.any_organization().await? {
                return Err(ServiceError::Conflict(
                    "This server already has an organization: sign in instead".into(),
                ));
            }
        }
        tx.insert_organization(&org).await?;
        tx.insert_user(&owner).await?;
        tx.insert_api_credential(&credential).await?;
        tx.insert_user_token(&token).await?;
        for policy in crate::policies::system_policies(org.id, now) {
            tx.insert_policy(&policy).await?;
        }
        self.audit(
            &mut *tx,
            &ctx,
            Change::new(AuditAction::OrganizationCreated, "organization", org.id)
                .after(snapshot(&org)),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(organization_id = %org.id, owner_user_id = %owner.id, "organization created");

        Ok(InitOutput {
            organization_id: org.id,
            owner_user_id: owner.id,
            api_key: api_key(credential.id),
            api_secret,
            owner_token,
        })
    }

    /// The caller's own organization; any other id is "not found".
    pub async fn get_organization(
        &self,
        ctx: &Ctx,
        org_id: Uuid,
    ) -> Result<Organization, ServiceError> {
        ctx.actor.require_validated()?;
        let not_found = || ServiceError::NotFound("Organization not found".into());
        if org_id != ctx.org_id() {
            return Err(not_found());
        }
        let mut tx = self.store.read().await?;
        tx.get_organization(org_id).await?.ok_or_else(not_found)
    }

    /// Changes any subset of the organization's profile (ADMINISTRATOR/OWNER only).
    pub async fn update_organization(
        &self,
        ctx: &Ctx,
        org_id: Uuid,
        patch: &OrganizationPatch,
    ) -> Result<Organization, ServiceError> {
        if org_id != ctx.org_id() {
            return Err(ServiceError::NotFound("Organization not found".into()));
        }
        ctx.actor.require_org_admin()?;
        if patch.is_empty() {
            return Err(ServiceError::Invalid("No valid fields to update".into()));
        }
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let mut org = tx
            .get_organization(org_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("Organization not found".into()))?;
        let before = snapshot(&org);
        patch.apply(&mut org)?;
        org.updated_at = self.clock.now();
        tx.update_organization(&org).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::OrganizationUpdated, "organization", org.id)
                .before(before)
                .after(snapshot(&org)),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The organization's governance settings: for API credentials and administrators/owners.
    pub async fn organization_settings(
        &self,
        ctx: &Ctx,
    ) -> Result<OrganizationSettings, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                return Err(ServiceError::Forbidden(
                    "Only organization administrators and owners may read the settings".into(),
                ));
            }
        }
        let mut tx = self.store.read().await?;
        Ok(tx.get_organization_settings(ctx.org_id()).await?)
    }

    /// Changes the governance settings (a read-write credential or an ADMINISTRATOR/OWNER);
    /// audited as `organization.settings_updated` when something changes.
    pub async fn update_organization_settings(
        &self,
        ctx: &Ctx,
        patch: OrganizationSettingsPatch,
    ) -> Result<OrganizationSettings, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = tx.get_organization_settings(ctx.org_id()).await?;
        let mut after = before;
        patch.apply(&mut after)?;
        if after != before {
            tx.save_organization_settings(ctx.org_id(), &after, self.clock.now()).await?;
            let change =
                Change::new(AuditAction::OrganizationSettingsUpdated, "organization", ctx.org_id())
                    .before(settings_snapshot(&before))
                    .after(settings_snapshot(&after));
            self.audit(&mut *tx, ctx, change).await?;
            tx.commit().await?;
        }
        Ok(after)
    }
}
