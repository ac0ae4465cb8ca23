//! Cancelling an open request.
use portcullis_domain::governance::cancel_request;
use uuid::Uuid;

use super::*;
use crate::{ActorKind, Ctx, Service, ServiceError};

impl Service {
    /// Cancels an open request (its creator, its target, an administrator, or a credential).
    pub async fn cancel(
        &self,
        ctx: &Ctx,
        request_id: Uuid,
        cancelled_by: Option<Uuid>,
    ) -> Result<RequestDetails, ServiceError> {
        ctx.actor.require_write()?;
        ctx.actor.require_validated()?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let mut request = tx
            .get_request(org_id, request_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("request", request_id))?;
        let by = match ctx.actor.kind {
            ActorKind::User { id, role, .. } => {
                let involved =
                    request.created_by_user_id == Some(id) || request.target_user_id == Some(id);
                if !involved && !role.is_org_admin() {
                    return Err(ServiceError::Forbidden(
                        "Only the requester, the target user or an administrator may cancel".into(),
                    ));
                }
                Some(id)
            }
            _ => match cancelled_by {
                Some(id) => Some(active_named_user(&mut *tx, org_id, "userId", id).await?.id),
                None => None,
            },
        };
        let ctx = &ctx.acting_for(by);
        let transition = cancel_request(request.status)?;
        let app = tx
            .get_work_app(org_id, request.work_app_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("work app", request.work_app_id))?;
        request.cancelled_by_user_id = by;
        let request =
            self.apply_transition(&mut *tx, ctx, request, &app, transition, None, None).await?;
        let tasks = tx.request_tasks(org_id, request_id).await?;
        tx.commit().await?;
        Ok(RequestDetails { request, tasks })
    }
}
