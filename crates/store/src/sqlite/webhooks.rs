//! Webhook subscriptions, the event outbox, deliveries with leases and attempts, signing keys,
//! and the audit-log listing.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use portcullis_domain::{
    AuditEvent, Delivery, DeliveryAttempt, DeliveryStatus, Page, PageRequest, WebhookEvent,
    WebhookSubscription,
};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::codec::{get_opt_ts, get_ts, id, id_array, opt_id, opt_ts, ts};
use crate::decode::attempt as attempt_from_row;
use crate::decode::audit_event as audit_from_row;
use crate::decode::delivery as delivery_from_row;
use crate::decode::subscription as sub_from_row;
use crate::{AuditFilter, DeliveryJob, StoreError};

const SUB_COLUMNS: &str =
    "id, org_id, target_url, events_json, description, secret_ciphertext, enabled,
    failing_since, created_at, deleted_at";

pub async fn insert_event(
    conn: &mut SqliteConnection,
    e: &WebhookEvent,
    dispatched: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_events (id, org_id, event_type, occurred_at, data_json, dispatched_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id(e.id))
    .bind(id(e.org_id))
    .bind(&e.event_type)
    .bind(ts(e.occurred_at))
    .bind(&e.data)
    .bind(dispatched.then(|| ts(e.occurred_at)))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[WebhookEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| [id(e.id), id(e.org_id), e.event_type.clone(), ts(e.occurred_at), e.data.clone()])
        .collect();
    sqlx::query(
        "INSERT INTO webhook_events (id, org_id, event_type, occurred_at, data_json)
         SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                json_extract(value, '$[3]'), json_extract(value, '$[4]')
         FROM json_each(?)",
    )
    .bind(serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_subscription(
    conn: &mut SqliteConnection,
    s: &WebhookSubscription,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO webhook_subscriptions ({SUB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id(s.id))
    .bind(id(s.org_id))
    .bind(&s.target_url)
    .bind(serde_json::to_string(&s.events).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .bind(&s.description)
    .bind(&s.secret_ciphertext)
    .bind(s.enabled)
    .bind(opt_ts(s.failing_since))
    .bind(ts(s.created_at))
    .bind(opt_ts(s.deleted_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_subscriptions(
    conn: &mut SqliteConnection,
    org_id: Uuid,
) -> Result<Vec<WebhookSubscription>, StoreError> {
    sqlx::query(&format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE org_id = ? AND deleted_at IS NULL ORDER BY id"
    ))
    .bind(id(org_id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(sub_from_row)
    .collect()
}

pub async fn get_subscription(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    sub_id: Uuid,
) -> Result<Option<WebhookSubscription>, StoreError> {
    sqlx::query(&format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE org_id = ? AND id = ? AND deleted_at IS NULL"
    ))
    .bind(id(org_id))
    .bind(id(sub_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(sub_from_row)
    .transpose()
}

pub async fn delete_subscription(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    sub_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_subscriptions SET deleted_at = ?, enabled = 0
         WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
    )
    .bind(ts(at))
    .bind(id(org_id))
    .bind(id(sub_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_subscription_health(
    conn: &mut SqliteConnection,
    sub_id: Uuid,
    enabled: bool,
    failing_since: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhook_subscriptions SET enabled = ?, failing_since = ? WHERE id = ?")
        .bind(enabled)
        .bind(opt_ts(failing_since))
        .bind(id(sub_id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Fans undispatched events out to the subscriptions that want them (enabled, not deleted,
/// created before the event), in one statement, and marks the events dispatched.
pub async fn dispatch_events(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhook_events WHERE dispatched_at IS NULL ORDER BY occurred_at, id LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let ids_json = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let pairs = sqlx::query(
        "SELECT e.id AS event_id, e.org_id, e.event_type, s.id AS subscription_id
         FROM webhook_events e
         JOIN webhook_subscriptions s ON s.org_id = e.org_id AND s.enabled = 1 AND s.deleted_at IS NULL
                                     AND s.created_at <= e.occurred_at
         WHERE e.id IN (SELECT value FROM json_each(?))
           AND EXISTS (SELECT 1 FROM json_each(s.events_json) WHERE value = e.event_type)",
    )
    .bind(&ids_json)
    .fetch_all(&mut *conn)
    .await?;
    if !pairs.is_empty() {
        let mut rows = Vec::with_capacity(pairs.len());
        for row in &pairs {
            let event_id: String = row.try_get("event_id")?;
            let org_id: String = row.try_get("org_id")?;
            let event_type: String = row.try_get("event_type")?;
            let subscription_id: String = row.try_get("subscription_id")?;
            rows.push([
                id(portcullis_domain::new_id()),
                org_id,
                subscription_id,
                event_id,
                event_type,
            ]);
        }
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, org_id, subscription_id, event_id, event_type, status,
                                             attempts, next_attempt_at, created_at)
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                    json_extract(value, '$[3]'), json_extract(value, '$[4]'), 'Pending', 0, ?1, ?1
             FROM json_each(?2)",
        )
        .bind(ts(now))
        .bind(serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE webhook_events SET dispatched_at = ? WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(ts(now))
    .bind(&ids_json)
    .execute(conn)
    .await?;
    Ok(ids.len() as u64)
}

const DELIVERY_COLUMNS: &str =
    "d.id, d.org_id, d.subscription_id, d.event_id, d.event_type, d.status,
    d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.delivered_at";

pub async fn insert_delivery(conn: &mut SqliteConnection, d: &Delivery) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, org_id, subscription_id, event_id, event_type, status, attempts,
                                         next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(d.id))
    .bind(id(d.org_id))
    .bind(id(d.subscription_id))
    .bind(id(d.event_id))
    .bind(&d.event_type)
    .bind(d.status.name())
    .bind(d.attempts)
    .bind(opt_ts(d.next_attempt_at))
    .bind(ts(d.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Leases up to `limit` due deliveries of enabled subscriptions until `lease_until`, so that one
/// worker at a time sends each.
pub async fn lease_deliveries(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DeliveryJob>, StoreError> {
    let leased: Vec<String> = sqlx::query_scalar(
        "UPDATE webhook_deliveries SET lease_until = ?1
         WHERE id IN (
             SELECT d.id FROM webhook_deliveries d
             JOIN webhook_subscriptions s ON s.id = d.subscription_id
             WHERE d.status = 'Pending' AND d.next_attempt_at <= ?2
               AND (d.lease_until IS NULL OR d.lease_until <= ?2)
               AND s.enabled = 1 AND s.deleted_at IS NULL
             ORDER BY d.next_attempt_at LIMIT ?3)
         RETURNING id",
    )
    .bind(ts(lease_until))
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS}, e.occurred_at AS e_occurred_at, e.data_json AS e_data,
                s.target_url AS s_target_url, s.secret_ciphertext AS s_secret, s.failing_since AS s_failing_since
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         JOIN webhook_subscriptions s ON s.id = d.subscription_id
         WHERE d.id IN (SELECT value FROM json_each(?))"
    ))
    .bind(serde_json::to_string(&leased).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let delivery = delivery_from_row(row)?;
            Ok(DeliveryJob {
                event: WebhookEvent {
                    id: delivery.event_id,
                    org_id: delivery.org_id,
                    event_type: delivery.event_type.clone(),
                    occurred_at: get_ts(row, "e_occurred_at")?,
                    data: row.try_get("e_data")?,
                },
                target_url: row.try_get("s_target_url")?,
                secret_ciphertext: row.try_get("s_secret")?,
                subscription_failing_since: get_opt_ts(row, "s_failing_since")?,
                delivery,
            })
        })
        .collect()
}

pub async fn finish_attempt(
    conn: &mut SqliteConnection,
    attempt: &DeliveryAttempt,
    status: DeliveryStatus,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id(attempt.delivery_id))
    .bind(attempt.attempt)
    .bind(ts(attempt.attempted_at))
    .bind(attempt.status_code)
    .bind(&attempt.error)
    .bind(attempt.duration_ms)
    .execute(&mut *conn)
    .await?;
    let delivered = (status == DeliveryStatus::Delivered).then(|| ts(attempt.attempted_at));
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, lease_until = NULL,
                last_status_code = ?, last_error = ?, delivered_at = ?
         WHERE id = ?",
    )
    .bind(status.name())
    .bind(attempt.attempt)
    .bind(opt_ts(next_attempt_at))
    .bind(attempt.status_code)
    .bind(&attempt.error)
    .bind(delivered)
    .bind(id(attempt.delivery_id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_deliveries(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    sub_id: Uuid,
    page: PageRequest,
) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d
         WHERE d.org_id = ? AND d.subscription_id = ? AND d.id > ? ORDER BY d.id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(id(sub_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let deliveries = rows.iter().map(delivery_from_row).collect::<Result<Vec<_>, _>>()?;
    let page = Page::from_overfetch(deliveries, page.limit, |d| d.id);
    let attempts = sqlx::query(
        "SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms FROM webhook_attempts
         WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY attempt",
    )
    .bind(id_array(page.items.iter().map(|d| d.id)))
    .fetch_all(conn)
    .await?;
    let mut by_delivery: HashMap<Uuid, Vec<DeliveryAttempt>> = HashMap::new();
    for row in &attempts {
        let a = attempt_from_row(row)?;
        by_delivery.entry(a.delivery_id).or_default().push(a);
    }
    Ok(page.map(|d| {
        let attempts = by_delivery.remove(&d.id).unwrap_or_default();
        (d, attempts)
    }))
}

/// Makes a delivery due again now (any status); false if it is not the subscription's.
pub async fn retry_delivery(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    sub_id: Uuid,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'Pending', next_attempt_at = ?, lease_until = NULL
         WHERE org_id = ? AND subscription_id = ? AND id = ?",
    )
    .bind(ts(now))
    .bind(id(org_id))
    .bind(id(sub_id))
    .bind(id(delivery_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get_signing_key(
    conn: &mut SqliteConnection,
    org_id: Uuid,
) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT private_key_ciphertext, public_key_pem FROM org_signing_keys WHERE org_id = ?",
    )
    .bind(id(org_id))
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("private_key_ciphertext")?, r.try_get("public_key_pem")?)))
        .transpose()
}

/// Stores the key unless one exists (two processes generating at once: the first wins).
pub async fn insert_signing_key(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    private_key_ciphertext: &[u8],
    public_key_pem: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO org_signing_keys (org_id, private_key_ciphertext, public_key_pem, created_at)
         VALUES (?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(id(org_id))
    .bind(private_key_ciphertext)
    .bind(public_key_pem)
    .bind(ts(at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_audit_events(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, org_id, occurred_at, actor_type, actor_id, action, target_type, target_id,
                before_json, after_json, request_id
         FROM audit_events
         WHERE org_id = ?1 AND id > ?2
           AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR target_id = ?4)
           AND (?5 IS NULL OR action = ?5 OR action LIKE ?5 || '.%')
           AND (?6 IS NULL OR occurred_at >= ?6)
         ORDER BY id LIMIT ?7",
    )
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(opt_id(filter.actor_id))
    .bind(opt_id(filter.target_id))
    .bind(filter.action.as_deref())
    .bind(opt_ts(filter.since))
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let events = rows.iter().map(audit_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(events, page.limit, |e| e.id))
}
