//! The notification delivery worker.
//!
//! It leases the notifications that are due (so that with several servers on one database each
//! is sent by one worker at a time: `FOR UPDATE SKIP LOCKED` and a lease, as webhook deliveries
//! are), sends each by e-mail (SMTP, multipart plain text + HTML) or to the organization's Slack
//! incoming webhook (`{"text": …}`, through the same egress policy as webhooks), and records the
//! outcome: sent, or retried after the schedule's next delay, or given up (`Failed`). Delivery is
//! at-least-once: a crash after sending but before recording means the lease expires and the
//! notification is sent again.
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use portcullis_domain::egress::{EgressPolicy, TargetHost};
use portcullis_domain::notifications::{NotificationChannel, NOTIFICATION_RETRY_SCHEDULE};
use portcullis_domain::Notification;
use portcullis_service::{NotificationJob, Service, ServiceError};
use portcullis_webhooks::egress::{blocked_in, EgressResolver};
use tokio::task::JoinSet;

/// Where e-mail goes: `--smtp-url` and `--mail-from`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain; add `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host:port` (TLS from the first byte).
    pub url: String,
    /// The sender, `Portcullis <portcullis@example.com>` or a bare address.
    pub from: String,
}

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Pause between steps when there is nothing to do.
    pub poll_interval: Duration,
    /// Most notifications leased (and sent side by side) per step.
    pub batch: u32,
    /// How long a leased notification is reserved for this worker.
    pub lease: chrono::Duration,
    /// An SMTP server or Slack must answer within this time.
    pub timeout: Duration,
    /// Delays between attempts after the first.
    pub retry_schedule: Vec<chrono::Duration>,
    /// E-mail; `None` when the server has no SMTP configured.
    pub smtp: Option<SmtpConfig>,
    /// Fixed answers for names, looked up before DNS; the egress policy still applies.
    pub hosts: Vec<(String, IpAddr)>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch: 32,
            lease: chrono::Duration::seconds(120),
            timeout: Duration::from_secs(30),
            retry_schedule: NOTIFICATION_RETRY_SCHEDULE.to_vec(),
            smtp: None,
            hosts: Vec::new(),
        }
    }
}

/// One finished attempt: the notification and whether it went out (or why not).
type Finished = (Notification, Result<(), String>);

/// The notification delivery worker.
#[derive(Clone)]
pub struct Worker {
    service: Service,
    mailer: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    http: reqwest::Client,
    policy: Arc<EgressPolicy>,
    config: Arc<WorkerConfig>,
}

impl Worker {
    /// A worker over `service`, posting to Slack under the service's egress policy.
    pub fn new(service: Service, config: WorkerConfig) -> Result<Self, String> {
        let mailer = match &config.smtp {
            Some(smtp) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                    .map_err(|e| format!("--smtp-url is not a valid SMTP URL: {e}"))?
                    .timeout(Some(config.timeout))
                    .build();
                let from: Mailbox = smtp
                    .from
                    .parse()
                    .map_err(|e| format!("--mail-from is not a valid address: {e}"))?;
                Some((transport, from))
            }
            None => None,
        };
        let policy = Arc::new(service.webhook_settings().egress.clone());
        let resolver = Arc::new(EgressResolver::new(policy.clone(), &config.hosts));
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(resolver)
            .user_agent(concat!("Portcullis-Notifications/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the notification HTTP client: {e}"))?;
        Ok(Self { service, mailer, http, policy, config: Arc::new(config) })
    }

    /// Runs until `shutdown` resolves; the step in progress finishes and is recorded first.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let busy = match self.step().await {
                Ok(sent) => sent > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "notification worker step failed; retrying");
                    false
                }
            };
            let pause = if busy { Duration::ZERO } else { self.config.poll_interval };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Sends every notification due at the service clock's current time, step after step,
    /// until none is left; returns how many attempts were made. Notifications waiting for a
    /// retry back-off are left until the clock reaches them.
    pub async fn run_until_idle(&self) -> Result<usize, ServiceError> {
        let mut attempted = 0;
        loop {
            let sent = self.step().await?;
            if sent == 0 {
                return Ok(attempted);
            }
            attempted += sent;
        }
    }

    /// Leases a batch, sends it side by side, records the outcomes.
    async fn step(&self) -> Result<usize, ServiceError> {
        let jobs = self
            .service
            .lease_notifications_for_worker(self.config.batch, self.config.lease)
            .await?;
        let count = jobs.len();
        let mut sends = JoinSet::new();
        for job in jobs {
            let worker = self.clone();
            sends.spawn(async move { worker.send(job).await });
        }
        let mut finished: Vec<Finished> = Vec::with_capacity(count);
        while let Some(done) = sends.join_next().await {
            match done {
                Ok(done) => finished.push(done),
                // The lease expires and the notification is tried again.
                Err(err) => tracing::warn!(error = %err, "a notification send task failed"),
            }
        }
        self.service
            .record_notifications_for_worker(&finished, &self.config.retry_schedule)
            .await?;
        Ok(count)
    }

    async fn send(&self, job: NotificationJob) -> Finished {
        let outcome = match job.notification.channel {
            NotificationChannel::Email => self.mail(&job.notification).await,
            NotificationChannel::Slack => self.slack(&job).await,
        };
        let n = &job.notification;
        tracing::debug!(notification_id = %n.id, channel = %n.channel.name(), error = ?outcome.as_ref().err(), "notification attempt");
        (job.notification, outcome)
    }

    async fn mail(&self, n: &Notification) -> Result<(), String> {
        let Some((transport, from)) = &self.mailer else {
            return Err("SMTP is not configured on this server (--smtp-url)".into());
        };
        let to: Mailbox =
            n.recipient.parse().map_err(|e| format!("the recipient address is not valid: {e}"))?;
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(n.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(n.body_text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(n.body_html.clone()),
                    ),
            )
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        transport.send(message).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
    }

    /// Posts `{"text": …}` to the organization's Slack incoming webhook (never naming the URL
    /// in an error: it is a secret).
    async fn slack(&self, job: &NotificationJob) -> Result<(), String> {
        let Some(url) = &job.slack_url else {
            return Err("the organization has no Slack webhook URL any more".into());
        };
        let url = reqwest::Url::parse(url)
            .map_err(|_| "the Slack webhook URL is not a valid URL".to_string())?;
        if let Some(TargetHost::Ip(ip)) = TargetHost::of(&url) {
            self.policy.check(ip).map_err(|blocked| blocked.to_string())?;
        }
        let body = serde_json::json!({ "text": job.notification.body_text });
        let response = self.http.post(url).json(&body).send().await.map_err(describe)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("Slack answered {status}"))
        }
    }
}

/// A failed request in words: the egress refusal, a timeout, or the error and its causes.
fn describe(err: reqwest::Error) -> String {
    if let Some(blocked) = blocked_in(&err) {
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
