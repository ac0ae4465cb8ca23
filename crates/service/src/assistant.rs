//! What an AI assistant reads through the MCP server, limited to what its caller could see in
//! the console: a person sees themself, the apps offered to them and the holders of the apps
//! they own; credentials, administrators and directory managers see the organization
//! ([`portcullis_domain::mcp`] has the rules). Writes go through the ordinary use cases
//! (`create_request`, `decide`, `decide_access_review_item`), policies and all.
use std::collections::HashSet;

use portcullis_domain::mcp::{may_see_access, may_see_app, Viewer};
use portcullis_domain::workapp::{AccessDetail, UserAccess};
use portcullis_domain::{
    validate, AccessReviewStatus, AuditAction, PageRequest, PermissionLevel, ReviewItemDetail,
    User, WorkApp,
};
use portcullis_store::prelude::*;
use portcullis_store::{DecisionFilter, RequestFilter, ReviewItemFilter};
use uuid::Uuid;

use crate::{AccessReviewDetails, ActorKind, Change, Ctx, RequestDetails, Service, ServiceError};

/// Most items an assistant's listing returns (requests, review items, holders).
pub const MAX_ASSISTANT_ITEMS: u32 = 100;

/// Most apps walked when working out what a person owns or may see.
const MAX_APPS: usize = 5000;

/// A person and the accesses of theirs the caller may see.
#[derive(Debug, Clone)]
pub struct UserWithAccesses {
    pub user: User,
    pub accesses: Vec<UserAccess>,
    /// Only some of the person's accesses are shown: the caller sees another person's accesses
    /// only to the apps the caller owns.
    pub limited: bool,
}

/// An app and who holds it.
#[derive(Debug, Clone)]
pub struct AppHolders {
    pub app: WorkApp,
    pub holders: Vec<AccessDetail>,
    /// More holders than [`MAX_ASSISTANT_ITEMS`]; the rest are left off.
    pub truncated: bool,
}

/// One of the caller's review items, with its campaign.
#[derive(Debug, Clone)]
pub struct MyReviewItem {
    pub campaign: AccessReviewDetails,
    pub item: ReviewItemDetail,
}

fn needs_person() -> ServiceError {
    ServiceError::Forbidden(
        "This tool acts as a person: use a personal token or sign in through OAuth".into(),
    )
}

impl Service {
    /// The viewer the caller is, for the visibility rules.
    pub fn viewer(ctx: &Ctx) -> Viewer {
        match ctx.actor.kind {
            ActorKind::User { id, role, .. } => Viewer::of(Some((id, role))),
            _ => Viewer::of(None),
        }
    }

    /// Every app of the organization (capped), for the visibility rules.
    async fn all_apps(
        &self,
        tx: &mut dyn ReadTx,
        org_id: Uuid,
    ) -> Result<Vec<WorkApp>, ServiceError> {
        let mut apps = Vec::new();
        let mut page = PageRequest::first();
        loop {
            let next = tx.list_work_apps(org_id, page).await?;
            apps.extend(next.items);
            match next.next_after {
                Some(after) if apps.len() < MAX_APPS => page = PageRequest::after(Some(after)),
                _ => break,
            }
        }
        Ok(apps)
    }

    /// A person by id, with the accesses of theirs the caller may see.
    pub async fn user_with_accesses(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
    ) -> Result<UserWithAccesses, ServiceError> {
        let user = self.get_user(ctx, user_id).await?;
        self.with_visible_accesses(ctx, user).await
    }

    /// A person by e-mail (compared as the directory compares addresses), with the accesses of
    /// theirs the caller may see.
    pub async fn user_by_email_with_accesses(
        &self,
        ctx: &Ctx,
        email: &str,
    ) -> Result<UserWithAccesses, ServiceError> {
        let user = self.user_by_email(ctx, email).await?;
        self.with_visible_accesses(ctx, user).await
    }

    /// A member of the caller's organization by e-mail.
    pub async fn user_by_email(&self, ctx: &Ctx, email: &str) -> Result<User, ServiceError> {
        ctx.actor.require_validated()?;
        let email = validate::email(email)?;
        let mut tx = self.store.read().await?;
        tx.find_users_by_email(&email)
            .await?
            .into_iter()
            .find(|u| u.org_id == ctx.org_id())
            .ok_or_else(|| ServiceError::NotFound(format!("no user with e-mail {email}")))
    }

    async fn with_visible_accesses(
        &self,
        ctx: &Ctx,
        user: User,
    ) -> Result<UserWithAccesses, ServiceError> {
        let viewer = Self::viewer(ctx);
        let mut tx = self.store.read().await?;
        let mut accesses = tx.accesses_of_user(ctx.org_id(), user.id, self.clock.now()).await?;
        let limited = match viewer {
            Viewer::Person(me) if me != user.id => {
                let apps = self.all_apps(&mut *tx, ctx.org_id()).await?;
                let owned: HashSet<Uuid> =
                    apps.iter().filter(|a| a.owner_ids.contains(&me)).map(|a| a.id).collect();
                accesses.retain(|a| {
                    let owners: &[Uuid] =
                        if owned.contains(&a.access.work_app_id) { &[me] } else { &[] };
                    may_see_access(viewer, user.id, owners)
                });
                true
            }
            _ => false,
        };
        Ok(UserWithAccesses { user, accesses, limited })
    }

    /// Who holds each of the apps (at most [`MAX_ASSISTANT_ITEMS`] each): for the organization,
    /// and for a person the apps they own; any other app is refused (403).
    pub async fn holders_of_apps(
        &self,
        ctx: &Ctx,
        app_ids: &[Uuid],
    ) -> Result<Vec<AppHolders>, ServiceError> {
        let viewer = Self::viewer(ctx);
        let mut out = Vec::with_capacity(app_ids.len());
        for &app_id in app_ids {
            let page = PageRequest { after: None, limit: MAX_ASSISTANT_ITEMS };
            let (holders, owners) = self.list_accesses(ctx, app_id, page).await?;
            let truncated = holders.next_after.is_some();
            let holders: Vec<AccessDetail> = holders
                .items
                .into_iter()
                .filter(|h| may_see_access(viewer, h.user.id, &owners))
                .collect();
            if let Viewer::Person(me) = viewer {
                if !owners.contains(&me) {
                    return Err(ServiceError::Forbidden(format!(
                        "Only the app's owners and those who manage the directory see who holds \
                         work app {app_id}"
                    )));
                }
            }
            let app = self.get_work_app(ctx, app_id).await?.app;
            out.push(AppHolders { app, holders, truncated });
        }
        Ok(out)
    }

    /// The apps the caller may see, sorted by name: with `name`, those whose name contains it
    /// (any case); without, the Managed ones (what can be requested).
    pub async fn visible_work_apps(
        &self,
        ctx: &Ctx,
        name: Option<&str>,
    ) -> Result<Vec<WorkApp>, ServiceError> {
        ctx.actor.require_validated()?;
        let viewer = Self::viewer(ctx);
        let mut tx = self.store.read().await?;
        let hidden: HashSet<Uuid> = match ctx.actor.user_id() {
            Some(me) => tx.hidden_app_ids_for_user(ctx.org_id(), me).await?.into_iter().collect(),
            None => HashSet::new(),
        };
        let needle = name.map(|n| n.trim().to_lowercase());
        let mut apps: Vec<WorkApp> = self
            .all_apps(&mut *tx, ctx.org_id())
            .await?
            .into_iter()
            .filter(|a| match &needle {
                Some(needle) => a.name.to_lowercase().contains(needle.as_str()),
                None => a.status == portcullis_domain::WorkAppStatus::Managed,
            })
            .filter(|a| may_see_app(viewer, a, hidden.contains(&a.id)))
            .collect();
        apps.sort_by_key(|a| a.name.to_lowercase());
        Ok(apps)
    }

    /// One app the caller may see (404 for one they may not, as for one that does not exist).
    pub async fn visible_work_app(&self, ctx: &Ctx, app_id: Uuid) -> Result<WorkApp, ServiceError> {
        let app = self.get_work_app(ctx, app_id).await?.app;
        let hidden = match ctx.actor.user_id() {
            Some(me) => {
                let mut tx = self.store.read().await?;
                tx.hidden_app_ids_for_user(ctx.org_id(), me).await?.contains(&app_id)
            }
            None => false,
        };
        if !may_see_app(Self::viewer(ctx), &app, hidden) {
            return Err(ServiceError::not_found("work app", app_id));
        }
        Ok(app)
    }

    /// The permission levels of an app the caller may see.
    pub async fn visible_permission_levels(
        &self,
        ctx: &Ctx,
        app_id: Uuid,
    ) -> Result<(WorkApp, Vec<PermissionLevel>), ServiceError> {
        let app = self.visible_work_app(ctx, app_id).await?;
        let levels = self.list_permission_levels(ctx, app_id, PageRequest::first()).await?.items;
        Ok((app, levels))
    }

    /// The newest requests the caller may see, at most `limit` (a person: those about
    /// themself); with `open_only`, Pending and Approved ones.
    pub async fn recent_requests(
        &self,
        ctx: &Ctx,
        mut filter: RequestFilter,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<RequestDetails>, ServiceError> {
        ctx.actor.require_validated()?;
        let Some(target) = Self::visible_user(ctx, filter.target_user_id) else {
            return Ok(Vec::new());
        };
        filter.target_user_id = target;
        let limit = limit.clamp(1, MAX_ASSISTANT_ITEMS);
        let mut tx = self.store.read().await?;
        let requests = tx.recent_requests(ctx.org_id(), filter, open_only, limit).await?;
        let mut out = Vec::with_capacity(requests.len());
        for request in requests {
            let tasks = tx.request_tasks(ctx.org_id(), request.id).await?;
            out.push(RequestDetails { request, tasks });
        }
        Ok(out)
    }

    /// The undecided items the caller reviews in running campaigns (a person only).
    pub async fn my_review_items(&self, ctx: &Ctx) -> Result<Vec<MyReviewItem>, ServiceError> {
        let me = ctx.actor.user_id().ok_or_else(needs_person)?;
        let campaigns = self.list_access_reviews(ctx, None, PageRequest::first()).await?.items;
        let mut out = Vec::new();
        for campaign in campaigns {
            if !matches!(campaign.status, AccessReviewStatus::Open | AccessReviewStatus::Overdue) {
                continue;
            }
            let filter = ReviewItemFilter {
                reviewer_id: Some(me),
                decision: Some(DecisionFilter::Undecided),
                ..ReviewItemFilter::default()
            };
            let page = PageRequest { after: None, limit: MAX_ASSISTANT_ITEMS };
            let items =
                self.list_access_review_items(ctx, campaign.review.id, filter, page).await?.items;
            for item in items {
                if out.len() == MAX_ASSISTANT_ITEMS as usize {
                    return Ok(out);
                }
                out.push(MyReviewItem { campaign: campaign.clone(), item });
            }
        }
        Ok(out)
    }

    /// Records one call of an MCP tool in the audit log: the tool, and the error it answered if
    /// it failed (the call's channel and client come with `ctx`).
    pub async fn record_mcp_tool_call(
        &self,
        ctx: &Ctx,
        tool: &str,
        error: Option<&str>,
    ) -> Result<(), ServiceError> {
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let after = serde_json::json!({
            "tool": tool,
            "outcome": if error.is_some() { "error" } else { "ok" },
            "error": error,
        });
        let change = Change {
            action: AuditAction::McpToolCalled,
            target_type: "mcp_tool",
            target_id: None,
            before: None,
            after: Some(after),
            event: None,
        };
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller's own user id, for tools that act only as a person.
    pub fn require_person(ctx: &Ctx) -> Result<Uuid, ServiceError> {
        ctx.actor.user_id().ok_or_else(needs_person)
    }
}
