//! What the web console shows a signed-in person (their own view of the directory).
use portcullis_domain::workapp::UserAccess;
use portcullis_domain::WorkAppId;
use portcullis_domain::{PageRequest, PermissionLevel, WorkApp, WorkAppStatus};

use crate::{Ctx, Service, ServiceError};

/// Most apps shown in the catalogue.
const MAX_CATALOGUE: usize = 1000;

impl Service {
    /// The signed-in user's live accesses ("My apps").
    pub async fn my_accesses(&self, ctx: &Ctx) -> Result<Vec<UserAccess>, ServiceError> {
        ctx.actor.require_validated()?;
        let user_id = ctx
            .actor
            .user_id()
            .ok_or_else(|| ServiceError::Forbidden("a user session is required".into()))?;
        let mut tx = self.store.read().await?;
        Ok(tx.accesses_of_user(ctx.org_id(), user_id, self.clock.now()).await?)
    }

    /// Managed apps the user may request, with their levels — minus those hidden from any of the
    /// user's groups.
    pub async fn catalogue(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<(WorkApp, Vec<PermissionLevel>)>, ServiceError> {
        ctx.actor.require_validated()?;
        let user_id = ctx
            .actor
            .user_id()
            .ok_or_else(|| ServiceError::Forbidden("a user session is required".into()))?;
        let mut tx = self.store.read().await?;
        let hidden = tx.hidden_app_ids_for_user(ctx.org_id(), user_id).await?;
        let mut apps = Vec::new();
        let mut page = PageRequest::first();
        loop {
            let next = tx.list_work_apps(ctx.org_id(), page).await?;
            apps.extend(
                next.items
                    .into_iter()
                    .filter(|a| a.status == WorkAppStatus::Managed && !hidden.contains(&a.id)),
            );
            match next.next_after {
                Some(after) if apps.len() < MAX_CATALOGUE => page = PageRequest::after(Some(after)),
                _ => break,
            }
        }
        apps.sort_by_key(|a| a.name.to_lowercase());
        let mut out = Vec::with_capacity(apps.len());
        for app in apps {
            let levels =
                tx.list_permission_levels(ctx.org_id(), app.id, PageRequest::first()).await?.items;
            out.push((app, levels));
        }
        Ok(out)
    }
}

impl Service {
    /// For each request type: the policy an app's requests follow and where it comes from
    /// ("app" or "organization default").
    pub async fn app_policies(
        &self,
        ctx: &Ctx,
        app_id: uuid::Uuid,
    ) -> Result<
        Vec<(portcullis_domain::RequestType, portcullis_domain::Policy, &'static str)>,
        ServiceError,
    > {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        tx.get_work_app(ctx.org_id(), app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", app_id))?;
        let mut out = Vec::new();
        for request_type in portcullis_domain::RequestType::ALL {
            let (_, app_policy) =
                tx.assigned_policies(ctx.org_id(), WorkAppId(app_id), None, request_type).await?;
            let (policy, source) = match app_policy {
                Some(id) => (tx.get_policy(ctx.org_id(), id).await?, "app"),
                None => {
                    (tx.default_policy(ctx.org_id(), request_type).await?, "organization default")
                }
            };
            if let Some(policy) = policy {
                out.push((request_type, policy, source));
            }
        }
        Ok(out)
    }
}
