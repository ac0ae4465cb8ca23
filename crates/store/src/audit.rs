use async_trait::async_trait;
use portcullis_domain::{ActorRef, AuditEvent, CallSource, Page, PageRequest};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_id, get_ts, id, opt_id, opt_ts, ts};
use crate::session::{Session, Writable};
use crate::sql::{insert_rows, query, Row};
use crate::{AuditFilter, StoreError};

/// Reading audit.
#[async_trait]
pub trait AuditReads: Send {
    async fn list_audit_events(
        &mut self,
        org_id: Uuid,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> AuditReads for S {
    async fn list_audit_events(
        &mut self,
        org_id: Uuid,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let db = self.db();
        let rows = query(
            "SELECT id, org_id, occurred_at, actor_type, actor_id, action, target_type, target_id,
                    before_json, after_json, request_id, on_behalf_of_user_id, source, client_name
             FROM audit_events
             WHERE org_id = $1 AND id > $2
               AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR target_id = $4)
               AND ($5 IS NULL OR action = $5 OR substr(action, 1, length($5) + 1) = $5 || '.')
               AND ($6 IS NULL OR occurred_at >= $6)
             ORDER BY id LIMIT $7",
        )
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(opt_id(filter.actor_id))
        .bind(opt_id(filter.target_id))
        .bind(filter.action.as_deref())
        .bind(opt_ts(filter.since))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let events = rows.iter().map(decode_audit_event).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(events, page.limit, |e| e.id))
    }
}

/// Changing audit.
#[async_trait]
pub trait AuditWrites: Send {
    async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Appends many rows in one statement.
    async fn insert_audit_events(&mut self, events: &[AuditEvent]) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> AuditWrites for S {
    async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        self.insert_audit_events(std::slice::from_ref(event)).await
    }

    async fn insert_audit_events(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let rows = events
            .iter()
            .map(|e| {
                serde_json::json!([
                    id(e.id),
                    id(e.org_id),
                    ts(e.occurred_at),
                    e.actor.kind(),
                    opt_id(e.actor.id()),
                    e.action,
                    e.target_type,
                    opt_id(e.target_id),
                    e.before,
                    e.after,
                    e.request_id,
                    opt_id(e.on_behalf_of),
                    e.source.as_ref().map(|s| s.source.as_str()),
                    e.source.as_ref().map(|s| s.client_name.as_str()),
                ])
            })
            .collect();
        insert_rows(
            db.dialect(),
            "audit_events (id, org_id, occurred_at, actor_type, actor_id, action, target_type,
                           target_id, before_json, after_json, request_id, on_behalf_of_user_id,
                           source, client_name)",
            "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
            rows,
        )
        .execute(db)
        .await?;
        Ok(())
    }
}

pub(crate) fn decode_audit_event(row: &Row) -> Result<AuditEvent, StoreError> {
    let actor_type: String = row.try_get("actor_type")?;
    let actor_id = get_opt_id(row, "actor_id")?;
    let actor = match (actor_type.as_str(), actor_id) {
        ("credential", Some(id)) => ActorRef::Credential(id),
        ("user", Some(id)) => ActorRef::User(id),
        ("scim_token", Some(id)) => ActorRef::ScimToken(id),
        _ => ActorRef::System,
    };
    let client_name: Option<String> = row.try_get("client_name")?;
    let source = row
        .try_get::<Option<String>>("source")?
        .map(|source| CallSource { source, client_name: client_name.unwrap_or_default() });
    Ok(AuditEvent {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        occurred_at: get_ts(row, "occurred_at")?,
        actor,
        action: row.try_get("action")?,
        target_type: row.try_get("target_type")?,
        target_id: get_opt_id(row, "target_id")?,
        before: row.try_get("before_json")?,
        after: row.try_get("after_json")?,
        request_id: row.try_get("request_id")?,
        on_behalf_of: get_opt_id(row, "on_behalf_of_user_id")?,
        source,
    })
}
