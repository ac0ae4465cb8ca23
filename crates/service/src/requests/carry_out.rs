//! The change a completed request makes (grant, removal, level change, app status).
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::AuditAction;
use portcullis_domain::{AccessSource, Request, RequestType, WorkApp, WorkAppStatus};
use portcullis_domain::{UserId, WorkAppId};
use portcullis_store::prelude::*;

use crate::{Change, Ctx, Service, ServiceError};

impl Service {
    /// The change a completed request makes.
    pub(super) async fn carry_out(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        request: &Request,
        app: &WorkApp,
    ) -> Result<(), ServiceError> {
        let org_id = request.org_id;
        let now = self.clock.now();
        let user = request.target_user_id;
        match (request.request_type, user) {
            (RequestType::GrantAccess | RequestType::ChangePermissionLevel, Some(user_id)) => {
                let existing = tx
                    .get_access(org_id, WorkAppId(app.id), UserId(user_id))
                    .await?
                    .filter(|a| a.is_live_at(now));
                let expires_at = match request.request_type {
                    RequestType::GrantAccess => request.expires_at,
                    _ => existing.as_ref().and_then(|a| a.expires_at),
                };
                let entry = GrantEntry {
                    work_app_id: app.id,
                    user_id,
                    permission_level_id: request.permission_level_id,
                    expires_at,
                };
                let source = grant_source(request);
                tx.upsert_accesses(org_id, &[entry], source, now).await?;
                let change = access_granted(request, existing.is_some(), source);
                self.audit(tx, ctx, change).await?;
            }
            (RequestType::RemoveAccess, Some(user_id)) => {
                if let Some(removed) =
                    tx.delete_access(org_id, WorkAppId(app.id), UserId(user_id)).await?
                {
                    let change = Change::new(AuditAction::AccessRemoved, "work_app", app.id)
                        .before(serde_json::json!({
                            "userId": removed.user_id,
                            "permissionLevelId": removed.permission_level_id,
                            "requestId": request.id,
                        }));
                    self.audit(tx, ctx, change).await?;
                }
            }
            (RequestType::AddNewManagedWorkApp | RequestType::ArchiveWorkApp, _) => {
                let mut updated = app.clone();
                updated.status = if request.request_type == RequestType::ArchiveWorkApp {
                    WorkAppStatus::Archived
                } else {
                    WorkAppStatus::Managed
                };
                updated.updated_at = now;
                tx.update_work_app(&updated).await?;
                let action = if updated.status == WorkAppStatus::Archived {
                    AuditAction::WorkAppArchived
                } else {
                    AuditAction::WorkAppManaged
                };
                let change = Change::new(action, "work_app", app.id)
                    .after(serde_json::json!({ "statusName": updated.status.name(), "requestId": request.id }));
                self.audit(tx, ctx, change).await?;
            }
            (_, None) => {}
        }
        Ok(())
    }
}

/// The audit row (and webhook event) of a grant or level change a request carried out; `existed`:
/// the user held a live access to the app before.
pub(super) fn access_granted(request: &Request, existed: bool, source: AccessSource) -> Change {
    let action = if existed { AuditAction::AccessChanged } else { AuditAction::AccessGranted };
    Change::new(action, "work_app", request.work_app_id).after(serde_json::json!({
        "userId": request.target_user_id,
        "permissionLevelId": request.permission_level_id,
        "requestId": request.id,
        "source": source.name(),
    }))
}

/// Where an access a request grants comes from: the group that asked for it, or the request.
pub(super) fn grant_source(request: &Request) -> AccessSource {
    if request.source_group_id.is_some() {
        AccessSource::Group
    } else {
        AccessSource::Request
    }
}
