//! `portcullis`: the server and its command-line tools.
mod demo;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use portcullis_api::{AppState, HttpConfig};
use portcullis_domain::egress::{parse_network, EgressPolicy, IpNet};
use portcullis_domain::SystemClock;
use portcullis_service::{
    NotificationConfig, SecretBox, ServerProvider, Service, SessionConfig, SsoSettings,
    WebhookSettings,
};
use portcullis_store::sqlite::private;
use portcullis_webhooks::{Worker, WorkerConfig};
use tracing_subscriber::EnvFilter;

/// Default database: a SQLite file next to where the server is started.
const DEFAULT_DATABASE_URL: &str = "sqlite://portcullis-data/portcullis.db";

#[derive(Parser)]
#[command(name = "portcullis", version, about = "Self-hosted access management server")]
struct Cli {
    /// Log format.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct DatabaseArgs {
    /// Database URL: a SQLite file (`sqlite://path` or a path) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Base64 of 32 bytes: the key that encrypts stored secrets (webhook secrets, signing keys).
    /// Default for SQLite: `master.key` beside the database file, created on first use.
    #[arg(long, env = "PORTCULLIS_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
}

/// The master key: given, or read from (or created in) `master.key` beside a SQLite database.
fn master_key(db: &DatabaseArgs) -> Result<SecretBox, String> {
    if let Some(key) = &db.master_key {
        return SecretBox::from_base64(key);
    }
    if db.database_url.starts_with("postgres") {
        return Err("PORTCULLIS_MASTER_KEY (or --master-key) is required with PostgreSQL: every server must share it".into());
    }
    let database = portcullis_store::sqlite::database_path(&db.database_url);
    let path =
        database.parent().map(|dir| dir.join("master.key")).unwrap_or_else(|| "master.key".into());
    if let Ok(text) = std::fs::read_to_string(&path) {
        if private::is_loose(&path, 0o600) {
            private::tighten(&path, 0o600);
        }
        return SecretBox::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The database's own folder, private (0700) as the store keeps it.
        private::folder(dir, &database)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let key = SecretBox::generate_key_base64();
    write_private_file(&path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "created a new master key; back it up with the database");
    SecretBox::from_base64(&key)
}

/// Creates a file only its owner can read (the key must not be world-readable).
fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Delays between webhook delivery attempts after the first, e.g. `5s,5m,30m,2h,5h,10h,10h`.
        #[arg(long, env = "PORTCULLIS_WEBHOOK_RETRY_SCHEDULE", value_parser = parse_schedule)]
        webhook_retry_schedule: Option<Schedule>,
        /// Requests per minute per API key or bearer token, counted once it is verified, per
        /// server process (0: unlimited).
        #[arg(long, env = "PORTCULLIS_RATE_LIMIT_PER_MINUTE", default_value_t = 1000)]
        rate_limit_per_minute: u32,
        /// Failed authentications per minute per client address; beyond it the address gets 429
        /// until the minute is over (0: unlimited).
        #[arg(long, env = "PORTCULLIS_AUTH_FAILURE_LIMIT_PER_MINUTE", default_value_t = 30)]
        auth_failure_limit_per_minute: u32,
        /// Web console requests per minute per client address (0: unlimited).
        #[arg(long, env = "PORTCULLIS_CONSOLE_RATE_LIMIT_PER_MINUTE", default_value_t = 300)]
        console_rate_limit_per_minute: u32,
        /// Console sign-in attempts per minute per client address (0: unlimited).
        #[arg(long, env = "PORTCULLIS_SIGN_IN_LIMIT_PER_MINUTE", default_value_t = 10)]
        sign_in_limit_per_minute: u32,
        /// Take the client address for rate limits from this header (e.g. `X-Forwarded-For`, last
        /// entry, or `X-Real-IP`). Set it only when every request comes through a reverse proxy
        /// that sets the header; otherwise clients could choose their own address.
        #[arg(long, env = "PORTCULLIS_CLIENT_IP_HEADER")]
        client_ip_header: Option<axum::http::HeaderName>,
        /// Serve `/metrics` on this address instead of the main listener (e.g. an internal
        /// interface); the main listener then answers 404 for it.
        #[arg(long, env = "PORTCULLIS_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// Minutes a web console session may stay unused before it ends.
        #[arg(long, env = "PORTCULLIS_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        session_idle_minutes: u32,
        /// Hours after sign-in at which a web console session ends, however active.
        #[arg(long, env = "PORTCULLIS_SESSION_LIFETIME_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..))]
        session_lifetime_hours: u32,
        /// Seconds a request (body included) may take before it is answered 408.
        #[arg(long, env = "PORTCULLIS_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
        request_timeout_seconds: u64,
        /// Do not run the webhook delivery worker in this process.
        #[arg(long, env = "PORTCULLIS_NO_WEBHOOK_WORKER")]
        no_webhook_worker: bool,
        #[command(flatten)]
        webhooks: WebhookArgs,
        #[command(flatten)]
        sso: Box<SsoArgs>,
        #[command(flatten)]
        mail: MailArgs,
        /// Seconds between sweeps that remove expired accesses and handle overdue access reviews.
        #[arg(long, env = "PORTCULLIS_EXPIRY_SWEEP_SECONDS", default_value_t = 30)]
        expiry_sweep_seconds: u64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Create an organization with its owner, an API credential and an owner token.
    Init {
        #[arg(long)]
        org_name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        owner_name: String,
        /// Print exactly one JSON object: organizationId, ownerUserId, apiKey, apiSecret, ownerToken.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Manage users' personal bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage organization API credentials (X-API-KEY / X-API-SECRET for /api/v1).
    Credential {
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// Manage the organization's SCIM tokens (what an identity provider uses to sync users and
    /// groups to /scim/v2).
    ScimToken {
        #[command(subcommand)]
        command: ScimTokenCommand,
    },
    /// Fill a new organization with sample data (users, groups, apps, pending requests) and print
    /// sign-in tokens for an administrator and an employee.
    Demo {
        /// How many users to create.
        #[arg(long, default_value_t = 300)]
        users: usize,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a bearer token to a user (shown once).
    Create {
        /// The user's e-mail address.
        #[arg(long)]
        user_email: String,
        /// The organization, when the address exists in several.
        #[arg(long)]
        org_id: Option<uuid::Uuid>,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Lifetime such as `30d`, `12h`, `90m` or `3600s`; no expiry when absent.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<chrono::Duration>,
        /// Print one JSON object: tokenId, userId, organizationId, token, expiresAt.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Create an API credential (the secret is shown once).
    Create {
        /// The organization.
        #[arg(long)]
        org_id: uuid::Uuid,
        /// A label for the credential.
        #[arg(long, default_value = "cli")]
        name: String,
        /// A read-only credential (it can never write).
        #[arg(long)]
        read_only: bool,
        /// Print one JSON object: {"id", "organizationId", "apiKey", "apiSecret", "accessLevel"}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum ScimTokenCommand {
    /// Create a SCIM token (shown once).
    Create {
        /// The organization.
        #[arg(long)]
        org_id: uuid::Uuid,
        /// A label for the token, e.g. the identity provider's name.
        #[arg(long, default_value = "scim")]
        name: String,
        /// Print one JSON object: {"id", "organizationId", "token"}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Single sign-on to the console with OpenID Connect, for every organization of the server
/// (an organization may also set its own provider through the API).
#[derive(clap::Args)]
struct SsoArgs {
    /// The OpenID provider's issuer URL (its discovery document is
    /// `{issuer}/.well-known/openid-configuration`), e.g. `https://acme.okta.com`.
    #[arg(long, env = "PORTCULLIS_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret"])]
    oidc_issuer: Option<url::Url>,
    /// The client id Portcullis is registered with at the provider.
    #[arg(long, env = "PORTCULLIS_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The client secret of that registration.
    #[arg(
        long,
        env = "PORTCULLIS_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        requires = "oidc_issuer"
    )]
    oidc_client_secret: Option<String>,
    /// Accept e-mail addresses the provider does not mark verified (for providers that send no
    /// `email_verified` claim, such as Entra ID, whose addresses the directory's administrators set).
    #[arg(long, env = "PORTCULLIS_OIDC_TRUST_EMAIL")]
    oidc_trust_email: bool,
    /// The URL browsers reach this server at (links in e-mails, the sign-in redirect URI
    /// `{public-url}/login/oidc/callback`); default `http://{listen}`.
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL")]
    public_url: Option<url::Url>,
}

impl SsoArgs {
    fn settings(self, listen: SocketAddr) -> Result<SsoSettings, String> {
        let public_url = match self.public_url {
            Some(url) => url,
            None => url::Url::parse(&format!("http://{listen}")).map_err(|e| e.to_string())?,
        };
        let server_provider = match (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        {
            (Some(issuer), Some(client_id), Some(client_secret)) => Some(ServerProvider {
                issuer: issuer.as_str().trim_end_matches('/').to_string(),
                client_id,
                client_secret,
            }),
            _ => None,
        };
        Ok(SsoSettings {
            server_provider,
            public_url: Some(public_url),
            trust_email: self.oidc_trust_email,
        })
    }
}

/// Where webhooks may go, and how many an organization may have.
#[derive(clap::Args)]
struct WebhookArgs {
    /// Let webhooks go to any address: loopback, private, link-local… (turns the egress policy
    /// off; by default only public internet addresses are allowed).
    #[arg(long, env = "PORTCULLIS_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// A network webhooks may go to although it is not public, e.g. `10.20.0.0/16` or one
    /// address (repeatable; the environment variable takes a comma-separated list).
    #[arg(
        long = "webhook-allow-network",
        env = "PORTCULLIS_WEBHOOK_ALLOW_NETWORK",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    webhook_allow_networks: Vec<IpNet>,
    /// Webhook subscriptions an organization may have at once.
    #[arg(long, env = "PORTCULLIS_MAX_WEBHOOKS_PER_ORG", default_value_t = portcullis_service::DEFAULT_MAX_WEBHOOKS_PER_ORG)]
    max_webhooks_per_org: u32,
}

impl WebhookArgs {
    fn settings(self) -> WebhookSettings {
        WebhookSettings {
            egress: EgressPolicy {
                allow_private: self.webhook_allow_private,
                allowed_networks: self.webhook_allow_networks,
            },
            max_per_org: self.max_webhooks_per_org,
        }
    }
}

/// A retry schedule given on the command line.
#[derive(Clone, Debug)]
struct Schedule(Vec<chrono::Duration>);

fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let delays = text.split(',').map(parse_lifetime).collect::<Result<Vec<_>, _>>()?;
    Ok(Schedule(delays))
}

/// Parses `30d`, `12h`, `90m`, `3600s` (a positive number and a unit).
fn parse_lifetime(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("'{text}' is not a lifetime like 30d"))?;
    if n <= 0 {
        return Err("the lifetime must be positive".into());
    }
    let duration = match unit {
        "d" => chrono::Duration::try_days(n),
        "h" => chrono::Duration::try_hours(n),
        "m" => chrono::Duration::try_minutes(n),
        "s" | "" => chrono::Duration::try_seconds(n),
        other => return Err(format!("unknown unit '{other}': use d, h, m or s")),
    };
    duration.ok_or_else(|| "the lifetime is too long".into())
}

fn init_logging(format: LogFormat) {
    // Logs go to stderr so that `init --json` keeps stdout to its one JSON object.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn open_service(db: &DatabaseArgs) -> Result<Service, String> {
    let secrets = master_key(db)?;
    let store = portcullis_store::connect(&db.database_url)
        .await
        .map_err(|e| format!("cannot open database: {e}"))?;
    Ok(Service::new(store, Arc::new(SystemClock), secrets))
}

/// mimalloc instead of the system allocator: a request allocates many small, short-lived
/// values (rows, JSON), where glibc's malloc was a fifth of the CPU time of a read.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Serve {
            listen,
            expiry_sweep_seconds,
            db,
            webhook_retry_schedule,
            no_webhook_worker,
            webhooks,
            sso,
            mail,
            rate_limit_per_minute,
            auth_failure_limit_per_minute,
            console_rate_limit_per_minute,
            sign_in_limit_per_minute,
            client_ip_header,
            metrics_listen,
            session_idle_minutes,
            session_lifetime_hours,
            request_timeout_seconds,
        } => {
            let http = HttpConfig {
                rate_limit_per_minute,
                auth_failures_per_minute: auth_failure_limit_per_minute,
                console_per_minute: console_rate_limit_per_minute,
                sign_ins_per_minute: sign_in_limit_per_minute,
                client_ip_header,
                metrics_on_main_listener: metrics_listen.is_none(),
                request_timeout: std::time::Duration::from_secs(request_timeout_seconds.max(1)),
                ..HttpConfig::default()
            };
            let sessions = SessionConfig {
                idle: chrono::Duration::minutes(session_idle_minutes.into()),
                absolute: chrono::Duration::hours(session_lifetime_hours.into()),
            };
            let worker = (!no_webhook_worker).then(|| {
                let mut config = WorkerConfig::default();
                if let Some(Schedule(schedule)) = webhook_retry_schedule {
                    config.retry_schedule = schedule;
                }
                config
            });
            let listeners = Listeners { main: listen, metrics: metrics_listen };
            match sso.settings(listen) {
                Ok(sso) => {
                    let public_url = sso
                        .public_url
                        .as_ref()
                        .map(|u| u.as_str().trim_end_matches('/').to_string())
                        .unwrap_or_else(|| format!("http://{listen}"));
                    let notify = Notify {
                        config: NotificationConfig { public_url, email: mail.smtp_url.is_some() },
                        worker: mail.worker_config(),
                    };
                    let jobs = Jobs { sweep_seconds: expiry_sweep_seconds, worker, notify };
                    let settings = Settings { webhooks: webhooks.settings(), http, sessions, sso };
                    serve(listeners, jobs, settings, &db).await
                }
                Err(err) => Err(err),
            }
        }
        Command::Init { org_name, owner_email, owner_name, json, db } => {
            init(&db, &org_name, &owner_email, &owner_name, json).await
        }
        Command::Token {
            command: TokenCommand::Create { user_email, org_id, name, expires_in, json, db },
        } => create_token(&db, &user_email, org_id, &name, expires_in, json).await,
        Command::Credential {
            command: CredentialCommand::Create { org_id, name, read_only, json, db },
        } => create_credential(&db, org_id, &name, read_only, json).await,
        Command::ScimToken { command: ScimTokenCommand::Create { org_id, name, json, db } } => {
            create_scim_token(&db, org_id, &name, json).await
        }
        Command::Demo { users, db } => run_demo(&db, users).await,
        Command::Migrate { db } => open_service(&db).await.map(|_| {
            tracing::info!("migrations applied");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where the server listens: the application, and optionally `/metrics` on its own.
struct Listeners {
    main: SocketAddr,
    metrics: Option<SocketAddr>,
}

async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))
}

/// The background jobs of `serve`: the sweep, the webhook worker, notifications.
struct Jobs {
    sweep_seconds: u64,
    worker: Option<WorkerConfig>,
    notify: Notify,
}

/// Notifications: links and whether e-mail is on, and the delivery worker's settings.
struct Notify {
    config: NotificationConfig,
    worker: portcullis_notifications::WorkerConfig,
}

/// E-mail notifications (`portcullis serve`).
#[derive(clap::Args, Debug)]
struct MailArgs {
    /// The SMTP server for e-mail notifications: `smtp://host:port` (add `?tls=required` for
    /// STARTTLS) or `smtps://user:pass@host:port`. Without it no e-mail notification is written.
    #[arg(long, env = "PORTCULLIS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of e-mail notifications, e.g. `Portcullis <portcullis@example.com>`.
    #[arg(long, env = "PORTCULLIS_MAIL_FROM", default_value = "Portcullis <portcullis@localhost>")]
    mail_from: String,
}

impl MailArgs {
    fn worker_config(&self) -> portcullis_notifications::WorkerConfig {
        portcullis_notifications::WorkerConfig {
            smtp: self.smtp_url.as_ref().map(|url| portcullis_notifications::SmtpConfig {
                url: url.clone(),
                from: self.mail_from.clone(),
            }),
            ..portcullis_notifications::WorkerConfig::default()
        }
    }
}

/// What `serve` configures the service and the HTTP layer with.
struct Settings {
    webhooks: WebhookSettings,
    http: HttpConfig,
    sessions: SessionConfig,
    sso: SsoSettings,
}

async fn serve(
    listeners: Listeners,
    jobs: Jobs,
    settings: Settings,
    db: &DatabaseArgs,
) -> Result<(), String> {
    let Jobs { sweep_seconds, worker, notify } = jobs;
    let Settings { webhooks, http, sessions, sso } = settings;
    let service = open_service(db)
        .await?
        .with_session_config(sessions)
        .with_webhook_settings(webhooks)
        .with_sso(sso)
        .with_notification_config(notify.config);
    // Target URLs with credentials stored in plain text by an earlier version are encrypted.
    match service.seal_plain_target_urls().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sealed = n, "webhook target URLs with credentials encrypted"),
        Err(err) => return Err(format!("cannot encrypt webhook target URLs: {err}")),
    }
    let listener = bind(listeners.main).await?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics_listener = match listeners.metrics {
        Some(address) => Some(bind(address).await?),
        None => None,
    };

    // One stop signal for the HTTP server and both background jobs: SIGINT/SIGTERM raises it,
    // the server stops accepting and drains, each job finishes the round it is in and returns.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let mut background = tokio::task::JoinSet::new();
    background.spawn(sweep_expired_accesses(
        service.clone(),
        sweep_seconds.max(1),
        stop_requested(stopping.clone()),
    ));
    if let Some(config) = worker {
        let worker = Worker::new(service.clone(), config)?;
        background.spawn(worker.run(stop_requested(stopping.clone())));
    }
    let notifier = portcullis_notifications::Worker::new(service.clone(), notify.worker)?;
    background.spawn(notifier.run(stop_requested(stopping.clone())));

    let state = AppState::new(service, http);
    if let Some(listener) = metrics_listener {
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let metrics = portcullis_api::metrics_router(state.clone());
        let stop = stop_requested(stopping.clone());
        background.spawn(async move {
            if let Err(err) = axum::serve(listener, metrics).with_graceful_shutdown(stop).await {
                tracing::warn!(error = %err, "the metrics listener failed");
            }
        });
        tracing::info!(address = %address, "metrics listening");
    }
    // A fresh database: the console's first-run page (`/setup`) asks for this one-time code.
    let setup_code = match state.service.needs_setup().await {
        Ok(true) => {
            let code = portcullis_web::new_setup_code();
            tracing::warn!(
                setup_code = %code,
                "no organization yet: open /setup in the console and give this one-time setup code"
            );
            Some(code)
        }
        Ok(false) => None,
        Err(err) => return Err(err.to_string()),
    };
    let console = portcullis_web::routes_with_setup(&state, portcullis_web::Setup::new(setup_code));
    let app = portcullis_api::app_with(state.clone(), console);
    tracing::info!(address = %local, "portcullis listening");
    portcullis_api::server::serve(listener, app, stop_requested(stopping)).await;
    // Returning from main would drop the jobs wherever they are; wait for them so that a sweep
    // or a delivery round is never cut between sending and recording.
    tracing::info!("waiting for background jobs to finish");
    while let Some(done) = background.join_next().await {
        if let Err(err) = done {
            tracing::warn!(error = %err, "a background job ended abnormally");
        }
    }
    tracing::info!("portcullis stopped");
    Ok(())
}

/// Resolves once the stop signal is raised (or its sender is gone, which only happens when the
/// process is stopping anyway).
async fn stop_requested(mut stopping: tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Background job: removes expired accesses (each removal is audited) and handles overdue
/// access reviews until `stop` resolves.
/// Only the wait between sweeps is interrupted; a sweep that has started runs to its commit.
async fn sweep_expired_accesses(
    service: Service,
    every_seconds: u64,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(every_seconds));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return,
            _ = interval.tick() => {}
        }
        match service.sweep_expired_accesses().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired accesses removed"),
            Err(err) => tracing::warn!(error = %err, "expiry sweep failed; will retry"),
        }
        // Access reviews past their due date: closed when they asked to be, else reminders due.
        match service.sweep_access_reviews().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(campaigns = n, "overdue access reviews handled"),
            Err(err) => tracing::warn!(error = %err, "access review sweep failed; will retry"),
        }
        // Reminders, digests and due-soon notices.
        match service.sweep_notifications().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "reminders and digests queued"),
            Err(err) => tracing::warn!(error = %err, "notification sweep failed; will retry"),
        }
    }
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining connections");
}

async fn init(
    db: &DatabaseArgs,
    org_name: &str,
    owner_email: &str,
    owner_name: &str,
    json: bool,
) -> Result<(), String> {
    let service = open_service(db).await?;
    let out = service
        .init_organization(org_name, owner_email, owner_name)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        let object = serde_json::json!({
            "organizationId": out.organization_id,
            "ownerUserId": out.owner_user_id,
            "apiKey": out.api_key,
            "apiSecret": out.api_secret,
            "ownerToken": out.owner_token,
        });
        println!("{object}");
    } else {
        println!("Organization created.");
        println!("  organization id: {}", out.organization_id);
        println!("  owner user id:   {}", out.owner_user_id);
        println!("  X-API-KEY:       {}", out.api_key);
        println!("  X-API-SECRET:    {}", out.api_secret);
        println!("  owner token:     {}", out.owner_token);
        println!("Store the secret and the token now: they are shown only once.");
    }
    Ok(())
}

async fn create_token(
    db: &DatabaseArgs,
    email: &str,
    org_id: Option<uuid::Uuid>,
    name: &str,
    expires_in: Option<chrono::Duration>,
    json: bool,
) -> Result<(), String> {
    let service = open_service(db).await?;
    let expires_at = expires_in.map(|d| chrono::Utc::now() + d);
    let (user, issued) = service
        .issue_token_for_email(email, org_id, name, expires_at)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        let object = serde_json::json!({
            "tokenId": issued.token.id,
            "userId": user.id,
            "organizationId": user.org_id,
            "token": issued.value,
            "expiresAt": issued.token.expires_at,
        });
        println!("{object}");
    } else {
        println!("Token created for {} ({}).", user.full_name(), user.email);
        println!("  token:      {}", issued.value);
        match issued.token.expires_at {
            Some(at) => println!("  expires at: {at}"),
            None => println!(
                "  expires:    never (revoke it with DELETE /api/v1/users/{}/Tokens/{})",
                user.id, issued.token.id
            ),
        }
        println!("Store it now: it is shown only once.");
    }
    Ok(())
}

async fn create_credential(
    db: &DatabaseArgs,
    org_id: uuid::Uuid,
    name: &str,
    read_only: bool,
    json: bool,
) -> Result<(), String> {
    let service = open_service(db).await?;
    let level = if read_only {
        portcullis_domain::AccessLevel::ReadOnly
    } else {
        portcullis_domain::AccessLevel::ReadWrite
    };
    let issued = service
        .issue_api_credential_for_org(org_id, name, level)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        let object = serde_json::json!({
            "id": issued.credential.id,
            "organizationId": org_id,
            "apiKey": issued.api_key,
            "apiSecret": issued.api_secret,
            "accessLevel": level.name(),
        });
        println!("{object}");
    } else {
        println!("API credential created for organization {org_id} ({}).", level.name());
        println!("  X-API-KEY:    {}", issued.api_key);
        println!("  X-API-SECRET: {}", issued.api_secret);
        println!("Store the secret now: it is shown only once.");
    }
    Ok(())
}

async fn create_scim_token(
    db: &DatabaseArgs,
    org_id: uuid::Uuid,
    name: &str,
    json: bool,
) -> Result<(), String> {
    let service = open_service(db).await?;
    let issued = service.issue_scim_token_for_org(org_id, name).await.map_err(|e| e.to_string())?;
    if json {
        let object = serde_json::json!({
            "id": issued.token.id,
            "organizationId": org_id,
            "token": issued.value,
        });
        println!("{object}");
    } else {
        println!("SCIM token created for organization {org_id}.");
        println!("  token:    {}", issued.value);
        println!("  base URL: <this server's address>/scim/v2");
        println!("Store it now: it is shown only once.");
    }
    Ok(())
}

async fn run_demo(db: &DatabaseArgs, users: usize) -> Result<(), String> {
    let service = open_service(db).await?;
    let out = demo::fill(&service, users.max(30)).await?;
    println!("Demo organization {} is ready.", out.organization);
    println!(
        "Start the server (portcullis serve) and sign in at http://127.0.0.1:8080/login with:"
    );
    println!("  administrator (Ines Admin): {}", out.admin_token);
    println!("  employee ({}): {}", out.employee_name, out.employee_token);
    println!("The Cakewalk API (/api/v1) with this organization's credential:");
    println!("  X-API-KEY:    {}", out.api_key);
    println!("  X-API-SECRET: {}", out.api_secret);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_lifetime;

    #[test]
    fn lifetimes_parse() {
        assert_eq!(parse_lifetime("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_lifetime("12h"), Ok(chrono::Duration::hours(12)));
        assert_eq!(parse_lifetime("90m"), Ok(chrono::Duration::minutes(90)));
        assert_eq!(parse_lifetime("3600"), Ok(chrono::Duration::seconds(3600)));
        for bad in ["", "d", "0d", "-1d", "5w", "99999999999999999d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
