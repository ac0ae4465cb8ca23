//! Webhook subscriptions, the event outbox, deliveries with leases and attempts, signing keys,
//! and the audit-log listing.
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::webhook::{
    event_json, split_batches, LeaseLimits, LeasePlan, MAX_BATCH_BYTES, MAX_BATCH_EVENTS,
};
use portcullis_domain::{
    Delivery, DeliveryAttempt, DeliveryStatus, Page, PageRequest, WebhookEvent, WebhookSubscription,
};
use portcullis_domain::{DeliveryId, SubscriptionId};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, id_array, opt_ts, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{insert_rows, query, query_scalar, Db, Row};
use crate::{DeliveryJob, StoreError};

const SUB_COLUMNS: &str =
    "id, org_id, target_url, events_json, description, secret_ciphertext, enabled,
    failing_since, created_at, deleted_at, target_url_ciphertext, consecutive_failures, paused_until";

const DELIVERY_COLUMNS: &str =
    "d.id, d.org_id, d.subscription_id, d.event_id, d.event_type, d.status,
    d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.delivered_at";

/// Reading webhooks.
#[async_trait]
pub trait WebhookReads: Send {
    async fn list_subscriptions(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<WebhookSubscription>, StoreError>;
    async fn get_subscription(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
    ) -> Result<Option<WebhookSubscription>, StoreError>;
    async fn list_deliveries(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError>;
    /// The organization's RSA key: (encrypted private key, public key PEM).
    async fn get_signing_key(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError>;
    /// Every live subscription whose target URL is stored in plain text: (id, URL). Those
    /// stored before URLs with credentials were encrypted are sealed from this list.
    async fn list_plain_target_urls(&mut self) -> Result<Vec<(Uuid, String)>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> WebhookReads for S {
    async fn list_subscriptions(
        &mut self,
        org_id: Uuid,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id"
        ))
        .bind(id(org_id))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_subscription)
        .collect()
    }

    async fn get_subscription(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
    ) -> Result<Option<WebhookSubscription>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        ))
        .bind(id(org_id))
        .bind(id(sub_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_subscription)
        .transpose()
    }

    async fn list_deliveries(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError> {
        let db = self.db();
        let ids_1 = db.dialect().in_json_texts("$1");
        let rows = query(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d
             WHERE d.org_id = $1 AND d.subscription_id = $2 AND d.id > $3 ORDER BY d.id LIMIT $4"
        ))
        .bind(id(org_id))
        .bind(id(sub_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *db)
        .await?;
        let deliveries = rows.iter().map(decode_delivery).collect::<Result<Vec<_>, _>>()?;
        let page = Page::from_overfetch(deliveries, page.limit, |d| d.id);
        let page_ids = id_array(page.items.iter().map(|d| d.id));
        let attempts = query(
            format!("SELECT delivery_id, attempt, attempted_at, status_code, error, duration_ms FROM webhook_attempts
             WHERE delivery_id IN {ids_1} ORDER BY attempt"),
        )
        .bind(&page_ids)
        .fetch_all(&mut *db)
        .await?;
        let members = query(format!(
            "SELECT delivery_id, event_id FROM webhook_delivery_events
             WHERE delivery_id IN {ids_1} ORDER BY delivery_id, position"
        ))
        .bind(&page_ids)
        .fetch_all(db)
        .await?;
        let mut events: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for row in &members {
            events.entry(get_id(row, "delivery_id")?).or_default().push(get_id(row, "event_id")?);
        }
        let mut by_delivery: HashMap<Uuid, Vec<DeliveryAttempt>> = HashMap::new();
        for row in &attempts {
            let a = decode_attempt(row)?;
            by_delivery.entry(a.delivery_id).or_default().push(a);
        }
        Ok(page.map(|mut d| {
            let attempts = by_delivery.remove(&d.id).unwrap_or_default();
            d.event_ids = events.remove(&d.id).unwrap_or_else(|| vec![d.event_id]);
            (d, attempts)
        }))
    }

    async fn get_signing_key(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let db = self.db();
        let row = query(
            "SELECT private_key_ciphertext, public_key_pem FROM org_signing_keys WHERE org_id = $1",
        )
        .bind(id(org_id))
        .fetch_optional(db)
        .await?;
        row.map(|r| Ok((r.try_get("private_key_ciphertext")?, r.try_get("public_key_pem")?)))
            .transpose()
    }

    async fn list_plain_target_urls(&mut self) -> Result<Vec<(Uuid, String)>, StoreError> {
        let db = self.db();
        query(
            "SELECT id, target_url FROM webhook_subscriptions
             WHERE target_url_ciphertext IS NULL AND deleted_at IS NULL ORDER BY id",
        )
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((get_id(row, "id")?, row.try_get("target_url")?)))
        .collect()
    }
}

/// Changing webhooks.
#[async_trait]
pub trait WebhookWrites: Send {
    /// Writes an event into the outbox; `dispatched` for events whose deliveries the caller
    /// creates itself (the `test` event).
    async fn insert_webhook_event(
        &mut self,
        e: &WebhookEvent,
        dispatched: bool,
    ) -> Result<(), StoreError>;
    /// Writes many events into the outbox in one statement (bulk operations).
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError>;
    async fn insert_subscription(&mut self, s: &WebhookSubscription) -> Result<(), StoreError>;
    async fn delete_subscription(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn set_subscription_health(
        &mut self,
        sub_id: Uuid,
        enabled: bool,
        failing_since: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// The circuit breaker's count after a round of attempts: `failures` more failed attempts
    /// in a row, counted from zero when `restart` (a success came first). Returns the new count.
    /// A round of successes only (`restart`, no failure) also ends a pause, and writes nothing
    /// when there is nothing to reset.
    async fn count_subscription_failures(
        &mut self,
        sub_id: Uuid,
        restart: bool,
        failures: u32,
    ) -> Result<u32, StoreError>;
    /// Pauses a subscription's deliveries until `until` (the circuit is open), or ends a pause.
    async fn pause_subscription(
        &mut self,
        sub_id: Uuid,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// Replaces a plain target URL by its masked form and the sealed original, unless it was
    /// sealed meanwhile. Returns whether it replaced it.
    async fn seal_target_url(
        &mut self,
        sub_id: Uuid,
        shown: &str,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError>;
    /// Fans up to `limit` undispatched events out into deliveries; returns how many events.
    /// Each subscription's events, in outbox order, are cut into POSTs of up to
    /// `MAX_BATCH_EVENTS` events or `MAX_BATCH_BYTES` of body.
    async fn dispatch_events(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
    async fn insert_delivery(&mut self, d: &Delivery) -> Result<(), StoreError>;
    /// Leases due deliveries of enabled, unpaused subscriptions (one worker at a time per
    /// delivery), sharing `limits.total` fairly: organizations take turns (the least busy
    /// first), and so do the subscriptions of an organization, within the per-organization cap
    /// on deliveries leased at once. A subscription has at most one delivery leased, always its
    /// oldest pending one, and only once it is due: its POSTs go out one after the other, in
    /// order (`limits.per_subscription` is taken as 1). On PostgreSQL the subscriptions being
    /// leased from are locked (`SKIP LOCKED`), so two workers never lease from one subscription
    /// at the same time.
    async fn lease_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limits: LeaseLimits,
    ) -> Result<Vec<DeliveryJob>, StoreError>;
    /// Records an attempt and the delivery's new state; releases the lease.
    async fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    async fn retry_delivery(
        &mut self,
        org_id: Uuid,
        sub_id: SubscriptionId,
        delivery_id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Stores the key unless one exists (two processes generating at once: the first wins).
    async fn insert_signing_key(
        &mut self,
        org_id: Uuid,
        private_key_ciphertext: &[u8],
        public_key_pem: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> WebhookWrites for S {
    async fn insert_webhook_event(
        &mut self,
        e: &WebhookEvent,
        dispatched: bool,
    ) -> Result<(), StoreError> {
        insert_events(self.db(), std::slice::from_ref(e), dispatched).await
    }

    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError> {
        insert_events(self.db(), events, false).await
    }

    async fn insert_subscription(&mut self, s: &WebhookSubscription) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO webhook_subscriptions ({SUB_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
        .bind(s.target_url_ciphertext.as_deref())
        .bind(s.consecutive_failures)
        .bind(opt_ts(s.paused_until))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_subscription(
        &mut self,
        org_id: Uuid,
        sub_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE webhook_subscriptions SET deleted_at = $1, enabled = FALSE
             WHERE org_id = $2 AND id = $3 AND deleted_at IS NULL",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(sub_id))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_subscription_health(
        &mut self,
        sub_id: Uuid,
        enabled: bool,
        failing_since: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE webhook_subscriptions SET enabled = $1, failing_since = $2 WHERE id = $3")
            .bind(enabled)
            .bind(opt_ts(failing_since))
            .bind(id(sub_id))
            .execute(db)
            .await?;
        Ok(())
    }

    async fn count_subscription_failures(
        &mut self,
        sub_id: Uuid,
        restart: bool,
        failures: u32,
    ) -> Result<u32, StoreError> {
        let db = self.db();
        if restart && failures == 0 {
            query(
                "UPDATE webhook_subscriptions SET consecutive_failures = 0, paused_until = NULL
                 WHERE id = $1 AND (consecutive_failures <> 0 OR paused_until IS NOT NULL)",
            )
            .bind(id(sub_id))
            .execute(db)
            .await?;
            return Ok(0);
        }
        let count: i32 = query_scalar(
            "UPDATE webhook_subscriptions
             SET consecutive_failures = CASE WHEN $1 THEN 0 ELSE consecutive_failures END + $2
             WHERE id = $3 RETURNING consecutive_failures",
        )
        .bind(restart)
        .bind(i32::try_from(failures).unwrap_or(i32::MAX))
        .bind(id(sub_id))
        .fetch_optional(db)
        .await?
        .unwrap_or_default();
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn pause_subscription(
        &mut self,
        sub_id: Uuid,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE webhook_subscriptions SET paused_until = $1 WHERE id = $2")
            .bind(opt_ts(until))
            .bind(id(sub_id))
            .execute(db)
            .await?;
        Ok(())
    }

    async fn seal_target_url(
        &mut self,
        sub_id: Uuid,
        shown: &str,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE webhook_subscriptions SET target_url = $1, target_url_ciphertext = $2
             WHERE id = $3 AND target_url_ciphertext IS NULL",
        )
        .bind(shown)
        .bind(ciphertext)
        .bind(id(sub_id))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn dispatch_events(&mut self, now: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        let db = self.db();
        let ids_1 = db.dialect().in_json_texts("$1");
        let event_types = db.dialect().json_texts("s.events_json");
        let lock = db.dialect().skip_locked(None);
        let rows_2 = db.dialect().json_rows("$2");
        let ids_2 = db.dialect().in_json_texts("$2");
        let ids: Vec<String> = query_scalar(format!(
            "SELECT id FROM webhook_events WHERE dispatched_at IS NULL ORDER BY occurred_at, id LIMIT $1
             {lock}"
        ))
        .bind(i64::from(limit))
        .fetch_all(&mut *db)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let ids_json =
            serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // Each subscription's events in outbox order, with what the POST body needs of them.
        let pairs = query(
            format!("SELECT e.id AS event_id, e.org_id, e.event_type, e.occurred_at, e.data_json,
                    s.id AS subscription_id
             FROM webhook_events e
             JOIN webhook_subscriptions s ON s.org_id = e.org_id AND s.enabled AND s.deleted_at IS NULL
                                         AND s.created_at <= e.occurred_at
             WHERE e.id IN {ids_1}
               AND EXISTS (SELECT 1 FROM {event_types} WHERE value = e.event_type)
             ORDER BY s.id, e.occurred_at, e.id"),
        )
        .bind(&ids_json)
        .fetch_all(&mut *db)
        .await?;
        if !pairs.is_empty() {
            // (subscription, org, [(event id, event type, serialized size)]) in order.
            let mut per_subscription: Vec<(String, String, Vec<(String, String, usize)>)> =
                Vec::new();
            for row in &pairs {
                let event = WebhookEvent {
                    id: get_id(row, "event_id")?,
                    org_id: get_id(row, "org_id")?,
                    event_type: row.try_get("event_type")?,
                    occurred_at: get_ts(row, "occurred_at")?,
                    data: row.try_get("data_json")?,
                };
                let subscription_id: String = row.try_get("subscription_id")?;
                let size = event_json(&event).len();
                let entry = (id(event.id), event.event_type, size);
                match per_subscription.last_mut() {
                    Some((sub, _, events)) if *sub == subscription_id => events.push(entry),
                    _ => per_subscription.push((subscription_id, id(event.org_id), vec![entry])),
                }
            }
            let mut deliveries = Vec::new();
            let mut members = Vec::new();
            for (subscription_id, org_id, events) in per_subscription {
                let sizes: Vec<usize> = events.iter().map(|(_, _, size)| *size).collect();
                let mut rest = events.as_slice();
                for n in split_batches(&sizes, MAX_BATCH_EVENTS, MAX_BATCH_BYTES) {
                    let (batch, after) = rest.split_at(n);
                    rest = after;
                    let Some((first_id, first_type, _)) = batch.first() else { continue };
                    // New ids grow (UUIDv7): with equal creation times, id order is batch order.
                    let delivery_id = id(portcullis_domain::new_id());
                    for (position, (event_id, _, _)) in batch.iter().enumerate() {
                        members.push((delivery_id.clone(), position, event_id.clone()));
                    }
                    deliveries.push([
                        delivery_id,
                        org_id.clone(),
                        subscription_id.clone(),
                        first_id.clone(),
                        first_type.clone(),
                    ]);
                }
            }
            query(
                format!("INSERT INTO webhook_deliveries (id, org_id, subscription_id, event_id, event_type, status,
                                                 attempts, next_attempt_at, created_at)
                 SELECT (value->>0), (value->>1), (value->>2),
                        (value->>3), (value->>4), 'Pending', 0, $1, $1
                 FROM {rows_2} AS t"),
            )
            .bind(ts(now))
            .bind(serde_json::to_string(&deliveries).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .execute(&mut *db)
            .await?;
            insert_delivery_events(&mut *db, &members).await?;
        }
        query(format!("UPDATE webhook_events SET dispatched_at = $1 WHERE id IN {ids_2}"))
            .bind(ts(now))
            .bind(&ids_json)
            .execute(db)
            .await?;
        Ok(ids.len() as u64)
    }

    async fn insert_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO webhook_deliveries (id, org_id, subscription_id, event_id, event_type, status, attempts,
                                             next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        .execute(&mut *db)
        .await?;
        let delivery_id = id(d.id);
        let members: Vec<(String, usize, String)> = if d.event_ids.is_empty() {
            vec![(delivery_id, 0, id(d.event_id))]
        } else {
            d.event_ids.iter().enumerate().map(|(i, e)| (delivery_id.clone(), i, id(*e))).collect()
        };
        insert_delivery_events(db, &members).await
    }

    async fn lease_deliveries(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limits: LeaseLimits,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let db = self.db();
        let lock_subscriptions = db.dialect().skip_locked(Some("s"));
        let ids_1 = db.dialect().in_json_texts("$1");
        // 1. The subscriptions with a due delivery and none in flight, locked for this
        //    transaction (PostgreSQL; SQLite has one writer at a time anyway).
        let candidates = query(format!(
            "SELECT s.id, s.org_id, s.consecutive_failures FROM webhook_subscriptions s
             WHERE s.enabled AND s.deleted_at IS NULL
               AND (s.paused_until IS NULL OR s.paused_until <= $1)
               AND EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.subscription_id = s.id AND d.status = 'Pending'
                             AND d.next_attempt_at <= $1)
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                               WHERE d.subscription_id = s.id AND d.status = 'Pending'
                                 AND d.lease_until > $1)
             ORDER BY s.id
             {lock_subscriptions}"
        ))
        .bind(ts(now))
        .fetch_all(&mut *db)
        .await?;
        if candidates.is_empty() || limits.total == 0 {
            return Ok(Vec::new());
        }
        // 2. What is leased right now, per subscription and organization (after the locks, so
        //    another worker's leases of these subscriptions are committed and counted).
        let busy = query(
            "SELECT subscription_id, org_id, COUNT(*) AS n FROM webhook_deliveries
             WHERE status = 'Pending' AND lease_until > $1 GROUP BY subscription_id, org_id",
        )
        .bind(ts(now))
        .fetch_all(&mut *db)
        .await?;
        // One POST in flight per subscription keeps its events in order.
        let mut plan = LeasePlan::new(LeaseLimits { per_subscription: 1, ..limits });
        for row in &busy {
            let n: i64 = row.try_get("n")?;
            plan.busy(get_id(row, "org_id")?, get_id(row, "subscription_id")?, n);
        }
        for row in &candidates {
            let failures: i32 = row.try_get("consecutive_failures")?;
            plan.candidate(get_id(row, "org_id")?, get_id(row, "id")?, failures);
        }
        // 3. Each chosen subscription's oldest pending delivery, if it is due and nobody holds
        //    it: a later one never overtakes it, also while it waits for a retry. (Its row is
        //    not skipped when locked: a worker recording its attempt right now holds it, and the
        //    UPDATE waits and re-checks it rather than lease the next one.)
        let mut leased: Vec<String> = Vec::new();
        for (sub_id, _) in plan.allocate() {
            let ids: Vec<String> = query_scalar(
                "UPDATE webhook_deliveries SET lease_until = $1
                 WHERE id IN (
                     SELECT d.id FROM webhook_deliveries d
                     WHERE d.subscription_id = $2 AND d.status = 'Pending'
                     ORDER BY d.created_at, d.id LIMIT 1)
                   AND status = 'Pending' AND next_attempt_at <= $3
                   AND (lease_until IS NULL OR lease_until <= $3)
                 RETURNING id",
            )
            .bind(ts(lease_until))
            .bind(id(sub_id))
            .bind(ts(now))
            .fetch_all(&mut *db)
            .await?;
            leased.extend(ids);
        }
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let leased_json =
            serde_json::to_string(&leased).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = query(format!(
            "SELECT {DELIVERY_COLUMNS},
                    s.target_url AS s_target_url, s.target_url_ciphertext AS s_target_url_ciphertext,
                    s.secret_ciphertext AS s_secret, s.failing_since AS s_failing_since
             FROM webhook_deliveries d
             JOIN webhook_subscriptions s ON s.id = d.subscription_id
             WHERE d.id IN {ids_1}
             ORDER BY d.next_attempt_at, d.id"
        ))
        .bind(&leased_json)
        .fetch_all(&mut *db)
        .await?;
        let events = query(format!(
            "SELECT m.delivery_id, e.id, e.org_id, e.event_type, e.occurred_at, e.data_json
             FROM webhook_delivery_events m JOIN webhook_events e ON e.id = m.event_id
             WHERE m.delivery_id IN {ids_1}
             ORDER BY m.delivery_id, m.position"
        ))
        .bind(&leased_json)
        .fetch_all(db)
        .await?;
        let mut by_delivery: HashMap<Uuid, Vec<WebhookEvent>> = HashMap::new();
        for row in &events {
            by_delivery.entry(get_id(row, "delivery_id")?).or_default().push(WebhookEvent {
                id: get_id(row, "id")?,
                org_id: get_id(row, "org_id")?,
                event_type: row.try_get("event_type")?,
                occurred_at: get_ts(row, "occurred_at")?,
                data: row.try_get("data_json")?,
            });
        }
        rows.iter()
            .map(|row| {
                let mut delivery = decode_delivery(row)?;
                let events = by_delivery.remove(&delivery.id).unwrap_or_default();
                delivery.event_ids = events.iter().map(|e| e.id).collect();
                Ok(DeliveryJob {
                    events,
                    target_url: row.try_get("s_target_url")?,
                    target_url_ciphertext: row.try_get("s_target_url_ciphertext")?,
                    secret_ciphertext: row.try_get("s_secret")?,
                    subscription_failing_since: get_opt_ts(row, "s_failing_since")?,
                    delivery,
                })
            })
            .collect()
    }

    async fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id(attempt.delivery_id))
        .bind(attempt.attempt)
        .bind(ts(attempt.attempted_at))
        .bind(attempt.status_code)
        .bind(&attempt.error)
        .bind(attempt.duration_ms)
        .execute(&mut *db)
        .await?;
        let delivered = (status == DeliveryStatus::Delivered).then(|| ts(attempt.attempted_at));
        query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL,
                    last_status_code = $4, last_error = $5, delivered_at = $6
             WHERE id = $7",
        )
        .bind(status.name())
        .bind(attempt.attempt)
        .bind(opt_ts(next_attempt_at))
        .bind(attempt.status_code)
        .bind(&attempt.error)
        .bind(delivered)
        .bind(id(attempt.delivery_id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn retry_delivery(
        &mut self,
        org_id: Uuid,
        sub_id: SubscriptionId,
        delivery_id: DeliveryId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE webhook_deliveries SET status = 'Pending', next_attempt_at = $1, lease_until = NULL
             WHERE org_id = $2 AND subscription_id = $3 AND id = $4",
        )
        .bind(ts(now))
        .bind(id(org_id))
        .bind(sub_id)
        .bind(delivery_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_signing_key(
        &mut self,
        org_id: Uuid,
        private_key_ciphertext: &[u8],
        public_key_pem: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO org_signing_keys (org_id, private_key_ciphertext, public_key_pem, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(id(org_id))
        .bind(private_key_ciphertext)
        .bind(public_key_pem)
        .bind(ts(at))
        .execute(db)
        .await?;
        Ok(())
    }
}

/// Writes events into the outbox; `dispatched` marks them as already handed to deliveries.
async fn insert_events(
    db: &mut Db,
    events: &[WebhookEvent],
    dispatched: bool,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events
        .iter()
        .map(|e| {
            let at = ts(e.occurred_at);
            serde_json::json!([
                id(e.id),
                id(e.org_id),
                e.event_type,
                at,
                e.data,
                dispatched.then_some(&at)
            ])
        })
        .collect();
    insert_rows(
        db.dialect(),
        "webhook_events (id, org_id, event_type, occurred_at, data_json, dispatched_at)",
        "{}, {}, {}, {}, {}, {}",
        rows,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Lists the events of deliveries: (delivery id, position, event id).
async fn insert_delivery_events(
    db: &mut Db,
    members: &[(String, usize, String)],
) -> Result<(), StoreError> {
    if members.is_empty() {
        return Ok(());
    }
    let rows_1 = db.dialect().json_rows("$1");
    query(format!(
        "INSERT INTO webhook_delivery_events (delivery_id, position, event_id)
         SELECT (value->>0), CAST(value->>1 AS INTEGER), (value->>2) FROM {rows_1} AS t"
    ))
    .bind(serde_json::to_string(members).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .execute(db)
    .await?;
    Ok(())
}

pub(crate) fn decode_subscription(row: &Row) -> Result<WebhookSubscription, StoreError> {
    let events: String = row.try_get("events_json")?;
    Ok(WebhookSubscription {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        target_url: row.try_get("target_url")?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("events_json: {e}")))?,
        description: row.try_get("description")?,
        secret_ciphertext: row.try_get("secret_ciphertext")?,
        enabled: row.try_get("enabled")?,
        failing_since: get_opt_ts(row, "failing_since")?,
        created_at: get_ts(row, "created_at")?,
        deleted_at: get_opt_ts(row, "deleted_at")?,
        target_url_ciphertext: row.try_get("target_url_ciphertext")?,
        consecutive_failures: row.try_get("consecutive_failures")?,
        paused_until: get_opt_ts(row, "paused_until")?,
    })
}

pub(crate) fn decode_delivery(row: &Row) -> Result<Delivery, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Delivery {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        subscription_id: get_id(row, "subscription_id")?,
        event_id: get_id(row, "event_id")?,
        event_type: row.try_get("event_type")?,
        // Filled from webhook_delivery_events by whoever needs them.
        event_ids: Vec::new(),
        status: stored_name::<DeliveryStatus>("status", &status)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: get_opt_ts(row, "next_attempt_at")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        created_at: get_ts(row, "created_at")?,
        delivered_at: get_opt_ts(row, "delivered_at")?,
    })
}

pub(crate) fn decode_attempt(row: &Row) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        delivery_id: get_id(row, "delivery_id")?,
        attempt: row.try_get("attempt")?,
        attempted_at: get_ts(row, "attempted_at")?,
        status_code: row.try_get("status_code")?,
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
    })
}
