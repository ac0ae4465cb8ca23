//! The webhook delivery worker.
//!
//! It fans new outbox events out into deliveries, leases the deliveries that are due (so that
//! with several servers on one database each is sent by one worker at a time), signs and posts
//! them, and records every attempt. A delivery is one POST: up to 100 of a subscription's events
//! (or 256 KiB of body), in order, as one JSON array under one signature; a retry sends the same
//! body again. Each subscription has one POST in flight at most, its oldest pending one, so its
//! events arrive in order; a POST given up (after the retry schedule) lets the next one go.
//! Delivery is at-least-once: a crash after sending but before recording means the lease expires
//! and the POST is sent again; receivers deduplicate on `webhook-id` (the POST's id) or on each
//! event's `id`.
//!
//! Fairness and isolation: every send is an independent task; a finished send is recorded and
//! its slot refilled at once, so a slow receiver holds only its own slots. Leases are shared by
//! turns between organizations and, within one, between subscriptions, under caps on what each
//! holds at once (one POST per subscription, a cap per organization, and this worker's total),
//! so one organization's dead receivers cannot take the slots another organization needs. A
//! subscription whose attempts keep failing pauses (circuit breaker): none of its deliveries is
//! leased until the pause ends, and then a single probe goes first.
//!
//! Egress: deliveries only connect to addresses the server's egress policy allows, checked after
//! resolution on every connection (see `egress`).
//!
//! Headers: `X-SIGNATURE` (base64 RSA PKCS#1 v1.5 / SHA-256 signature of the raw body with the
//! organization's key, as Cakewalk does) and the Standard Webhooks headers `webhook-id`,
//! `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).

pub mod egress;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use portcullis_domain::egress::{EgressPolicy, TargetHost};
use portcullis_domain::webhook::{batch_body, CircuitBreaker, LeaseLimits, DEFAULT_RETRY_SCHEDULE};
use portcullis_service::{AttemptOutcome, DeliveryJob, SendJob, Service, ServiceError, WorkerStep};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use sha2::Sha256;
use tokio::task::JoinSet;

/// Most outbox events fanned out into deliveries per step.
const DISPATCH_BATCH: u32 = 1000;

/// How the worker behaves; the defaults are the documented retry schedule, timeouts and caps.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between steps when there is nothing to do (new events are picked up this often,
    /// also while sends are in flight).
    pub poll_interval: Duration,
    /// Most deliveries this worker has in flight at once.
    pub max_in_flight: u32,
    /// Most deliveries of one organization in flight at once (across all workers).
    pub per_organization: u32,
    /// When a failing subscription pauses.
    pub circuit: CircuitBreaker,
    /// How long a leased delivery is reserved for this worker.
    pub lease: chrono::Duration,
    /// A receiver must answer 2xx within this time.
    pub timeout: Duration,
    /// Delays between attempts after the first.
    pub retry_schedule: Vec<chrono::Duration>,
    /// Fixed answers for names, like `/etc/hosts`, looked up before DNS; the egress policy
    /// still applies to them.
    pub hosts: Vec<(String, IpAddr)>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            max_in_flight: 128,
            per_organization: 32,
            circuit: CircuitBreaker::default(),
            lease: chrono::Duration::seconds(60),
            timeout: Duration::from_secs(15),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            hosts: Vec::new(),
        }
    }
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

/// One finished attempt: the job, its outcome and when it started.
type Finished = (DeliveryJob, AttemptOutcome, chrono::DateTime<chrono::Utc>);

/// What one step did.
struct Step {
    /// Outbox events fanned out into deliveries.
    dispatched: u64,
    /// Sends started.
    started: usize,
}

/// The delivery worker.
#[derive(Clone)]
pub struct Worker {
    service: Service,
    http: reqwest::Client,
    policy: Arc<EgressPolicy>,
    config: Arc<WorkerConfig>,
}

impl Worker {
    /// A worker over `service`, under the service's egress policy.
    pub fn new(service: Service, config: WorkerConfig) -> Result<Self, String> {
        let policy = Arc::new(service.webhook_settings().egress.clone());
        let resolver = Arc::new(egress::EgressResolver::new(policy.clone(), &config.hosts));
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve and connect in our stead, past the egress policy.
            .no_proxy()
            .dns_resolver(resolver)
            .user_agent(concat!("Portcullis-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self { service, http, policy, config: Arc::new(config) })
    }

    /// Runs until `shutdown` resolves. Sends run side by side; each finished one is recorded
    /// and its slot refilled at once, and new events are picked up every poll interval even
    /// while slow receivers hold sends in flight. On shutdown nothing new is leased; the sends
    /// in flight finish (each within the timeout) and are recorded before this returns.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut sends = JoinSet::new();
        let mut finished: Vec<Finished> = Vec::new();
        loop {
            let more = match self.step(&mut sends, std::mem::take(&mut finished)).await {
                Ok(step) => step.dispatched > 0 || step.started > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "webhook worker step failed; retrying");
                    false
                }
            };
            // With free slots and work that may be waiting, the next step starts at once.
            let pause = if more && self.free(&sends) > 0 {
                Duration::ZERO
            } else {
                self.config.poll_interval
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(done) = sends.join_next(), if !sends.is_empty() => {
                    collect(done, &mut finished);
                    drain_ready(&mut sends, &mut finished);
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
        while let Some(done) = sends.join_next().await {
            collect(done, &mut finished);
        }
        if let Err(err) = self.record(&finished).await {
            tracing::warn!(error = %err, "recording the last webhook attempts failed");
        }
    }

    /// Runs until no new event is left to fan out, no delivery is due at the service clock's
    /// current time and nothing is in flight; returns how many deliveries were attempted in all.
    /// Deliveries waiting for a retry back-off (or a paused subscription) are left alone until
    /// the clock reaches them, so with a manual clock a caller steps through the schedule
    /// deterministically: advance the clock, run until idle, look at what the receiver got.
    pub async fn run_until_idle(&self) -> Result<usize, ServiceError> {
        let mut sends = JoinSet::new();
        let mut finished: Vec<Finished> = Vec::new();
        let mut attempted = 0;
        loop {
            let step = self.step(&mut sends, std::mem::take(&mut finished)).await?;
            attempted += step.started;
            match sends.join_next().await {
                Some(done) => {
                    collect(done, &mut finished);
                    drain_ready(&mut sends, &mut finished);
                }
                None if step.dispatched == 0 && step.started == 0 => return Ok(attempted),
                None => {}
            }
        }
    }

    fn free(&self, sends: &JoinSet<Finished>) -> u32 {
        self.config.max_in_flight.saturating_sub(u32::try_from(sends.len()).unwrap_or(u32::MAX))
    }

    /// Records what finished, fans out new events, and fills the free slots with due
    /// deliveries (one transaction), each then sent by its own task.
    async fn step(
        &self,
        sends: &mut JoinSet<Finished>,
        finished: Vec<Finished>,
    ) -> Result<Step, ServiceError> {
        let free = self.free(sends);
        let limits = LeaseLimits {
            total: free,
            // The store leases one POST per subscription at a time whatever this says.
            per_subscription: 1,
            per_organization: self.config.per_organization,
            probe_after_failures: self.config.circuit.threshold,
        };
        let (dispatched, jobs) = self
            .service
            .worker_step(WorkerStep {
                finished: &finished,
                schedule: &self.config.retry_schedule,
                circuit: self.config.circuit,
                dispatch: DISPATCH_BATCH,
                lease: (free > 0).then_some((limits, self.config.lease)),
            })
            .await?;
        let started = jobs.len();
        for job in jobs {
            let worker = self.clone();
            sends.spawn(async move { worker.send(job).await });
        }
        Ok(Step { dispatched, started })
    }

    /// Records the last attempts (at shutdown), leasing nothing more.
    async fn record(&self, finished: &[Finished]) -> Result<(), ServiceError> {
        if finished.is_empty() {
            return Ok(());
        }
        self.service
            .worker_step(WorkerStep {
                finished,
                schedule: &self.config.retry_schedule,
                circuit: self.config.circuit,
                dispatch: 0,
                lease: None,
            })
            .await
            .map(|_| ())
    }

    async fn send(&self, send: SendJob) -> Finished {
        let attempted_at = self.service.clock().now();
        let started = Instant::now();
        let outcome = match self.post(&send, attempted_at.timestamp()).await {
            Ok(status) => AttemptOutcome {
                status_code: Some(status.as_u16()),
                error: (!status.is_success()).then(|| format!("receiver answered {status}")),
                duration_ms: started.elapsed().as_millis() as i64,
            },
            Err(error) => AttemptOutcome {
                status_code: None,
                error: Some(error),
                duration_ms: started.elapsed().as_millis() as i64,
            },
        };
        let job = &send.job;
        tracing::debug!(
            delivery_id = %job.delivery.id,
            events = job.events.len(),
            status = ?outcome.status_code,
            error = ?outcome.error,
            "webhook attempt"
        );
        (send.job, outcome, attempted_at)
    }

    /// Signs and posts one delivery (one POST of its events); the receiver's status, or why there was none (never with
    /// the URL, which may hold credentials).
    async fn post(&self, send: &SendJob, timestamp: i64) -> Result<reqwest::StatusCode, String> {
        let job = &send.job;
        let url = reqwest::Url::parse(&job.target_url)
            .map_err(|_| "the target URL is not a valid URL".to_string())?;
        // The client connects to a literal address without resolving it: check it here. Names
        // are checked by the resolver, after resolution, on every connection.
        if let Some(TargetHost::Ip(ip)) = TargetHost::of(&url) {
            self.policy.check(ip).map_err(|blocked| blocked.to_string())?;
        }
        // A JSON array of the events `{id, eventType, occurredAt, data}`.
        let body = batch_body(&job.events);
        // The POST's own id, the same on each retry of it.
        let msg_id = job.delivery.id.to_string();
        let response = self
            .http
            .post(url)
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
            .await
            .map_err(describe)?;
        Ok(response.status())
    }
}

/// A failed request in words: the egress refusal, a timeout, or the error and its causes.
fn describe(err: reqwest::Error) -> String {
    if let Some(blocked) = egress::blocked_in(&err) {
        return blocked.to_string();
    }
    if err.is_timeout() {
        return "timed out".to_string();
    }
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn collect(done: Result<Finished, tokio::task::JoinError>, finished: &mut Vec<Finished>) {
    match done {
        Ok(done) => finished.push(done),
        // The lease expires and the delivery is tried again.
        Err(err) => tracing::warn!(error = %err, "a webhook send task failed"),
    }
}

/// Takes every send that has already finished, so that they are recorded together.
fn drain_ready(sends: &mut JoinSet<Finished>, finished: &mut Vec<Finished>) {
    while let Some(done) = sends.try_join_next() {
        collect(done, finished);
    }
}
