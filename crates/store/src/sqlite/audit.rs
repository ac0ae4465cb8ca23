use portcullis_domain::AuditEvent;
use sqlx::SqliteConnection;

use super::codec::{id, opt_id, ts};
use crate::StoreError;

pub async fn insert(conn: &mut SqliteConnection, event: &AuditEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, occurred_at, actor_type, actor_id, action,
                                   target_type, target_id, before_json, after_json, request_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(event.id))
    .bind(id(event.org_id))
    .bind(ts(event.occurred_at))
    .bind(event.actor.kind())
    .bind(opt_id(event.actor.id()))
    .bind(&event.action)
    .bind(&event.target_type)
    .bind(opt_id(event.target_id))
    .bind(&event.before)
    .bind(&event.after)
    .bind(&event.request_id)
    .execute(conn)
    .await?;
    Ok(())
}
