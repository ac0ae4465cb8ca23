//! Work apps, permission levels and accesses (including the all-or-nothing bulk grant).
use std::collections::HashSet;

use portcullis_domain::workapp::{
    check_batch_size, plan_bulk_grant, GrantEntry, GrantError, NewWorkApp, WorkAppPatch,
};
use portcullis_domain::AuditAction;
use portcullis_domain::EventType;
use portcullis_domain::{
    new_id, validate, AccessDetail, AccessSource, Page, PageRequest, PermissionLevel, User,
    WorkApp, WorkAppStatus,
};
use portcullis_domain::{UserId, WorkAppId};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use crate::{Change, Ctx, Service, ServiceError};

/// Most accesses removed by one sweep transaction.
const SWEEP_BATCH: u32 = 1000;

/// A work app with what its read models show beside it.
#[derive(Debug, Clone)]
pub struct WorkAppDetails {
    pub app: WorkApp,
    pub number_of_accounts: i64,
    pub owners: Vec<User>,
    /// Groups whose members get this app by default.
    pub default_groups: Vec<Uuid>,
    /// Groups whose members do not see this app in the catalogue.
    pub hidden_groups: Vec<Uuid>,
    /// The custom fields the app has a value for, oldest field first.
    pub custom_fields: Vec<crate::AppFieldValue>,
}

#[derive(Debug, Clone)]
pub struct NewPermissionLevel {
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub is_privileged: bool,
}

/// The outcome of a bulk grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantOutcome {
    pub created: usize,
    pub updated: usize,
}

fn app_snapshot(app: &WorkApp) -> serde_json::Value {
    serde_json::json!({
        "name": app.name,
        "statusName": app.status.name(),
        "provisioningMode": app.provisioning_mode.name(),
        "ownerIds": app.owner_ids,
    })
}

pub(crate) fn grant_error(err: GrantError) -> ServiceError {
    match err {
        GrantError::BadBatch(m) | GrantError::Invalid(m) => ServiceError::Invalid(m),
        GrantError::NotFound(m) => ServiceError::NotFound(m),
        GrantError::Archived(m) => ServiceError::Conflict(m),
    }
}

fn name_taken(what: &str, name: &str) -> ServiceError {
    ServiceError::Conflict(format!("a {what} named '{name}' already exists"))
}

/// Owners must be users of the organization; duplicates collapse, order is kept.
async fn checked_owners(
    tx: &mut dyn WriteTx,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, ServiceError> {
    let mut seen = HashSet::new();
    let owners: Vec<Uuid> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
    let found: HashSet<Uuid> =
        tx.get_users(org_id, &owners).await?.into_iter().map(|u| u.id).collect();
    if let Some(missing) = owners.iter().find(|id| !found.contains(id)) {
        return Err(ServiceError::NotFound(format!("owner {missing} not found")));
    }
    Ok(owners)
}

impl Service {
    pub(crate) async fn details(
        &self,
        tx: &mut dyn ReadTx,
        apps: Vec<WorkApp>,
    ) -> Result<Vec<WorkAppDetails>, ServiceError> {
        let Some(first) = apps.first() else { return Ok(Vec::new()) };
        let org_id = first.org_id;
        let ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
        let counts = tx.count_live_accesses(org_id, &ids, self.clock.now()).await?;
        let owner_ids: Vec<Uuid> = apps.iter().flat_map(|a| a.owner_ids.iter().copied()).collect();
        let owners = tx.get_users(org_id, &owner_ids).await?;
        let mut groups = tx.groups_of_apps(org_id, &ids).await?;
        let mut custom_fields = self.apps_custom_fields(tx, org_id, &ids).await?;
        Ok(apps
            .into_iter()
            .map(|app| WorkAppDetails {
                custom_fields: custom_fields.remove(&app.id).unwrap_or_default(),
                default_groups: groups
                    .get(&app.id)
                    .map(|g| g.default_for.clone())
                    .unwrap_or_default(),
                hidden_groups: groups.remove(&app.id).map(|g| g.hidden_from).unwrap_or_default(),
                number_of_accounts: counts.get(&app.id).copied().unwrap_or(0),
                owners: app
                    .owner_ids
                    .iter()
                    .filter_map(|id| owners.iter().find(|u| u.id == *id).cloned())
                    .collect(),
                app,
            })
            .collect())
    }

    pub(crate) async fn app_in_org(
        &self,
        tx: &mut dyn ReadTx,
        ctx: &Ctx,
        app_id: Uuid,
    ) -> Result<WorkApp, ServiceError> {
        tx.get_work_app(ctx.org_id(), app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", app_id))
    }

    pub async fn list_work_apps(
        &self,
        ctx: &Ctx,
        page: PageRequest,
    ) -> Result<Page<WorkAppDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let page = tx.list_work_apps(ctx.org_id(), page).await?;
        let items = self.details(&mut *tx, page.items).await?;
        Ok(Page { items, next_after: page.next_after })
    }

    /// Apps whose name contains `text` (the console's search), a page at a time.
    pub async fn search_work_apps(
        &self,
        ctx: &Ctx,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<WorkAppDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let page = tx.search_work_apps(ctx.org_id(), text, page).await?;
        let items = self.details(&mut *tx, page.items).await?;
        Ok(Page { items, next_after: page.next_after })
    }

    pub async fn get_work_app(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
    ) -> Result<WorkAppDetails, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let app = self.app_in_org(&mut *tx, ctx, app_id).await?;
        let mut details = self.details(&mut *tx, vec![app]).await?;
        details.pop().ok_or_else(|| ServiceError::not_found("work app", app_id))
    }

    pub async fn create_work_app(
        &self,
        ctx: &Ctx,
        new: NewWorkApp,
    ) -> Result<WorkAppDetails, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut app = new.build(new_id(), ctx.org_id(), self.clock.now())?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        app.owner_ids = checked_owners(&mut *tx, ctx.org_id(), &new.owner_ids).await?;
        match tx.insert_work_app(&app).await {
            Err(StoreError::Conflict(_)) => return Err(name_taken("work app", &app.name)),
            other => other?,
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::WorkAppCreated, "work_app", app.id).after(app_snapshot(&app)),
        )
        .await?;
        let mut details = self.details(&mut *tx, vec![app]).await?;
        tx.commit().await?;
        details.pop().ok_or_else(|| ServiceError::Conflict("work app vanished".into()))
    }

    pub async fn update_work_app(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        patch: WorkAppPatch,
    ) -> Result<WorkAppDetails, ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let before = self.app_in_org(&mut *tx, ctx, app_id).await?;
        let mut app = before.clone();
        patch.apply(&mut app)?;
        if let Some(owner_ids) = &patch.owner_ids {
            app.owner_ids = checked_owners(&mut *tx, ctx.org_id(), owner_ids).await?;
        }
        if app != before {
            app.updated_at = self.clock.now();
            match tx.update_work_app(&app).await {
                Err(StoreError::Conflict(_)) => return Err(name_taken("work app", &app.name)),
                other => other?,
            }
            let action = if app.status == WorkAppStatus::Archived
                && before.status != WorkAppStatus::Archived
            {
                AuditAction::WorkAppArchived
            } else {
                AuditAction::WorkAppUpdated
            };
            let change = Change::new(action, "work_app", app.id)
                .before(app_snapshot(&before))
                .after(app_snapshot(&app));
            self.audit(&mut *tx, ctx, change).await?;
        }
        let mut details = self.details(&mut *tx, vec![app]).await?;
        tx.commit().await?;
        details.pop().ok_or_else(|| ServiceError::not_found("work app", app_id))
    }

    pub async fn create_permission_level(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        new: NewPermissionLevel,
    ) -> Result<PermissionLevel, ServiceError> {
        ctx.actor.require_org_admin()?;
        let level = PermissionLevel {
            id: new_id(),
            org_id: ctx.org_id(),
            work_app_id: app_id,
            name: validate::name("name", &new.name)?,
            description: validate::text("description", new.description.as_deref())?,
            is_default: new.is_default,
            is_privileged: new.is_privileged,
            created_at: self.clock.now(),
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.app_in_org(&mut *tx, ctx, app_id).await?;
        match tx.insert_permission_level(&level).await {
            Err(StoreError::Conflict(_)) => {
                return Err(name_taken("permission level of this app", &level.name))
            }
            other => other?,
        }
        let change = Change::new(AuditAction::PermissionLevelCreated, "permission_level", level.id)
            .after(serde_json::json!({ "workAppId": app_id, "name": level.name }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(level)
    }

    pub async fn list_permission_levels(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<PermissionLevel>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        self.app_in_org(&mut *tx, ctx, app_id).await?;
        Ok(tx.list_permission_levels(ctx.org_id(), app_id, page).await?)
    }

    /// Live accesses of an app, with the app's owners (for `isOwner`).
    pub async fn list_accesses(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<(Page<AccessDetail>, Vec<Uuid>), ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        let app = self.app_in_org(&mut *tx, ctx, app_id).await?;
        let page = tx.list_accesses(ctx.org_id(), app_id, page, self.clock.now()).await?;
        Ok((page, app.owner_ids))
    }

    /// `POST /api/v1/WorkApps/Accesses`: validates every entry, then writes them all in one
    /// transaction with set-based statements; one bad entry writes nothing.
    pub async fn grant_accesses(
        &self,
        ctx: &Ctx,
        entries: &[GrantEntry],
    ) -> Result<GrantOutcome, ServiceError> {
        ctx.actor.require_org_admin()?;
        let now = self.clock.now();
        // Cheap checks before taking the write lock.
        check_batch_size(entries.len()).map_err(grant_error)?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let facts = tx.grant_facts(ctx.org_id(), entries).await?;
        let rows = plan_bulk_grant(entries, &facts, now).map_err(grant_error)?;
        let previous = tx.upsert_accesses(ctx.org_id(), &rows, AccessSource::Direct, now).await?;
        let live_before: std::collections::HashMap<(Uuid, Uuid), Option<Uuid>> = previous
            .iter()
            .filter(|a| a.is_live_at(now))
            .map(|a| ((a.user_id, a.work_app_id), a.permission_level_id))
            .collect();
        let updated = live_before.len();
        // One webhook event per access, written set-based in the same transaction.
        let events: Vec<portcullis_domain::WebhookEvent> = rows
            .iter()
            .map(|row| {
                let before = live_before.get(&(row.user_id, row.work_app_id));
                let event_type = if before.is_some() {
                    EventType::AccessChanged
                } else {
                    EventType::AccessGranted
                };
                portcullis_domain::WebhookEvent {
                    id: new_id(),
                    org_id: ctx.org_id(),
                    event_type: event_type.name().into(),
                    occurred_at: now,
                    data: serde_json::json!({
                        "workAppId": row.work_app_id,
                        "userId": row.user_id,
                        "permissionLevelId": row.permission_level_id,
                        "previousPermissionLevelId": before.copied().flatten(),
                        "expiresAt": row.expires_at,
                        "source": AccessSource::Direct.name(),
                    })
                    .to_string(),
                }
            })
            .collect();
        tx.insert_webhook_events(&events).await?;
        let outcome = GrantOutcome { created: rows.len() - updated, updated };
        let change = Change {
            action: AuditAction::AccessBulkGranted,
            target_type: "access",
            target_id: None,
            before: None,
            event: None,
            after: Some(serde_json::json!({
                "entries": rows.len(),
                "created": outcome.created,
                "updated": outcome.updated,
            })),
        };
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Removes one user's access to an app at once (extension; requests go through policies).
    pub async fn revoke_access(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        self.app_in_org(&mut *tx, ctx, app_id).await?;
        let removed = tx.delete_access(ctx.org_id(), WorkAppId(app_id), UserId(user_id)).await?;
        let Some(access) = removed.filter(|a| a.is_live_at(self.clock.now())) else {
            return Err(ServiceError::NotFound(format!(
                "user {user_id} has no access to work app {app_id}"
            )));
        };
        let change =
            Change::new(AuditAction::AccessRemoved, "work_app", app_id).before(serde_json::json!({
                "userId": access.user_id,
                "permissionLevelId": access.permission_level_id,
            }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes expired accesses, recording an `access.expired` audit row for each; returns how
    /// many were removed. Run periodically by the server.
    pub async fn sweep_expired_accesses(&self) -> Result<usize, ServiceError> {
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let mut tx = self.store.write().await?;
            let expired = tx.delete_expired_accesses(now, SWEEP_BATCH).await?;
            for access in &expired {
                let ctx = Ctx::new(
                    crate::Actor { org_id: access.org_id, kind: crate::ActorKind::System },
                    None,
                );
                let change =
                    Change::new(AuditAction::AccessExpired, "work_app", access.work_app_id).before(
                        serde_json::json!({
                            "userId": access.user_id,
                            "permissionLevelId": access.permission_level_id,
                            "expiresAt": access.expires_at,
                        }),
                    );
                self.audit(&mut *tx, &ctx, change).await?;
            }
            tx.commit().await?;
            total += expired.len();
            if expired.len() < SWEEP_BATCH as usize {
                return Ok(total);
            }
        }
    }
}
