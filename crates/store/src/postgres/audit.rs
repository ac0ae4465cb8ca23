use portcullis_domain::AuditEvent;
use sqlx::PgConnection;

use super::codec::{id, opt_id, ts};
use crate::StoreError;

pub async fn insert(conn: &mut PgConnection, event: &AuditEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, occurred_at, actor_type, actor_id, action,
                                   target_type, target_id, before_json, after_json, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
