//! Webhook subscriptions, deliveries, the organizations' signing keys and the audit-log listing.
//! The delivery worker (crate `portcullis-webhooks`) drives the `*_for_worker` functions.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use portcullis_domain::egress::EgressPolicy;
use portcullis_domain::webhook::{
    masked_target_url, next_attempt_at, parse_target_url, should_disable, validate_events,
    validate_target_url, CircuitBreaker, LeaseLimits,
};
use portcullis_domain::AuditAction;
use portcullis_domain::EventType;
use portcullis_domain::{
    new_id, validate, AuditEvent, Delivery, DeliveryAttempt, DeliveryStatus, Page, PageRequest,
    WebhookEvent, WebhookSubscription,
};
use portcullis_domain::{DeliveryId, SubscriptionId};
use portcullis_store::{AuditFilter, DeliveryJob, WriteTx};
use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use uuid::Uuid;

use crate::{Actor, ActorKind, Change, Ctx, Service, ServiceError};

/// How this server treats webhook targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Which addresses deliveries may go to (checked at creation and before every connection).
    pub egress: EgressPolicy,
    /// Live subscriptions an organization may have (`--max-webhooks-per-org`).
    pub max_per_org: u32,
}

/// The default of `--max-webhooks-per-org`.
pub const DEFAULT_MAX_WEBHOOKS_PER_ORG: u32 = 25;

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { egress: EgressPolicy::public_only(), max_per_org: DEFAULT_MAX_WEBHOOKS_PER_ORG }
    }
}

/// A subscription just created: the only time its secret is shown.
#[derive(Debug, Clone)]
pub struct CreatedSubscription {
    pub subscription: WebhookSubscription,
    /// Standard Webhooks form: `whsec_<base64>`.
    pub secret: String,
}

/// A leased delivery, ready to send: its events, where to, and the keys to sign with.
pub struct SendJob {
    pub job: DeliveryJob,
    /// The subscription's HMAC key (the decoded `whsec_` secret).
    pub hmac_key: Vec<u8>,
    /// The organization's RSA key for `X-SIGNATURE`.
    pub signing_key: RsaPrivateKey,
}

/// One step of the delivery worker (see [`Service::worker_step`]).
pub struct WorkerStep<'a> {
    /// Attempts that finished since the last step: the job, the outcome, when it started.
    pub finished: &'a [(DeliveryJob, AttemptOutcome, DateTime<Utc>)],
    /// Delays between attempts after the first.
    pub schedule: &'a [Duration],
    pub circuit: CircuitBreaker,
    /// Most outbox events to fan out.
    pub dispatch: u32,
    /// What to lease and for how long; `None` when the worker has no free slot.
    pub lease: Option<(LeaseLimits, Duration)>,
}

/// What one attempt to send produced.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

const SECRET_PREFIX: &str = "whsec_";

/// A subscription's latest outcome in a round: (org, failing since, succeeded, attempted at).
type SubscriptionOutcome = (Uuid, Option<DateTime<Utc>>, bool, DateTime<Utc>);

fn subscription_snapshot(s: &WebhookSubscription) -> serde_json::Value {
    serde_json::json!({ "targetUrl": s.target_url, "events": s.events, "description": s.description, "enabled": s.enabled })
}

impl Service {
    /// The organization's RSA-2048 signing key, generated (outside any transaction, it is slow)
    /// the first time it is needed.
    pub async fn signing_key(&self, org_id: Uuid) -> Result<(RsaPrivateKey, String), ServiceError> {
        let existing = {
            let mut tx = self.store.read().await?;
            tx.get_signing_key(org_id).await?
        };
        let (sealed, pem) = match existing {
            Some(found) => found,
            None => {
                let key = tokio::task::spawn_blocking(|| {
                    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                })
                .await
                .map_err(|e| ServiceError::Crypto(e.to_string()))?
                .map_err(|e| ServiceError::Crypto(e.to_string()))?;
                let der = key.to_pkcs8_der().map_err(|e| ServiceError::Crypto(e.to_string()))?;
                let public = key
                    .to_public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| ServiceError::Crypto(e.to_string()))?;
                let sealed = self.secrets.seal(der.as_bytes())?;
                let mut tx = self.write_tx(org_id).await?;
                // Another process may have won the race; its key is kept.
                tx.insert_signing_key(org_id, &sealed, &public, self.clock.now()).await?;
                let stored = tx.get_signing_key(org_id).await?;
                tx.commit().await?;
                stored.ok_or_else(|| ServiceError::Crypto("signing key vanished".into()))?
            }
        };
        let der = self.secrets.open(&sealed)?;
        let key =
            RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| ServiceError::Crypto(e.to_string()))?;
        Ok((key, pem))
    }

    /// `GET /api/Keys`: the public key receivers verify `X-SIGNATURE` with.
    pub async fn public_key_pem(&self, ctx: &Ctx) -> Result<String, ServiceError> {
        ctx.actor.require_validated()?;
        Ok(self.signing_key(ctx.org_id()).await?.1)
    }

    pub async fn create_subscription(
        &self,
        ctx: &Ctx,
        target_url: &str,
        events: &[String],
        description: Option<&str>,
    ) -> Result<CreatedSubscription, ServiceError> {
        ctx.actor.require_org_admin()?;
        let target_url = validate_target_url(target_url)?;
        let (_, host) = parse_target_url(&target_url)?;
        self.webhooks.egress.check_target(&host).map_err(|blocked| {
            ServiceError::Invalid(format!(
                "targetUrl {blocked}: webhooks are delivered to public internet addresses only \
                 (the server's operator can allow networks with --webhook-allow-network)"
            ))
        })?;
        // A URL with credentials is kept encrypted; only its masked form is ever shown.
        let (target_url, target_url_ciphertext) = match masked_target_url(&target_url) {
            Some(masked) => (masked, Some(self.secrets.seal(target_url.as_bytes())?)),
            None => (target_url, None),
        };
        let events = validate_events(events)?;
        let description = validate::text("description", description)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(key));
        let subscription = WebhookSubscription {
            id: new_id(),
            org_id: ctx.org_id(),
            target_url,
            events,
            description,
            secret_ciphertext: self.secrets.seal(secret.as_bytes())?,
            enabled: true,
            failing_since: None,
            created_at: self.clock.now(),
            deleted_at: None,
            target_url_ciphertext,
            consecutive_failures: 0,
            paused_until: None,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        // Counted under the organization's lock: concurrent creations cannot pass the limit.
        let existing = tx.list_subscriptions(ctx.org_id()).await?.len();
        let max = self.webhooks.max_per_org;
        if existing >= max as usize {
            return Err(ServiceError::Conflict(format!(
                "This organization already has {existing} webhook subscriptions, the most allowed \
                 ({max}); delete one before adding another"
            )));
        }
        tx.insert_subscription(&subscription).await?;
        let change = Change::new(AuditAction::WebhookCreated, "webhook", subscription.id)
            .after(subscription_snapshot(&subscription));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(CreatedSubscription { subscription, secret })
    }

    pub async fn list_subscriptions(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<WebhookSubscription>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_subscriptions(ctx.org_id()).await?)
    }

    /// Deletes a subscription; its pending deliveries are no longer sent.
    pub async fn delete_subscription(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        if !tx.delete_subscription(ctx.org_id(), id, self.clock.now()).await? {
            return Err(ServiceError::not_found("webhook", id));
        }
        self.audit(&mut *tx, ctx, Change::new(AuditAction::WebhookDeleted, "webhook", id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues the `test` event (`{"message":"Hello, World!"}`) for this subscription only.
    pub async fn test_subscription(&self, ctx: &Ctx, id: Uuid) -> Result<Delivery, ServiceError> {
        ctx.actor.require_org_admin()?;
        let now = self.clock.now();
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let sub = tx
            .get_subscription(ctx.org_id(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("webhook", id))?;
        // An administrator testing a paused subscription wants the answer now: the test goes
        // out as the circuit's probe.
        if sub.paused_until.is_some() {
            tx.pause_subscription(sub.id, None).await?;
        }
        let event = WebhookEvent {
            id: new_id(),
            org_id: ctx.org_id(),
            event_type: EventType::Test.name().into(),
            occurred_at: now,
            data: serde_json::json!({ "message": "Hello, World!" }).to_string(),
        };
        tx.insert_webhook_event(&event, true).await?;
        let delivery = Delivery {
            id: new_id(),
            org_id: ctx.org_id(),
            subscription_id: sub.id,
            event_id: event.id,
            event_type: event.event_type.clone(),
            event_ids: vec![event.id],
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_status_code: None,
            last_error: None,
            created_at: now,
            delivered_at: None,
        };
        tx.insert_delivery(&delivery).await?;
        self.audit(&mut *tx, ctx, Change::new(AuditAction::WebhookTested, "webhook", id)).await?;
        tx.commit().await?;
        Ok(delivery)
    }

    pub async fn list_deliveries(
        &self,
        ctx: &Ctx,
        subscription_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, ServiceError> {
        ctx.actor.require_validated()?;
        let mut tx = self.store.read().await?;
        tx.get_subscription(ctx.org_id(), subscription_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("webhook", subscription_id))?;
        Ok(tx.list_deliveries(ctx.org_id(), subscription_id, page).await?)
    }

    /// Makes a delivery due again now (also a failed one).
    pub async fn retry_delivery(
        &self,
        ctx: &Ctx,
        subscription_id: Uuid,
        delivery_id: Uuid,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let sub = tx
            .get_subscription(ctx.org_id(), subscription_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("webhook", subscription_id))?;
        // Likewise a manual retry is sent now, as the probe of a paused subscription.
        if sub.paused_until.is_some() {
            tx.pause_subscription(sub.id, None).await?;
        }
        if !tx
            .retry_delivery(
                ctx.org_id(),
                SubscriptionId(subscription_id),
                DeliveryId(delivery_id),
                self.clock.now(),
            )
            .await?
        {
            return Err(ServiceError::not_found("delivery", delivery_id));
        }
        self.audit(
            &mut *tx,
            ctx,
            Change::new(AuditAction::WebhookDeliveryRetried, "webhook", subscription_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `GET /api/v1/AuditLog`.
    pub async fn audit_log(
        &self,
        ctx: &Ctx,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                return Err(ServiceError::Forbidden(
                    "Only administrators may read the audit log".into(),
                ));
            }
        }
        let mut tx = self.store.read().await?;
        Ok(tx.list_audit_events(ctx.org_id(), &filter, page).await?)
    }

    /// Encrypts the target URLs with credentials that were stored in plain text (before URLs
    /// were sealed at creation), leaving their masked form; run when a server starts. Returns
    /// how many it sealed.
    pub async fn seal_plain_target_urls(&self) -> Result<usize, ServiceError> {
        let plain = {
            let mut tx = self.store.read().await?;
            tx.list_plain_target_urls().await?
        };
        let with_credentials: Vec<(Uuid, String, String)> = plain
            .into_iter()
            .filter_map(|(id, url)| masked_target_url(&url).map(|masked| (id, url, masked)))
            .collect();
        if with_credentials.is_empty() {
            return Ok(0);
        }
        let mut sealed = 0;
        let mut tx = self.store.write().await?;
        for (id, url, masked) in with_credentials {
            if tx.seal_target_url(id, &masked, &self.secrets.seal(url.as_bytes())?).await? {
                sealed += 1;
            }
        }
        tx.commit().await?;
        Ok(sealed)
    }

    /// Worker: one step, in one transaction: records the attempts that finished, fans new
    /// outbox events out into deliveries, and leases due deliveries (when there is room).
    /// Returns how many events it fanned out, and the leased deliveries ready to send.
    pub async fn worker_step(
        &self,
        step: WorkerStep<'_>,
    ) -> Result<(u64, Vec<SendJob>), ServiceError> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        self.record_attempts(&mut *tx, step.finished, step.schedule, &step.circuit, now).await?;
        let dispatched = tx.dispatch_events(now, step.dispatch).await?;
        let jobs = match step.lease {
            Some((limits, lease)) => tx.lease_deliveries(now, now + lease, limits).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok((dispatched, self.ready_to_send(jobs).await?))
    }

    /// Opens the leased deliveries' keys and sealed URLs.
    async fn ready_to_send(&self, jobs: Vec<DeliveryJob>) -> Result<Vec<SendJob>, ServiceError> {
        let mut keys: std::collections::HashMap<Uuid, RsaPrivateKey> =
            std::collections::HashMap::new();
        let mut out = Vec::with_capacity(jobs.len());
        for mut job in jobs {
            if let Some(sealed) = &job.target_url_ciphertext {
                job.target_url = String::from_utf8(self.secrets.open(sealed)?)
                    .map_err(|_| ServiceError::Crypto("webhook target URL is not text".into()))?;
            }
            let secret = String::from_utf8(self.secrets.open(&job.secret_ciphertext)?)
                .map_err(|_| ServiceError::Crypto("webhook secret is not text".into()))?;
            let hmac_key = STANDARD
                .decode(secret.trim_start_matches(SECRET_PREFIX))
                .map_err(|_| ServiceError::Crypto("webhook secret is not base64".into()))?;
            let org_id = job.delivery.org_id;
            let signing_key = match keys.get(&org_id) {
                Some(key) => key.clone(),
                None => {
                    let (key, _) = self.signing_key(org_id).await?;
                    keys.insert(org_id, key.clone());
                    key
                }
            };
            out.push(SendJob { job, hmac_key, signing_key });
        }
        Ok(out)
    }

    /// Records finished attempts: each attempt, the delivery's next attempt (or giving up), each
    /// subscription's circuit breaker (failures in a row, in the order given; a pause once they
    /// reach the threshold) and its health from its latest outcome.
    async fn record_attempts(
        &self,
        tx: &mut dyn WriteTx,
        results: &[(DeliveryJob, AttemptOutcome, DateTime<Utc>)],
        schedule: &[Duration],
        circuit: &CircuitBreaker,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        // Ordered by id: two workers update subscriptions in the same order (no deadlock).
        let mut health: std::collections::BTreeMap<Uuid, SubscriptionOutcome> =
            std::collections::BTreeMap::new();
        // Per subscription: (a success came, failures after the last success).
        let mut streaks: std::collections::BTreeMap<Uuid, (bool, u32)> =
            std::collections::BTreeMap::new();
        for (job, outcome, attempted_at) in results {
            let attempt_no = job.delivery.attempts + 1;
            let attempt = DeliveryAttempt {
                delivery_id: job.delivery.id,
                attempt: attempt_no,
                attempted_at: *attempted_at,
                status_code: outcome.status_code.map(i32::from),
                error: outcome.error.clone(),
                duration_ms: outcome.duration_ms,
            };
            let (status, next) = if outcome.succeeded() {
                (DeliveryStatus::Delivered, None)
            } else {
                match next_attempt_at(schedule, attempt_no as u32, now) {
                    Some(at) => (DeliveryStatus::Pending, Some(at)),
                    None => (DeliveryStatus::Failed, None),
                }
            };
            tx.finish_attempt(&attempt, status, next).await?;
            let streak = streaks.entry(job.delivery.subscription_id).or_default();
            *streak = if outcome.succeeded() { (true, 0) } else { (streak.0, streak.1 + 1) };
            health.insert(
                job.delivery.subscription_id,
                (
                    job.delivery.org_id,
                    job.subscription_failing_since,
                    outcome.succeeded(),
                    *attempted_at,
                ),
            );
        }
        for (sub_id, (restart, failures)) in streaks {
            let in_a_row = tx.count_subscription_failures(sub_id, restart, failures).await?;
            let pause = circuit.pause_after(in_a_row).map(|pause| now + pause);
            if let Some(until) = pause {
                tracing::warn!(
                    subscription_id = %sub_id, failures_in_a_row = in_a_row, paused_until = %until,
                    "webhook subscription keeps failing; its deliveries pause"
                );
            }
            // (A round of successes only has ended any pause already.)
            if pause.is_some() || (restart && failures > 0) {
                tx.pause_subscription(sub_id, pause).await?;
            }
        }
        for (sub_id, (org_id, failing_since, succeeded, attempted_at)) in health {
            if succeeded {
                // Always: the job's view may predate a failure another step recorded since.
                tx.set_subscription_health(sub_id, true, None).await?;
                continue;
            }
            let since = failing_since.unwrap_or(attempted_at);
            if should_disable(Some(since), now) {
                tx.set_subscription_health(sub_id, false, Some(since)).await?;
                let ctx = Ctx::new(Actor { org_id, kind: ActorKind::System }, None);
                let change = Change::new(AuditAction::WebhookDisabled, "webhook", sub_id).after(
                    serde_json::json!({ "failingSince": since, "reason": "failing for 5 days" }),
                );
                self.audit(tx, &ctx, change).await?;
                tracing::warn!(subscription_id = %sub_id, "webhook disabled after failing for 5 days");
            } else if failing_since.is_none() {
                tx.set_subscription_health(sub_id, true, Some(since)).await?;
            }
        }
        Ok(())
    }
}
