//! Approval policies: system defaults, custom policies with versions, assignment to apps/levels.
use portcullis_domain::governance::validate_steps;
use portcullis_domain::AuditAction;
use portcullis_domain::{
    new_id, validate, Approver, Page, PageRequest, Policy, PolicyStep, RequestType,
};
use portcullis_domain::{PermissionLevelId, PolicyId, WorkAppId};
use portcullis_store::prelude::*;
use uuid::Uuid;

use crate::{Change, Ctx, Service, ServiceError};

#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub name: String,
    pub request_type: RequestType,
    pub steps: Vec<PolicyStep>,
}

/// Edits; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PolicyPatch {
    pub name: Option<String>,
    pub steps: Option<Vec<PolicyStep>>,
}

fn snapshot(p: &Policy) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "requestType": p.request_type.name(),
        "version": p.version,
        "steps": p.steps,
    })
}

/// The ten system policies of a new organization: the default per request type, and a zero-step
/// "Auto-approve" per request type.
pub(crate) fn system_policies(org_id: Uuid, now: chrono::DateTime<chrono::Utc>) -> Vec<Policy> {
    RequestType::ALL
        .into_iter()
        .flat_map(|t| {
            let base = Policy {
                id: new_id(),
                org_id,
                name: t.default_policy_name().to_string(),
                request_type: t,
                steps: t.default_steps(),
                version: 1,
                is_system: true,
                is_default: true,
                created_at: now,
                updated_at: now,
            };
            let auto = Policy {
                id: new_id(),
                name: format!("Auto-approve ({})", t.name()),
                steps: Vec::new(),
                is_default: false,
                ..base.clone()
            };
            [base, auto]
        })
        .collect()
}

/// `User` steps must name a user of the organization, `GroupMembers` steps one of its groups.
async fn check_step_targets(
    tx: &mut dyn WriteTx,
    org_id: Uuid,
    steps: &[PolicyStep],
) -> Result<(), ServiceError> {
    validate_steps(steps)?;
    for (i, step) in steps.iter().enumerate() {
        match (step.approver, step.user_id, step.group_id) {
            (Approver::User, Some(user_id), _) if tx.get_user(org_id, user_id).await?.is_none() => {
                return Err(ServiceError::NotFound(format!(
                    "steps[{i}]: user {user_id} not found"
                )));
            }
            (Approver::GroupMembers, _, Some(group_id))
                if !tx.group_exists(org_id, group_id).await? =>
            {
                return Err(ServiceError::NotFound(format!(
                    "steps[{i}]: group {group_id} not found"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Service {
    /// The organization default for a request type, seeding the system policies if the
    /// organization predates them.
    pub(crate) async fn default_policy(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        request_type: RequestType,
    ) -> Result<Policy, ServiceError> {
        if let Some(policy) = tx.default_policy(org_id, request_type).await? {
            return Ok(policy);
        }
        for policy in system_policies(org_id, self.clock.now()) {
            tx.insert_policy(&policy).await?;
        }
        tx.default_policy(org_id, request_type)
            .await?
            .ok_or_else(|| ServiceError::Conflict("no default policy".into()))
    }

    pub async fn create_policy(&self, ctx: &Ctx, new: NewPolicy) -> Result<Policy, ServiceError> {
        ctx.actor.require_org_admin()?;
        let now = self.clock.now();
        let policy = Policy {
            id: new_id(),
            org_id: ctx.org_id(),
            name: validate::name("name", &new.name)?,
            request_type: new.request_type,
            steps: new.steps,
            version: 1,
            is_system: false,
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        check_step_targets(&mut *tx, ctx.org_id(), &policy.steps).await?;
        // Make sure the organization's system policies exist before custom ones.
        self.default_policy(&mut *tx, ctx.org_id(), policy.request_type).await?;
        tx.insert_policy(&policy).await?;
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::PolicyCreated, "policy", policy.id).after(snapshot(&policy)),
        )
        .await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// Edits a policy. If a request has followed its current version, the edit becomes a new
    /// version (requests keep the version they started with); otherwise it is rewritten in place.
    pub async fn update_policy(
        &self,
        ctx: &Ctx,
        policy_id: Uuid,
        patch: PolicyPatch,
    ) -> Result<Policy, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = tx
            .get_policy(ctx.org_id(), policy_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("policy", policy_id))?;
        let mut policy = before.clone();
        if let Some(name) = &patch.name {
            policy.name = validate::name("name", name)?;
        }
        if let Some(steps) = patch.steps {
            check_step_targets(&mut *tx, ctx.org_id(), &steps).await?;
            policy.steps = steps;
        }
        if policy == before {
            return Ok(policy);
        }
        let new_version = policy.steps != before.steps
            && tx.policy_version_in_use(ctx.org_id(), policy_id, before.version).await?;
        if new_version {
            policy.version += 1;
        }
        policy.updated_at = self.clock.now();
        tx.update_policy(&policy, new_version).await?;
        let change = Change::new(AuditAction::PolicyUpdated, "policy", policy.id)
            .before(snapshot(&before))
            .after(snapshot(&policy));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(policy)
    }

    pub async fn get_policy(&self, ctx: &Ctx, policy_id: Uuid) -> Result<Policy, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        tx.get_policy(ctx.org_id(), policy_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("policy", policy_id))
    }

    /// Policies, optionally only those of one request type (the "compatible" ones).
    pub async fn list_policies(
        &self,
        ctx: &Ctx,
        request_type: Option<RequestType>,
        page: PageRequest,
    ) -> Result<Page<Policy>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_policies(ctx.org_id(), request_type, page).await?)
    }

    async fn assignable_policy(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        policy_id: Uuid,
        request_type: RequestType,
    ) -> Result<Policy, ServiceError> {
        let policy = tx
            .get_policy(ctx.org_id(), policy_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("policy", policy_id))?;
        if policy.request_type != request_type {
            return Err(ServiceError::Conflict(format!(
                "policy {policy_id} is for {} and cannot be used for {}",
                policy.request_type.name(),
                request_type.name()
            )));
        }
        Ok(policy)
    }

    /// `PUT /WorkApps/{workAppId}/Policies/{requestType}`.
    pub async fn set_work_app_policy(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.get_work_app(ctx.org_id(), app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", app_id))?;
        self.assignable_policy(&mut *tx, ctx, policy_id, request_type).await?;
        tx.set_work_app_policy(ctx.org_id(), WorkAppId(app_id), request_type, PolicyId(policy_id))
            .await?;
        let change = Change::new(AuditAction::WorkAppPolicySet, "work_app", app_id).after(
            serde_json::json!({ "requestType": request_type.name(), "policyId": policy_id }),
        );
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `PUT /WorkApps/{workAppId}/PermissionLevels/{permissionLevelId}/Policies/{requestType}`.
    pub async fn set_permission_level_policy(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        level_id: Uuid,
        request_type: RequestType,
        policy_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.get_work_app(ctx.org_id(), app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", app_id))?;
        let level = tx.get_permission_level(ctx.org_id(), level_id).await?;
        if level.is_none_or(|l| l.work_app_id != app_id) {
            return Err(ServiceError::NotFound(format!(
                "permission level {level_id} not found for work app {app_id}"
            )));
        }
        self.assignable_policy(&mut *tx, ctx, policy_id, request_type).await?;
        tx.set_permission_level_policy(
            ctx.org_id(),
            PermissionLevelId(level_id),
            request_type,
            PolicyId(policy_id),
        )
        .await?;
        let change =
            Change::new(AuditAction::PermissionLevelPolicySet, "permission_level", level_id).after(
                serde_json::json!({ "requestType": request_type.name(), "policyId": policy_id }),
            );
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
