//! The webhook delivery worker.
//!
//! Each tick it fans new outbox events out into deliveries, leases the deliveries that are due
//! (so that with several servers on one database each is sent by one worker at a time), signs and
//! posts them, and records every attempt. Delivery is at-least-once: a crash after sending but
//! before recording means the lease expires and the delivery is sent again; receivers deduplicate
//! on `webhook-id`.
//!
//! Headers: `X-SIGNATURE` (base64 RSA PKCS#1 v1.5 / SHA-256 signature of the raw body with the
//! organization's key, as Cakewalk does) and the Standard Webhooks headers `webhook-id`,
//! `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use portcullis_domain::webhook::DEFAULT_RETRY_SCHEDULE;
use portcullis_domain::WebhookEvent;
use portcullis_service::{AttemptOutcome, SendJob, Service};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use sha2::Sha256;

/// How the worker behaves; the defaults are the documented retry schedule and timeouts.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between ticks when there was nothing to do.
    pub poll_interval: Duration,
    /// Most deliveries leased per tick.
    pub batch: u32,
    /// How long a leased delivery is reserved for this worker.
    pub lease: chrono::Duration,
    /// A receiver must answer 2xx within this time.
    pub timeout: Duration,
    /// Delays between attempts after the first.
    pub retry_schedule: Vec<chrono::Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            batch: 200,
            lease: chrono::Duration::seconds(60),
            timeout: Duration::from_secs(15),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
        }
    }
}

/// The request body: a JSON array of events `{id, eventType, occurredAt, data}`.
pub fn body_for(event: &WebhookEvent) -> Vec<u8> {
    let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
    let body = serde_json::json!([{
        "id": event.id,
        "eventType": event.event_type,
        "occurredAt": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    }]);
    body.to_string().into_bytes()
}

/// `X-SIGNATURE`: base64 RSASSA-PKCS1-v1_5 with SHA-256 over the raw body.
pub fn rsa_signature(key: &RsaPrivateKey, body: &[u8]) -> String {
    let signer = SigningKey::<Sha256>::new(key.clone());
    STANDARD.encode(signer.sign(body).to_bytes())
}

/// `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"`.
pub fn standard_signature(hmac_key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(hmac_key).expect("HMAC takes keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// What one round did.
struct Round {
    /// Outbox events fanned out into deliveries.
    dispatched: u64,
    /// Deliveries leased and attempted.
    sent: usize,
}

/// The delivery worker.
#[derive(Clone)]
pub struct Worker {
    service: Service,
    http: reqwest::Client,
    config: Arc<WorkerConfig>,
}

impl Worker {
    pub fn new(service: Service, config: WorkerConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Portcullis-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self { service, http, config: Arc::new(config) })
    }

    /// Runs until `shutdown` resolves. A round in progress is always finished and recorded first
    /// (never cut mid-transaction), and the stop request is honoured between rounds even while a
    /// backlog keeps the worker busy, so shutdown waits for at most one round.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let busy = match self.tick().await {
                Ok(sent) => sent > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "webhook worker tick failed; retrying");
                    false
                }
            };
            // With more work waiting the next round starts at once; otherwise after a pause.
            let pause = async {
                if !busy {
                    tokio::time::sleep(self.config.poll_interval).await;
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = pause => {}
            }
        }
    }

    /// One round: dispatch, lease, send (concurrently), record. Returns how many were sent.
    pub async fn tick(&self) -> Result<usize, portcullis_service::ServiceError> {
        Ok(self.round().await?.sent)
    }

    /// Runs rounds until one finds no new event to fan out and no delivery due at the service
    /// clock's current time; returns how many deliveries were attempted in all. Deliveries
    /// waiting for a retry back-off are left alone until the clock reaches them, so with a
    /// manual clock a caller steps through the schedule deterministically: advance the clock,
    /// run until idle, look at what the receiver got.
    pub async fn run_until_idle(&self) -> Result<usize, portcullis_service::ServiceError> {
        let mut attempted = 0;
        loop {
            let round = self.round().await?;
            attempted += round.sent;
            if round.dispatched == 0 && round.sent == 0 {
                return Ok(attempted);
            }
        }
    }

    async fn round(&self) -> Result<Round, portcullis_service::ServiceError> {
        let dispatched = self.service.dispatch_events_for_worker(self.config.batch * 5).await?;
        let jobs =
            self.service.lease_deliveries_for_worker(self.config.batch, self.config.lease).await?;
        let count = jobs.len();
        let mut sends = tokio::task::JoinSet::new();
        for job in jobs {
            let worker = self.clone();
            sends.spawn(async move { worker.send(job).await });
        }
        let mut results = Vec::with_capacity(count);
        while let Some(result) = sends.join_next().await {
            match result {
                Ok(done) => results.push(done),
                // The lease expires and the delivery is tried again.
                Err(err) => tracing::warn!(error = %err, "a webhook send task failed"),
            }
        }
        // All attempts of the round in one transaction.
        self.service.record_attempts_for_worker(&results, &self.config.retry_schedule).await?;
        Ok(Round { dispatched, sent: count })
    }

    async fn send(
        &self,
        send: SendJob,
    ) -> (portcullis_service::DeliveryJob, AttemptOutcome, chrono::DateTime<chrono::Utc>) {
        let job = &send.job;
        let body = body_for(&job.event);
        let attempted_at = self.service.clock().now();
        let timestamp = attempted_at.timestamp();
        let msg_id = job.event.id.to_string();
        let started = Instant::now();
        let response = self
            .http
            .post(&job.target_url)
            .header("content-type", "application/json")
            .header("X-SIGNATURE", rsa_signature(&send.signing_key, &body))
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                standard_signature(&send.hmac_key, &msg_id, timestamp, &body),
            )
            .body(body)
            .send()
            .await;
        let outcome = match response {
            Ok(r) => AttemptOutcome {
                status_code: Some(r.status().as_u16()),
                error: (!r.status().is_success())
                    .then(|| format!("receiver answered {}", r.status())),
                duration_ms: started.elapsed().as_millis() as i64,
            },
            Err(e) => AttemptOutcome {
                status_code: None,
                error: Some(if e.is_timeout() { "timed out".to_string() } else { format!("{e}") }),
                duration_ms: started.elapsed().as_millis() as i64,
            },
        };
        tracing::debug!(
            delivery_id = %job.delivery.id,
            event_type = %job.event.event_type,
            status = ?outcome.status_code,
            "webhook attempt"
        );
        (send.job, outcome, attempted_at)
    }
}
